/**
 * The stack's whole configuration contract: every key a `Pulumi.<stack>.yaml` may set under the
 * `flotilla:` namespace, its default and what is allowed. `loadConfig` validates against it before
 * any resource is registered; `flotilla.schema.json` is generated from it for editors.
 */
import { z } from "zod";
import { bytesPattern, cpuPattern, quantityValue } from "./quantities";

const dnsLabel = z
  .string()
  .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "a DNS label: lower-case letters, digits and '-', starting with a letter, at most 63 characters");
const port = z.number().int().min(1024, "an unprivileged port, 1024 to 65535").max(65535);
const cpu = z.string().regex(cpuPattern, "a CPU quantity such as 100m or 0.5");
const bytes = z.string().regex(bytesPattern, "a byte quantity such as 128Mi or 1Gi");
const duration = z.string().regex(/^[0-9]+(ms|s|m|h|d|w|y)$/, "a duration such as 30s, 15d or 4w");
const cidr = z
  .string()
  .regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:[0-9]|[12]\d|3[0-2])$/, "an IPv4 CIDR such as 10.0.0.0/16");
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name in upper case, such as LOG_LEVEL");

/** Names the platform sets on every service; a service's `env` may not override them. */
export const reservedEnvNames = ["LISTEN_ADDR", "OPS_ADDR", "DEBUG_ADDR", "SHUTDOWN_TIMEOUT", "SERVICE_NAME", "ENVIRONMENT"] as const;

const resourceList = (defaults: { cpu: string; memory: string; ephemeralStorage: string }) =>
  z
    .strictObject({
      /** CPU, in cores or millicores. */
      cpu: cpu.default(defaults.cpu),
      /** Memory, in bytes with a suffix. */
      memory: bytes.default(defaults.memory),
      /** Scratch disk (logs, /tmp), in bytes with a suffix. */
      ephemeralStorage: bytes.default(defaults.ephemeralStorage),
    })
    .prefault({});

export const resourcesSchema = z
  .strictObject({
    requests: resourceList({ cpu: "50m", memory: "32Mi", ephemeralStorage: "16Mi" }),
    limits: resourceList({ cpu: "500m", memory: "128Mi", ephemeralStorage: "64Mi" }),
  })
  .prefault({})
  .superRefine((resources, ctx) => {
    for (const key of ["cpu", "memory", "ephemeralStorage"] as const) {
      const pattern = key === "cpu" ? cpuPattern : bytesPattern;
      // A malformed quantity has its own issue already; it cannot be compared.
      if (!pattern.test(resources.requests[key]) || !pattern.test(resources.limits[key])) {
        continue;
      }
      if (quantityValue(resources.requests[key]) > quantityValue(resources.limits[key])) {
        ctx.addIssue({
          code: "custom",
          path: ["requests", key],
          input: resources.requests[key],
          message: `must not exceed limits.${key} (${resources.limits[key]})`,
        });
      }
    }
  });

const autoscalingSchema = z
  .strictObject({
    /** Fewest replicas the autoscaler keeps. */
    min: z.number().int().min(1).max(1000).default(2),
    /** Most replicas the autoscaler may run. */
    max: z.number().int().min(1).max(1000).default(10),
    /** Average CPU utilisation, as a percentage of requests, that the autoscaler aims for. */
    targetCpuUtilization: z.number().int().min(10).max(100).default(70),
  })
  .refine((a) => a.min <= a.max, { message: "min must not exceed max", path: ["max"] });

const buildSchema = z
  .strictObject({
    /** Build context, relative to the project directory. */
    context: z.string().min(1).default("services"),
    /** Dockerfile, relative to the context. */
    dockerfile: z.string().min(1).default("Dockerfile"),
    /** Stage to build; the last stage when unset. */
    target: z.string().optional(),
    /** Extra build arguments, such as base images for an air-gapped registry. */
    args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a build argument name"), z.string()).default({}),
  })
  .prefault({});

/** An image reference with an optional tag and an optional `@sha256:` digest. */
export const imageReferencePattern =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export const serviceSchema = z.strictObject({
  /** Go main package inside the build context; `./cmd/<service name>` when unset. */
  main: z
    .string()
    .regex(/^\.\/cmd\/[a-z0-9-]+$/, "a main package path such as ./cmd/users")
    .optional(),
  /** How the image is built from source. Ignored when `image` is set. */
  build: buildSchema,
  /** A prebuilt image to deploy instead of building one (CI pipelines often build their own). */
  image: z.string().regex(imageReferencePattern, "an image reference such as registry:5000/users@sha256:<64 hex>").optional(),
  /** Protocol of the public port. */
  protocol: z.enum(["http", "grpc"]).default("http"),
  /** Public port: the API. */
  port: port.default(8080),
  /** Operations port: /healthz, /readyz and /metrics, for the kubelet and Prometheus. */
  opsPort: port.default(8081),
  /** Debug port: pprof, bound to the pod's loopback, reachable only by `kubectl port-forward`. */
  debugPort: port.default(6060),
  /** Fixed replica count. Not allowed together with `autoscaling`. */
  replicas: z.number().int().min(1).max(1000).optional(),
  /** Horizontal autoscaling on CPU; replaces `replicas`. */
  autoscaling: autoscalingSchema.optional(),
  resources: resourcesSchema,
  /** Plain environment variables; secrets do not belong here. */
  env: z.record(envName, z.string()).default({}),
  /** Services this one calls: allowed through the network policy and given as `<NAME>_ADDR`. */
  calls: z.array(dnsLabel).default([]),
  /** Accept traffic on the public port from anywhere, not only from declared callers. */
  expose: z.boolean().default(false),
  /** Seconds the pod keeps serving after it is taken out of its endpoints, before SIGTERM. */
  drainSeconds: z.number().int().min(0).max(60).default(5),
  /** Seconds in-flight requests get to finish after SIGTERM. */
  shutdownTimeoutSeconds: z.number().int().min(1).max(300).default(20),
});

const existingClusterSchema = z.strictObject({
  type: z.literal("existing"),
  /** Path of a kubeconfig file; `$KUBECONFIG` or `~/.kube/config` when unset and `kubeconfig` is unset too. */
  kubeconfigPath: z.string().min(1).optional(),
  /** A whole kubeconfig, which must be set as a secret (`pulumi config set --secret --path cluster.kubeconfig`). */
  kubeconfig: z.string().min(1).optional(),
  /** Context to use; the kubeconfig's current context when unset. */
  context: z.string().min(1).optional(),
});

const eksClusterSchema = z.strictObject({
  type: z.literal("eks"),
  /** Kubernetes minor version. */
  version: z
    .string()
    .regex(/^1\.(3[0-9])$/, "a Kubernetes minor version from 1.30, such as 1.34")
    .default("1.34"),
  /** Address range of the cluster's VPC. */
  vpcCidr: cidr.default("10.0.0.0/16"),
  /** Availability zones to spread subnets and nodes over. */
  availabilityZones: z.number().int().min(2).max(6).default(3),
  /** Whether the API endpoint is reachable from the internet (then only from `publicAccessCidrs`). */
  endpointPublicAccess: z.boolean().default(false),
  publicAccessCidrs: z.array(cidr).default([]),
  nodes: z
    .strictObject({
      instanceTypes: z
        .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as m7i.large"))
        .min(1)
        .default(["m7i.large"]),
      min: z.number().int().min(1).max(100).default(3),
      desired: z.number().int().min(1).max(100).default(3),
      max: z.number().int().min(1).max(100).default(6),
      diskSizeGiB: z.number().int().min(20).max(1000).default(50),
    })
    .prefault({})
    .refine((n) => n.min <= n.desired && n.desired <= n.max, { message: "must satisfy min <= desired <= max", path: ["desired"] }),
});

const ecrRegistrySchema = z.strictObject({
  type: z.literal("ecr"),
  scanOnPush: z.boolean().default(true),
  /** Tagged images kept per repository; older ones expire. */
  keepTaggedImages: z.number().int().min(1).max(1000).default(30),
  /** Days after which untagged images expire. */
  expireUntaggedAfterDays: z.number().int().min(1).max(365).default(7),
});

const externalRegistrySchema = z.strictObject({
  type: z.literal("external"),
  /** Registry host, with port and path prefix where needed, such as localhost:5001 or ghcr.io/acme. */
  server: z.string().regex(/^[a-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)*$/, "a registry address such as localhost:5001 or registry.example.com/team"),
  username: z.string().min(1).optional(),
  /** Must be set as a secret (`pulumi config set --secret --path registry.password`). */
  password: z.string().min(1).optional(),
});

const monitoringSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    scrapeInterval: duration.default("30s"),
    retention: duration.default("15d"),
    /** Persistent volume for Prometheus' data; an emptyDir when unset. */
    storageSize: bytes.optional(),
    alerts: z
      .strictObject({
        /** Percentage of 5xx or failed gRPC calls over 5 minutes that pages. */
        errorRatePercent: z.number().min(0.1).max(100).default(5),
        /** p99 latency in milliseconds over 5 minutes that pages. */
        latencyP99Ms: z.number().int().min(1).max(60000).default(500),
      })
      .prefault({}),
    resources: resourcesSchema,
  })
  .prefault({});

const loggingSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    collector: z.enum(["fluent-bit", "fluentd"]).default("fluent-bit"),
    /** Days an index is kept before it is deleted. */
    retentionDays: z.number().int().min(1).max(365).default(7),
    elasticsearch: z
      .strictObject({
        replicas: z.number().int().min(1).max(9).default(1),
        /** Persistent volume per node; an emptyDir when unset. */
        storageSize: bytes.optional(),
        resources: resourcesSchema,
      })
      .prefault({}),
    kibana: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  })
  .prefault({});

const imagesSchema = z
  .strictObject({
    /** Platform images are built for. */
    platform: z.enum(["linux/amd64", "linux/arm64"]).default("linux/amd64"),
    /** Docker builder: BuildKit, or the classic builder for engines without it (podman's Docker API). */
    builder: z.enum(["buildkit", "classic"]).default("buildkit"),
  })
  .prefault({});

/** The stack configuration's shape, before cross-field checks; keys are the `flotilla:` config keys. */
export const stackConfigObject = z.strictObject({
  /** Which profile this stack is: prod refuses image references without a digest. */
  environment: z.enum(["dev", "staging", "prod"]),
  /** Namespace the services run in. */
  namespace: dnsLabel.default("flotilla"),
  cluster: z.discriminatedUnion("type", [existingClusterSchema, eksClusterSchema]),
  registry: z.discriminatedUnion("type", [ecrRegistrySchema, externalRegistrySchema]),
  images: imagesSchema,
  services: z.record(dnsLabel, serviceSchema).refine((s) => Object.keys(s).length > 0, "at least one service"),
  monitoring: monitoringSchema,
  logging: loggingSchema,
});

export const stackConfigSchema = stackConfigObject.superRefine(checkCrossReferences);

function checkCrossReferences(config: z.output<typeof stackConfigObject>, ctx: z.RefinementCtx): void {
  const names = new Set(Object.keys(config.services));
  for (const [name, service] of Object.entries(config.services)) {
    const at = (...path: (string | number)[]) => ["services", name, ...path];
    service.calls.forEach((callee, i) => {
      if (!names.has(callee)) {
        ctx.addIssue({ code: "custom", path: at("calls", i), input: callee, message: `must name a configured service (${[...names].join(", ")})` });
      } else if (callee === name) {
        ctx.addIssue({ code: "custom", path: at("calls", i), input: callee, message: "a service does not call itself over the network" });
      }
    });
    const ports = { port: service.port, opsPort: service.opsPort, debugPort: service.debugPort };
    const seen = new Map<number, string>();
    for (const [key, value] of Object.entries(ports)) {
      const other = seen.get(value);
      if (other) {
        ctx.addIssue({ code: "custom", path: at(key), input: value, message: `must differ from ${other} (${value})` });
      }
      seen.set(value, key);
    }
    if (service.replicas !== undefined && service.autoscaling !== undefined) {
      ctx.addIssue({ code: "custom", path: at("replicas"), input: service.replicas, message: "set replicas or autoscaling, not both" });
    }
    for (const key of Object.keys(service.env)) {
      if ((reservedEnvNames as readonly string[]).includes(key)) {
        ctx.addIssue({ code: "custom", path: at("env", key), input: key, message: `is set by the platform; reserved: ${reservedEnvNames.join(", ")}` });
      }
    }
    if (config.environment === "prod" && service.image !== undefined && !service.image.includes("@sha256:")) {
      ctx.addIssue({ code: "custom", path: at("image"), input: service.image, message: "prod deploys images by digest: add @sha256:<digest>" });
    }
  }
  if (config.registry.type === "ecr" && config.cluster.type !== "eks") {
    ctx.addIssue({ code: "custom", path: ["registry", "type"], input: "ecr", message: "ecr needs cluster.type eks (the nodes pull with their IAM role)" });
  }
  if (config.cluster.type === "existing" && config.cluster.kubeconfig && config.cluster.kubeconfigPath) {
    ctx.addIssue({ code: "custom", path: ["cluster", "kubeconfig"], input: "<secret>", message: "set kubeconfig or kubeconfigPath, not both" });
  }
}

/** The validated configuration, with every default filled in. */
export type StackConfig = z.output<typeof stackConfigSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type ResourcesConfig = z.output<typeof resourcesSchema>;

/** Key paths whose values must come from Pulumi secrets and are handed on as secret Outputs. */
export const secretPaths = [
  ["registry", "password"],
  ["cluster", "kubeconfig"],
] as const;
