/**
 * The contract's rules across fields, which no single key's schema can check: references between
 * services, ports, environment collisions, sizes against the nodes and the API server's limits,
 * prod's digests, settings that only make sense together. `stackConfigSchema` runs them after
 * every key has passed its own schema, so each rule sees defaults filled in.
 */
import type { z } from "zod";
import { envProblems, portCollisions } from "../components/apps/goService";
import { imagePlatform, nodeAllocatable, nodeArchitecture } from "../components/cluster/eksParts";
import { defaultDockerfile } from "../components/image/builders";
import type { PodDemand } from "../components/podDemand";
import { bytesProblem, cpuProblem, quantityValue } from "../components/quantities";
import { type AnyFeature, enabledFeatures, pathFrom, sliceOf } from "../features/feature";
import { digestProblem } from "./parts";
import type { StackKeys } from "./schema";

/** The stack's own keys, which every contract has whatever its features. */
type Config = StackKeys;
type Service = Config["services"][string];
type Node = { instanceType: string; cpuCores: number; memoryBytes: number };

/** The rules across keys of a stack made of `list`: the stack's own, then each feature's. */
export const crossChecksOf =
  (list: readonly AnyFeature[]) =>
  (config: Config, ctx: z.RefinementCtx): void => {
    for (const [name, service] of Object.entries(config.services)) {
      checkService(config, name, service, ctx);
    }
    const enabled = new Set(enabledFeatures(list, config).map((f) => f.key));
    for (const feature of list) {
      feature.check?.(sliceOf(config, feature), config, (path, input, message) =>
        ctx.addIssue({ code: "custom", path: pathFrom(feature, path), input, message }),
      );
      for (const needed of enabled.has(feature.key) ? (feature.requires ?? []) : []) {
        if (!enabled.has(needed)) {
          ctx.addIssue({
            code: "custom",
            path: [feature.key, "enabled"],
            input: true,
            message: `needs ${needed} enabled, which it builds on; enable ${needed}, or set ${feature.key}.enabled to false`,
          });
        }
      }
    }
    // What one node of the group can hold, for every pod's requests: known for EKS node groups.
    const biggest = config.cluster.type === "eks" ? largestNode(config.cluster.nodes.instanceTypes) : undefined;
    if (biggest !== undefined) {
      checkPodsFitNodes(podDemands(config, list), biggest, ctx);
    }
    checkPlatform(config, ctx);
  };

/** One service against the others, the nodes, the API server's limits and the environment. */
function checkService(config: Config, name: string, service: Service, ctx: z.RefinementCtx): void {
  const names = new Set(Object.keys(config.services));
  const at = (...path: (string | number)[]) => ["services", name, ...path];
  service.calls.forEach((callee, i) => {
    if (!names.has(callee)) {
      ctx.addIssue({ code: "custom", path: at("calls", i), input: callee, message: `must name a configured service (${[...names].join(", ")})` });
    } else if (callee === name) {
      ctx.addIssue({ code: "custom", path: at("calls", i), input: callee, message: "a service does not call itself over the network" });
    }
  });
  for (const { key, sameAs, value } of portCollisions(service)) {
    ctx.addIssue({ code: "custom", path: at(key), input: value, message: `must differ from ${sameAs} (${value})` });
  }
  if (service.replicas !== undefined && service.autoscaling !== undefined) {
    ctx.addIssue({ code: "custom", path: at("replicas"), input: service.replicas, message: "set replicas or autoscaling, not both" });
  }
  for (const problem of envProblems({ env: service.env, secretEnv: Object.keys(service.secretEnv), calls: service.calls })) {
    ctx.addIssue({
      code: "custom",
      path: problem.at === "calls" ? at("calls", service.calls.indexOf(problem.name)) : at(problem.at, problem.name),
      input: problem.name,
      message: problem.credential
        ? `${problem.message}, set as a secret: pulumi config set --secret --path services.${name}.secretEnv.${problem.name} <value>`
        : problem.message,
    });
  }
  if (service.autoscaling !== undefined && cpuProblem(service.resources.requests.cpu) === undefined && quantityValue(service.resources.requests.cpu) === 0) {
    ctx.addIssue({
      code: "custom",
      path: at("resources", "requests", "cpu"),
      input: service.resources.requests.cpu,
      message: "must be above 0 with autoscaling: utilisation is a share of the request",
    });
  }
  for (const kind of ["requests", "limits"] as const) {
    const memory = service.resources[kind].memory;
    if (bytesProblem(memory) === undefined && quantityValue(memory) === 0) {
      ctx.addIssue({ code: "custom", path: at("resources", kind, "memory"), input: memory, message: "must be above 0: no process runs in no memory" });
    }
  }
  const envBytes = Object.entries(service.env).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
  if (envBytes > configMapLimitBytes) {
    ctx.addIssue({
      code: "custom",
      path: at("env"),
      input: `${envBytes} bytes`,
      message: `holds ${envBytes} bytes; a ConfigMap holds at most 1 MiB (${configMapLimitBytes} bytes): ship large values in the image or a volume`,
    });
  }
  requireDigestInProd(config, service.image, at("image"), ctx);
  if (config.images.builder === "go" && service.image === undefined) {
    // The go builder makes the one Dockerfile's image without it (components/image/goImage.ts):
    // another Dockerfile, a stage or build arguments would be dropped without a word.
    const { dockerfile, target, args } = service.build;
    const dropped = [
      ...(dockerfile === defaultDockerfile ? [] : [`dockerfile ${dockerfile}`]),
      ...(target === undefined ? [] : [`target ${target}`]),
      ...Object.keys(args).map((arg) => `argument ${arg}`),
    ];
    if (dropped.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: at("build"),
        input: service.build,
        message: `images.builder go builds the Go main package without a Dockerfile, so its ${dropped.join(", ")} would not apply: set images.builder to buildkit (or classic), or remove them`,
      });
    }
  }
}

/** The cluster, the registry, the images and the stack's scope together. */
function checkPlatform(config: Config, ctx: z.RefinementCtx): void {
  if (config.cluster.type === "eks") {
    const arch = nodeArchitecture(config.cluster.nodes.instanceTypes);
    if ("architecture" in arch && config.images.platform !== undefined && config.images.platform !== imagePlatform(arch.architecture)) {
      ctx.addIssue({
        code: "custom",
        path: ["images", "platform"],
        input: config.images.platform,
        message: `must be ${imagePlatform(arch.architecture)}, the architecture of cluster.nodes.instanceTypes (${config.cluster.nodes.instanceTypes.join(", ")})`,
      });
    }
  }
  if (config.registry.type === "ecr" && config.cluster.type === "existing") {
    ctx.addIssue({
      code: "custom",
      path: ["registry", "type"],
      input: "ecr",
      message: "ecr needs cluster.type eks or a stackReference to an EKS cluster stack (the nodes pull with their IAM role)",
    });
  }
  if (config.scope === "cluster" && config.cluster.type !== "eks") {
    ctx.addIssue({ code: "custom", path: ["scope"], input: "cluster", message: "a cluster stack makes its cluster: set cluster.type eks" });
  }
  if (config.cluster.type === "existing" && config.cluster.kubeconfig && config.cluster.kubeconfigPath) {
    ctx.addIssue({ code: "custom", path: ["cluster", "kubeconfig"], input: "<secret>", message: "set kubeconfig or kubeconfigPath, not both" });
  }
}

/**
 * Every pod the stack makes, as each part declares it: the services here, each enabled feature in
 * its own folder (features/), its keys taken from its slice.
 */
function podDemands(config: Config, list: readonly AnyFeature[]): PodDemand[] {
  const services = Object.entries(config.services).map(([name, service]) => ({
    pod: `service ${name}`,
    key: ["services", name, "resources", "requests"],
    requests: service.resources.requests,
  }));
  const featurePods = list.flatMap((feature) => {
    const slice = sliceOf(config, feature);
    return feature.enabled(slice, config) ? feature.pods(slice, config).map((pod) => ({ ...pod, key: pathFrom(feature, pod.key) })) : [];
  });
  return [...services, ...featurePods];
}

/**
 * Each pod's requests, with one of every DaemonSet's beside it, against what the largest node
 * type allocates to pods; a refusal names the key that sets the request and says what fits.
 */
function checkPodsFitNodes(pods: readonly PodDemand[], biggest: Node, ctx: z.RefinementCtx): void {
  const resources = [
    { name: "cpu", capacity: biggest.cpuCores, problem: cpuProblem, show: (v: number) => `${v.toFixed(2)} CPU` },
    { name: "memory", capacity: biggest.memoryBytes, problem: bytesProblem, show: (v: number) => `${Math.floor(v / 2 ** 20)}Mi` },
  ] as const;
  const daemons = pods.filter((p) => p.everyNode);
  for (const resource of resources) {
    // A malformed quantity has its own issue already; it cannot be added up.
    if (pods.some((p) => resource.problem(p.requests[resource.name]) !== undefined)) {
      continue;
    }
    const daemonTotal = daemons.reduce((sum, p) => sum + quantityValue(p.requests[resource.name]), 0);
    for (const pod of pods) {
      const request = quantityValue(pod.requests[resource.name]);
      const beside = pod.everyNode ? daemonTotal - request : daemonTotal;
      if (request + beside <= resource.capacity) {
        continue;
      }
      const room = Math.max(0, resource.capacity - beside);
      const node = `the biggest of cluster.nodes.instanceTypes (${biggest.instanceType}) allocates ${resource.show(resource.capacity)} to pods`;
      const daemonsTake = beside > 0 ? `, every node's DaemonSets take ${resource.show(beside)} of it` : "";
      const fits = `${resource.show(room)} is left for one pod`;
      ctx.addIssue({
        code: "custom",
        path: pod.fixed ? [...pod.key] : [...pod.key, resource.name],
        input: pod.requests[resource.name],
        message: pod.fixed
          ? `${pod.pod} requests ${resource.show(request)}, a fixed size, and must fit on a node: ${node}${daemonsTake}; ${fits}. Choose a larger instance type`
          : `must fit on a node: ${node}${daemonsTake}; ${fits}, so ${pod.pod} would stay Pending`,
      });
    }
  }
}

function requireDigestInProd(config: { environment: string }, image: string | undefined, path: (string | number)[], ctx: z.RefinementCtx): void {
  const problem = digestProblem(config.environment, image);
  if (problem !== undefined) {
    ctx.addIssue({ code: "custom", path, input: image, message: problem });
  }
}

/** The most a ConfigMap may hold: etcd's value limit, as the API server enforces it. */
const configMapLimitBytes = 1024 * 1024;

/** The node type with the most allocatable memory among a node group's, when all are known. */
function largestNode(instanceTypes: readonly string[]): Node | undefined {
  const nodes = instanceTypes.map((instanceType) => ({ instanceType, ...nodeAllocatable(instanceType) }));
  if (nodes.some((node) => node.cpuCores === undefined)) {
    return undefined;
  }
  const known = nodes as Node[];
  return {
    instanceType: known.reduce((a, b) => (b.memoryBytes > a.memoryBytes ? b : a)).instanceType,
    cpuCores: Math.max(...known.map((n) => n.cpuCores)),
    memoryBytes: Math.max(...known.map((n) => n.memoryBytes)),
  };
}
