/**
 * The Flotilla stack: validated config in, cluster, registry, images and services out. `index.ts`
 * runs it for `pulumi up`; tests and the benchmark run it under mocks with any config.
 */
import { getAvailabilityZones } from "@pulumi/aws/getAvailabilityZones";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GoService } from "./components/apps/goService";
import { EksCluster } from "./components/cluster/eksCluster";
import { imagePlatform, nodeArchitecture } from "./components/cluster/eksParts";
import { ExistingCluster } from "./components/cluster/existingCluster";
import { ReferencedCluster } from "./components/cluster/referencedCluster";
import type { ImageBuilder } from "./components/image/builders";
import { hostPlatform } from "./components/image/contextHash";
import { ServiceImage } from "./components/image/serviceImage";
import { chartPackagePath, type ChartSource } from "./components/charts/charts";
import { AppNamespace } from "./components/namespace/appNamespace";
import { Registry } from "./components/registry/registry";
import { ConfigError } from "./config/errors";
import { configNamespace, type LoadedConfig } from "./config/load";
import { buildSchema, type ServiceConfig, type StackConfig } from "./config/schema";
import { features } from "./features";
import { type AnyFeature, type FeatureContext, type FeatureDeployment, enabledFeatures, servicePathsOf, sliceOf } from "./features/feature";

export interface StackOutputs {
  readonly namespace: pulumi.Output<string>;
  /** Per service: DNS name inside the namespace, public port and the image it runs. */
  readonly services: Record<string, { host: pulumi.Output<string>; port: pulumi.Output<number>; image: pulumi.Output<string> }>;
  /** A kubeconfig for the EKS cluster, when the stack made one; secret. */
  readonly kubeconfig?: pulumi.Output<string>;
  /** What app stacks read through a StackReference, when the stack made an EKS cluster. */
  readonly clusterName?: pulumi.Output<string>;
  readonly storageClass?: pulumi.Output<string>;
  readonly architecture?: string;
  /**
   * Each enabled feature's outputs under its key (`monitoring`: prometheusService, grafanaService;
   * `logging`: elasticsearchService, kibanaService), for `kubectl port-forward`.
   */
  readonly [feature: string]: unknown;
}

/**
 * Registers the whole stack. `projectDir` anchors the services' build contexts, so the program
 * builds the same images whatever directory it is started from. `list` is the stack's features.
 */
export function deployStack({ config, secrets, secretEnv }: LoadedConfig, projectDir: string, list: readonly AnyFeature[] = features): StackOutputs {
  checkSources(config, projectDir, list);
  const stack = pulumi.getStack();
  const protect = protectedIn(config);
  const cluster = createCluster(config, secrets.kubeconfig, protect);
  const kubernetes = { provider: cluster.provider };
  const platform = imagesPlatform(config, cluster);
  const enabled = enabledFeatures(list, config);

  const namespace = new AppNamespace(config.namespace, { namespaceName: config.namespace }, kubernetes);
  const featureImages = enabled.flatMap((feature) => feature.images?.(sliceOf(config, feature)) ?? []);
  const toBuild = [
    ...Object.keys(config.services).filter((name) => config.services[name]?.image === undefined),
    ...featureImages.filter((image) => image.prebuilt === undefined).map((image) => image.name),
  ];
  const registry = new Registry(`${stack}-images`, {
    type: config.registry.type,
    repositories: toBuild,
    prefix: `flotilla-${stack}`,
    protect,
    ...(config.registry.type === "ecr"
      ? { ecr: config.registry }
      : { server: config.registry.server, username: config.registry.username, password: secrets.registryPassword }),
  });
  // A feature's images are built like a service's, from the same Dockerfile and its defaults.
  const imageOf = (name: string) => {
    const image = featureImages.find((i) => i.name === name);
    if (image === undefined) {
      throw new Error(`a feature asked for image ${name}, which no feature declares in images()`);
    }
    return new ServiceImage(name, imageArgs(name, { image: image.prebuilt, build: buildSchema.parse({}) }, config, registry, projectDir, platform)).imageRef;
  };

  const paths = servicePathsOf(list, config);
  const context: FeatureContext = {
    environment: config.environment,
    stack: config,
    scrapers: paths.opsIngressFrom,
    appNamespace: config.namespace,
    chartSource: chartSourceOf(config, projectDir),
    secret: (name) => secrets[name] as pulumi.Output<string>,
    hasSecret: (name) => secrets[name] !== undefined,
    image: imageOf,
    elasticsearchClients: enabled.flatMap((feature) =>
      (feature.elasticsearchClients?.(sliceOf(config, feature), config) ?? [])
        .filter((client) => secrets[client.passwordSecret] !== undefined)
        .map(({ passwordSecret, ...client }) => ({
          ...client,
          password: secrets[passwordSecret] as pulumi.Output<string>,
        })),
    ),
    elasticsearch: () => deployed.find((d) => d.elasticsearch !== undefined)?.elasticsearch,
    monitoring: () => deployed.find((d) => d.monitoring !== undefined)?.monitoring,
    logs: () => deployed.find((d) => d.logs !== undefined)?.logs,
    traceStore: enabled.map((feature) => feature.traceStore?.(sliceOf(config, feature))).find((store) => store !== undefined),
    opts: kubernetes,
    eksClusterName: cluster instanceof EksCluster || cluster instanceof ReferencedCluster ? cluster.clusterName : undefined,
    protect,
  };

  const serviceNames = Object.keys(config.services);
  const callersOf = (name: string) => serviceNames.filter((other) => config.services[other]?.calls.includes(name));
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, service]) => {
      const image = new ServiceImage(name, imageArgs(name, service, config, registry, projectDir, platform));
      const additions = enabled.map(
        (feature) =>
          feature.forService?.(sliceOf(config, feature), { name, config: service, namespace: config.namespace, environment: config.environment }) ?? {},
      );
      const workload = new GoService(
        name,
        {
          namespace: namespace.name,
          image: image.imageRef,
          environment: config.environment,
          protocol: service.protocol,
          port: service.port,
          opsPort: service.opsPort,
          debugPort: service.debugPort,
          replicas: service.replicas,
          autoscaling: service.autoscaling,
          resources: service.resources,
          scheduling: service.scheduling,
          env: Object.assign({}, service.env, ...additions.map((a) => a.env ?? {})),
          secretEnv: secretEnv[name],
          calls: service.calls.map((callee) => ({ name: callee, port: (config.services[callee] as ServiceConfig).port })),
          callers: service.expose ? "anyone" : callersOf(name),
          opsIngressFrom: paths.opsIngressFrom,
          egress: [...paths.egress, ...additions.flatMap((a) => a.egress ?? [])],
          secretKeyEnv: additions.flatMap((a) => a.secretKeyEnv ?? []),
          drainSeconds: service.drainSeconds,
          shutdownTimeoutSeconds: service.shutdownTimeoutSeconds,
        },
        kubernetes,
      );
      return [name, { service, workload }] as const;
    }),
  );

  // In the list's order, each feature seeing what those before it offer (context.elasticsearch).
  const deployed: (FeatureDeployment & { key: string })[] = [];
  for (const feature of enabled) {
    deployed.push({ key: feature.key, ...feature.deploy(sliceOf(config, feature), context) });
  }
  for (const [name, { service, workload }] of Object.entries(services)) {
    for (const feature of deployed) {
      feature.addToService?.({
        name,
        config: service,
        namespace: namespace.name,
        protocol: service.protocol,
        availabilityObjectivePercent: service.availabilityObjectivePercent,
        workload,
      });
    }
  }

  return {
    namespace: namespace.name,
    services: Object.fromEntries(
      Object.entries(services).map(([name, { workload }]) => [name, { host: workload.serviceName, port: workload.port, image: workload.image }]),
    ),
    ...clusterOutputs(cluster),
    ...Object.fromEntries(deployed.map((feature) => [feature.key, feature.outputs])),
  };
}

/** The program: the cluster stack alone (`flotilla:scope: cluster`) or the whole stack. */
export async function deploy(loaded: LoadedConfig, projectDir: string, list: readonly AnyFeature[] = features): Promise<Partial<StackOutputs>> {
  await checkRegion(loaded.config);
  return loaded.config.scope === "cluster" ? deployCluster(loaded) : deployStack(loaded, projectDir, list);
}

/**
 * Refuses, before anything is registered, an EKS cluster spread over more availability zones
 * than its region has: AWS is asked first (an invoke registers nothing).
 */
async function checkRegion(config: StackConfig): Promise<void> {
  if (config.cluster.type !== "eks") {
    return;
  }
  const { names } = await getAvailabilityZones({ state: "available" });
  if (names.length < config.cluster.availabilityZones) {
    throw new ConfigError([
      `${configNamespace}:cluster.availabilityZones: the region has ${names.length} available zones (${names.join(", ")}); ${config.cluster.availabilityZones} were asked for`,
    ]);
  }
}

/**
 * The cluster stack (`flotilla:scope: cluster`): the EKS cluster alone, and the outputs app stacks
 * read through `cluster.type: stackReference`.
 */
export function deployCluster({ config }: LoadedConfig): Pick<StackOutputs, "kubeconfig" | "clusterName" | "storageClass" | "architecture"> {
  if (config.cluster.type !== "eks") {
    throw new ConfigError([`${configNamespace}:scope: a cluster stack makes its cluster: set cluster.type eks`]);
  }
  return clusterOutputs(new EksCluster(pulumi.getStack(), { ...config.cluster, protect: protectedIn(config) }));
}

/**
 * Prod's stateful pieces (the cluster, its KMS key, the image repositories) are protected: a
 * `pulumi destroy` refuses them until `pulumi state unprotect` says it is meant.
 */
const protectedIn = (config: StackConfig) => config.environment === "prod";

function clusterOutputs(cluster: { provider: k8s.Provider }): Pick<StackOutputs, "kubeconfig" | "clusterName" | "storageClass" | "architecture"> {
  return cluster instanceof EksCluster
    ? { kubeconfig: cluster.kubeconfig, clusterName: cluster.clusterName, storageClass: cluster.storageClass, architecture: cluster.architecture }
    : {};
}

/** Where the stack's charts come from; a chart directory is relative to the project. */
function chartSourceOf(config: StackConfig, projectDir: string): ChartSource {
  const { repository, directory, imageRegistry } = config.charts;
  return {
    ...(directory !== undefined ? { directory: path.resolve(projectDir, directory) } : repository !== undefined ? { repository } : {}),
    ...(imageRegistry !== undefined ? { imageRegistry } : {}),
  };
}

/**
 * Refuses, before anything is registered, a service whose build context, Dockerfile or main
 * package is missing, so a typo fails the preview instead of half an update.
 */
export function checkSources(config: StackConfig, projectDir: string, list: readonly AnyFeature[] = features): void {
  const problems: string[] = Object.entries(config.services).flatMap(([name, service]) => {
    if (service.image !== undefined) {
      return [];
    }
    const key = `${configNamespace}:services.${name}`;
    const context = path.resolve(projectDir, service.build.context);
    const main = mainPackage(name, service);
    const missing: [string, string, string][] = [
      [`${key}.build.context`, context, "a directory"],
      [`${key}.build.dockerfile`, path.resolve(context, service.build.dockerfile), "a file"],
      [`${key}.main`, path.resolve(context, main, "main.go"), "a Go main package"],
    ];
    return missing
      .filter(([, file, kind]) => !isKind(file, kind === "a directory" ? "directory" : "file"))
      .map(([at, file, kind]) => `${at}: ${file} is not ${kind}`);
  });
  const building =
    Object.values(config.services).some((service) => service.image === undefined) ||
    enabledFeatures(list, config).some((feature) => (feature.images?.(sliceOf(config, feature)) ?? []).some((i) => i.prebuilt === undefined));
  const platform = knownPlatform(config);
  if (building && config.images.builder === "classic" && platform !== undefined && platform !== hostPlatform()) {
    problems.push(classicPlatformProblem(platform));
  }
  if (config.cluster.type === "existing" && config.cluster.kubeconfigPath !== undefined) {
    const file = path.resolve(projectDir, config.cluster.kubeconfigPath.replace(/^~(?=\/)/, os.homedir()));
    if (!isKind(file, "file")) {
      problems.push(`${configNamespace}:cluster.kubeconfigPath: ${file} is not a file`);
    }
  }
  if (config.charts.directory !== undefined) {
    const directory = path.resolve(projectDir, config.charts.directory);
    const installed = enabledFeatures(list, config).flatMap((feature) => feature.charts?.(sliceOf(config, feature), config) ?? []);
    for (const ref of installed) {
      if (!isKind(chartPackagePath(ref, directory), "file")) {
        problems.push(`${configNamespace}:charts.directory: ${chartPackagePath(ref, directory)} is missing; it must hold every chart the stack installs`);
      }
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
}

/**
 * The platform images are built for when it is known before anything is registered: the one
 * configured, else the nodes': an EKS node group's from its instance types, this machine's for an
 * existing cluster (kind runs here). A referenced cluster's comes from its stack's outputs.
 */
export function knownPlatform(config: StackConfig): string | undefined {
  if (config.images.platform !== undefined) {
    return config.images.platform;
  }
  if (config.cluster.type === "eks") {
    const arch = nodeArchitecture(config.cluster.nodes.instanceTypes);
    return "architecture" in arch ? imagePlatform(arch.architecture) : undefined;
  }
  return config.cluster.type === "existing" ? hostPlatform() : undefined;
}

/** The images' platform: known now, or the referenced cluster stack's nodes'. */
function imagesPlatform(config: StackConfig, cluster: { provider: k8s.Provider }): pulumi.Input<string> {
  const known = knownPlatform(config);
  if (known !== undefined || !(cluster instanceof ReferencedCluster)) {
    return known ?? hostPlatform();
  }
  const { stack } = config.cluster as { stack: string };
  return cluster.architecture.apply((architecture) => referencedPlatform(architecture, config.images.builder, stack));
}

/**
 * The image platform for a cluster stack's nodes, known only once its outputs are read: a build
 * the classic builder cannot make fails the preview there, naming the cluster stack.
 */
export function referencedPlatform(architecture: string, builder: ImageBuilder, clusterStack: string): string {
  const platform = imagePlatform(architecture === "arm64" ? "arm64" : "x86_64");
  if (builder === "classic" && platform !== hostPlatform()) {
    throw new ConfigError([`${classicPlatformProblem(platform)} (the nodes of cluster stack ${clusterStack} are ${architecture})`]);
  }
  return platform;
}

function classicPlatformProblem(platform: string): string {
  return `${configNamespace}:images.platform: the classic builder builds only this machine's platform (${hostPlatform()}), not ${platform}: use images.builder buildkit, or prebuilt images`;
}

function isKind(file: string, kind: "file" | "directory"): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return kind === "file" ? stat?.isFile() === true : stat?.isDirectory() === true;
}

function createCluster(config: StackConfig, kubeconfig: pulumi.Output<string> | undefined, protect: boolean): { provider: k8s.Provider } {
  const stack = pulumi.getStack();
  if (config.cluster.type === "eks") {
    return new EksCluster(stack, { ...config.cluster, protect });
  }
  if (config.cluster.type === "stackReference") {
    return new ReferencedCluster(stack, { stack: config.cluster.stack });
  }
  return new ExistingCluster(stack, { kubeconfig, kubeconfigPath: config.cluster.kubeconfigPath, context: config.cluster.context });
}

/** A service's Go main package: `main`, or `./cmd/<name>`. */
const mainPackage = (name: string, service: Pick<ServiceConfig, "main">) => service.main ?? `./cmd/${name}`;

/** What an image is made from: a prebuilt reference, or a build of `./cmd/<name>` (or `main`). */
type ImageSource = Pick<ServiceConfig, "image" | "main"> & { build: Pick<ServiceConfig["build"], "context" | "dockerfile" | "args"> & { target?: string } };

function imageArgs(name: string, service: ImageSource, config: StackConfig, registry: Registry, projectDir: string, platform: pulumi.Input<string>) {
  if (service.image !== undefined) {
    return { prebuilt: service.image, requireDigest: config.environment === "prod" };
  }
  const main = mainPackage(name, service);
  return {
    repository: registry.repositoryUrls[name] as pulumi.Output<string>,
    credentials: registry.credentials,
    build: {
      context: path.resolve(projectDir, service.build.context),
      dockerfile: service.build.dockerfile,
      target: service.build.target,
      // The one Dockerfile builds any service: SERVICE names its main package.
      args: { SERVICE: main.slice("./cmd/".length), ...service.build.args },
      // Only what that package compiles from reaches its build, so another service's change rebuilds nothing here.
      goMainPackage: main,
      stagingDir: path.join(projectDir, ".flotilla", "contexts", name),
      platform,
      builder: config.images.builder,
    },
  };
}
