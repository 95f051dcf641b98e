/**
 * The stack's whole configuration contract: every key a `Pulumi.<stack>.yaml` may set under the
 * `flotilla:` namespace, its default and what is allowed. `loadConfig` validates against it before
 * any resource is registered; `flotilla.schema.json` is generated from it for editors.
 */
import { z } from "zod";
import { goServiceDefaults } from "../components/apps/goService";
import { charts } from "../components/charts/charts";
import { defaultDockerfile, imageBuilders } from "../components/image/builders";
import { defaultKubernetesVersion, eksAddons, kubernetesVersions } from "../components/cluster/addonVersions";
import { eksDefaults, nodeArchitecture, vpcCidrProblems } from "../components/cluster/eksParts";
import { ecrDefaults } from "../components/registry/defaults";
import { type AnyFeature, featureNamespaces, featureSecretPaths, type FeatureShape } from "../features/feature";
import { features } from "../features";
import { crossChecksOf } from "./crossChecks";
import { cidr, dnsLabel, envName, imageReferencePattern, port, resourcesSchema, schedulingSchema } from "./parts";

/** The cluster's own namespaces: labelling them "restricted" with a default-deny policy would break cluster DNS. */
const clusterNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

const autoscalingSchema = z
  .strictObject({
    min: z.number().int().min(1).max(1000).default(2).describe("Fewest replicas the autoscaler keeps."),
    max: z.number().int().min(1).max(1000).default(10).describe("Most replicas the autoscaler may run."),
    targetCpuUtilization: z
      .number()
      .int()
      .min(10)
      .max(100)
      .default(70)
      .describe("Average CPU utilisation, as a percentage of requests, that the autoscaler aims for."),
  })
  .refine((a) => a.min <= a.max, { message: "min must not exceed max", path: ["max"] });

export const buildSchema = z
  .strictObject({
    context: z.string().min(1).default("services").describe("Build context, relative to the project directory."),
    dockerfile: z.string().min(1).default(defaultDockerfile).describe("Dockerfile, relative to the context."),
    target: z.string().optional().describe("Stage to build; the last stage when unset."),
    args: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a build argument name")
          .refine((name) => name !== "SERVICE", "SERVICE is the platform's: it names the main package, set with `main`"),
        z.string().min(1, "must not be empty (an empty base image makes an empty FROM)"),
      )
      .default({})
      .describe("Extra build arguments, such as base images for an air-gapped registry."),
  })
  .prefault({});

export const serviceSchema = z.strictObject({
  main: z
    .string()
    .regex(/^\.\/cmd\/[a-z0-9-]+$/, "a main package path such as ./cmd/users")
    .optional()
    .describe("Go main package inside the build context; `./cmd/<service name>` when unset."),
  build: buildSchema.describe("How the image is built from source. Ignored when `image` is set."),
  image: z
    .string()
    .regex(imageReferencePattern, "an image reference such as registry:5000/users@sha256:<64 hex>")
    .optional()
    .describe("A prebuilt image to deploy instead of building one (CI pipelines often build their own)."),
  protocol: z.enum(["http", "grpc"]).default(goServiceDefaults.protocol).describe("Protocol of the public port."),
  port: port.default(goServiceDefaults.port).describe("Public port: the API."),
  opsPort: port.default(goServiceDefaults.opsPort).describe("Operations port: /healthz, /readyz and /metrics, for the kubelet and Prometheus."),
  debugPort: port.default(goServiceDefaults.debugPort).describe("Debug port: pprof, bound to the pod's loopback, reachable only by `kubectl port-forward`."),
  replicas: z.number().int().min(1).max(1000).optional().describe("Fixed replica count. Not allowed together with `autoscaling`."),
  autoscaling: autoscalingSchema.optional().describe("Horizontal autoscaling on CPU; replaces `replicas`."),
  resources: resourcesSchema(goServiceDefaults.resources),
  scheduling: schedulingSchema("the service's pods"),
  env: z.record(envName, z.string()).default({}).describe("Plain environment variables, in a ConfigMap; credential-looking names and values are refused."),
  secretEnv: z
    .record(envName, z.string())
    .default({})
    .describe(
      "Environment variables from a Kubernetes Secret; each value must be set as a secret (`pulumi config set --secret --path services.<name>.secretEnv.<NAME>`).",
    ),
  calls: z.array(dnsLabel).default([]).describe("Services this one calls: allowed through the network policy and given as `<NAME>_ADDR`."),
  expose: z.boolean().default(false).describe("Accept traffic on the public port from anywhere, not only from declared callers."),
  drainSeconds: z
    .number()
    .int()
    .min(0)
    .max(60)
    .default(goServiceDefaults.drainSeconds)
    .describe("Seconds a stopping pod keeps serving, not ready, while it is taken out of its endpoints, before it stops accepting."),
  shutdownTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(300)
    .default(goServiceDefaults.shutdownTimeoutSeconds)
    .describe("Seconds in-flight requests get to finish after SIGTERM."),
  availabilityObjectivePercent: z
    .number()
    .min(50)
    .max(99.999)
    .optional()
    .describe("Availability objective over 30 days, for the burn-rate alerts; `monitoring.availabilityObjectivePercent` when unset."),
});

const existingClusterSchema = z.strictObject({
  type: z.literal("existing"),
  kubeconfigPath: z
    .string()
    .min(1)
    .optional()
    .describe("Path of a kubeconfig file; `$KUBECONFIG` or `~/.kube/config` when unset and `kubeconfig` is unset too."),
  kubeconfig: z
    .string()
    .min(1)
    .optional()
    .describe("A whole kubeconfig, which must be set as a secret (`pulumi config set --secret --path cluster.kubeconfig`)."),
  context: z.string().min(1).optional().describe("Context to use; the kubeconfig's current context when unset."),
});

const eksClusterSchema = z
  .strictObject({
    type: z.literal("eks"),
    version: z
      .enum(kubernetesVersions, { error: `a Kubernetes minor version with pinned add-ons: ${kubernetesVersions.join(", ")}` })
      .default(defaultKubernetesVersion)
      .describe("Kubernetes minor version; add-on versions are pinned for each one allowed."),
    addonVersions: z
      .partialRecord(z.enum(eksAddons), z.string().regex(/^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$/, "an EKS add-on version such as v1.20.1-eksbuild.3"))
      .optional()
      .describe("Add-on versions replacing the pinned ones, such as a newer build to try before Flotilla pins it."),
    vpcCidr: cidr.default(eksDefaults.vpcCidr).describe("Address range of the cluster's VPC."),
    availabilityZones: z.number().int().min(2).max(6).default(eksDefaults.availabilityZones).describe("Availability zones to spread subnets and nodes over."),
    endpointPublicAccess: z.boolean().default(false).describe("Whether the API endpoint is reachable from the internet (then only from `publicAccessCidrs`)."),
    publicAccessCidrs: z
      .array(cidr)
      .default([])
      .describe("Addresses allowed to the public endpoint; required with it, since AWS reads an empty list as everywhere."),
    adminRoleArns: z
      .array(
        z.string().regex(/^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/, "an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin"),
      )
      .default([])
      .describe("IAM roles given cluster-admin through EKS access entries."),
    nodes: z
      .strictObject({
        instanceTypes: z
          .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as m7i.large"))
          .min(1)
          .default([...eksDefaults.nodes.instanceTypes]),
        min: z.number().int().min(1).max(100).default(eksDefaults.nodes.min),
        desired: z.number().int().min(1).max(100).default(eksDefaults.nodes.desired),
        max: z.number().int().min(1).max(100).default(eksDefaults.nodes.max),
        diskSizeGiB: z.number().int().min(20).max(1000).default(eksDefaults.nodes.diskSizeGiB),
      })
      .prefault({})
      .refine((n) => n.min <= n.desired && n.desired <= n.max, { message: "must satisfy min <= desired <= max", path: ["desired"] }),
  })
  .superRefine((eks, ctx) => {
    for (const problem of cidr.safeParse(eks.vpcCidr).success ? vpcCidrProblems(eks.vpcCidr, eks.availabilityZones) : []) {
      ctx.addIssue({ code: "custom", path: ["vpcCidr"], input: eks.vpcCidr, message: problem });
    }
    if (eks.endpointPublicAccess && eks.publicAccessCidrs.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["publicAccessCidrs"],
        input: [],
        message: "must list the addresses allowed to the public endpoint: AWS reads an empty list as everywhere",
      });
    }
    const arch = nodeArchitecture(eks.nodes.instanceTypes);
    if ("mixed" in arch) {
      ctx.addIssue({
        code: "custom",
        path: ["nodes", "instanceTypes"],
        input: eks.nodes.instanceTypes,
        message: `must share one architecture; given ${arch.mixed.join(", ")}`,
      });
    }
  });

const stackReferenceClusterSchema = z.strictObject({
  type: z.literal("stackReference"),
  stack: z
    .string()
    .regex(/^([\w.-]+\/)?[\w.-]+\/[\w.-]+$/, "a stack name such as acme/flotilla-cluster/prod")
    .describe("The cluster stack (`flotilla:scope: cluster`) whose kubeconfig, StorageClass and architecture this stack uses."),
});

const ecrRegistrySchema = z.strictObject({
  type: z.literal("ecr"),
  scanOnPush: z.boolean().default(ecrDefaults.scanOnPush),
  keepTaggedImages: z.number().int().min(1).max(1000).default(ecrDefaults.keepTaggedImages).describe("Tagged images kept per repository; older ones expire."),
  expireUntaggedAfterDays: z.number().int().min(1).max(365).default(ecrDefaults.expireUntaggedAfterDays).describe("Days after which untagged images expire."),
});

const externalRegistrySchema = z.strictObject({
  type: z.literal("external"),
  server: z
    .string()
    .regex(/^[a-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)*$/, "a registry address such as localhost:5001 or registry.example.com/team")
    .describe("Registry host, with port and path prefix where needed, such as localhost:5001 or ghcr.io/acme."),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional().describe("Must be set as a secret (`pulumi config set --secret --path registry.password`)."),
});

const chartsSchema = z
  .strictObject({
    repository: z
      .string()
      .regex(/^(https?|oci):\/\/[^\s]+$/, "an http(s) or oci URL of a Helm repository")
      .optional()
      .describe(
        `A Helm repository mirroring every chart the stack installs (${Object.values(charts)
          .map((c) => `${c.chart} ${c.version}`)
          .join(", ")}).`,
      ),
    directory: z.string().min(1).optional().describe("A directory holding those charts as `<chart>-<version>.tgz`, relative to the project directory."),
    imageRegistry: z
      .string()
      .regex(/^[a-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)*$/, "a registry address such as registry.internal:5000 or registry.internal/mirror")
      .optional()
      .describe(
        "A registry mirroring every image the charts run under its upstream path, such as registry.internal/mirror; the charts' own registries when unset.",
      ),
  })
  .prefault({})
  .refine((c) => c.repository === undefined || c.directory === undefined, { message: "set repository or directory, not both", path: ["directory"] })
  .describe("Where Helm charts come from; their upstream repositories when unset.");

const imagesSchema = z
  .strictObject({
    platform: z
      .enum(["linux/amd64", "linux/arm64"])
      .optional()
      .describe(
        "Platform images are built for; the nodes' when unset: from the instance types (eks), the cluster stack's `architecture` output (stackReference), this machine's (existing, as kind runs on it).",
      ),
    builder: z
      .enum(imageBuilders)
      .default("buildkit")
      .describe(
        "Image builder: BuildKit, or the classic builder for engines without it (podman's Docker API); or `go`, no container engine: this machine's `go build`, laid over an empty base with the Dockerfile's user, ports and entrypoint, and pushed by the registry's API (the fast inner loop).",
      ),
  })
  .prefault({});

/** The stack's own keys that its rules across keys read (config/crossChecks.ts), whatever its features. */
const stackKeys = {
  environment: z.enum(["dev", "staging", "prod"]).describe("Which profile this stack is: prod refuses image references without a digest."),
  cluster: z.discriminatedUnion("type", [existingClusterSchema, eksClusterSchema, stackReferenceClusterSchema]),
  scope: z
    .enum(["all", "cluster"])
    .default("all")
    .describe("`cluster`: deploy only the cluster, for app stacks to reference (`cluster.type: stackReference`); `all`: everything."),
  registry: z.discriminatedUnion("type", [ecrRegistrySchema, externalRegistrySchema]),
  images: imagesSchema,
  services: z.record(dnsLabel, serviceSchema).refine((s) => Object.keys(s).length > 0, "at least one service"),
};
export type StackKeys = z.output<z.ZodObject<typeof stackKeys>>;

/**
 * The contract of a stack made of `list`: the stack's own keys and each feature's config slice.
 * The stack's features (features/index.ts) make the contract below; a test may make another.
 */
export function contractOf<const List extends readonly AnyFeature[]>(list: List) {
  const reserved = [...clusterNamespaces, ...featureNamespaces(list).map((n) => n.name)];
  const slices = Object.fromEntries(list.map((f) => [f.key, f.schema])) as FeatureShape<List>;
  // Keys features add to every service's declaration, each optional there.
  const serviceKeys = Object.fromEntries(list.flatMap((f) => (f.serviceKey ? [[f.serviceKey.key, f.serviceKey.schema.optional()]] : [])));
  const services = z.record(dnsLabel, serviceSchema.extend(serviceKeys)).refine((s) => Object.keys(s).length > 0, "at least one service");
  /** The stack configuration's shape, before cross-field checks; keys are the `flotilla:` config keys. */
  const object = z.strictObject({
    environment: stackKeys.environment,
    namespace: dnsLabel
      .refine((name) => !reserved.includes(name), {
        message: `must not be a namespace the cluster or the stack's features own (${reserved.join(", ")})`,
      })
      .default("flotilla")
      .describe("Namespace the services run in."),
    cluster: stackKeys.cluster,
    scope: stackKeys.scope,
    registry: stackKeys.registry,
    images: stackKeys.images,
    services: services as unknown as typeof stackKeys.services,
    ...slices,
    charts: chartsSchema,
  });
  // Every contract has the stack's own keys; zod cannot see that through a generic list.
  const checks = crossChecksOf(list);
  /** Key paths whose values must come from Pulumi secrets and are handed on only as secret Outputs. */
  const secrets: Readonly<Record<string, readonly string[]>> = {
    registryPassword: ["registry", "password"],
    kubeconfig: ["cluster", "kubeconfig"],
    ...featureSecretPaths(list),
  };
  return { object, schema: object.superRefine((config, ctx) => checks(config as StackKeys, ctx)), secretPaths: secrets, reservedNamespaces: reserved };
}

/** The contract of the stack's features, which `pulumi up` validates against. */
export const stackContract = contractOf(features);
const contract = stackContract;
export const stackConfigObject = contract.object;
export const stackConfigSchema = contract.schema;
/** Namespaces the app's namespace must not be: the cluster's own, and those the features own. */
export const reservedNamespaces: readonly string[] = contract.reservedNamespaces;
/** Key paths whose values must come from Pulumi secrets and are handed on only as secret Outputs. */
export const secretPaths = contract.secretPaths;

/** What reading a config needs of a contract: its schema and its secrets. */
export interface Contract {
  readonly schema: z.ZodType;
  readonly secretPaths: Readonly<Record<string, readonly string[]>>;
}

/** The validated configuration, with every default filled in. */
export type StackConfig = z.output<typeof stackConfigSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
