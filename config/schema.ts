/**
 * The stack's whole configuration contract: every key a `Pulumi.<stack>.yaml` may set under the
 * `flotilla:` namespace, its default and what is allowed. `loadConfig` validates against it before
 * any resource is registered; `flotilla.schema.json` is generated from it for editors.
 */
import { z } from "zod";
import type { Resources } from "../components/apps/podSpec";
import { goServiceDefaults } from "../components/apps/goService";
import { charts } from "../components/charts/charts";
import { defaultKubernetesVersion, eksAddons, kubernetesVersions } from "../components/cluster/addonVersions";
import { eksDefaults, nodeArchitecture, vpcCidrProblems } from "../components/cluster/eksParts";
import { ecrDefaults } from "../components/registry/defaults";
import { loggingDefaults } from "../components/logging/defaults";
import { monitoringDefaults } from "../components/monitoring/defaults";
import { prometheusDuration, prometheusDurationProblem, prometheusMilliseconds } from "../components/durations";
import { ruleWindows } from "../components/monitoring/alertRules";
import { bytesProblem, cpuProblem, quantityValue } from "../components/quantities";
import { checkCrossReferences } from "./crossChecks";

const dnsLabel = z
  .string()
  .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "a DNS label: lower-case letters, digits and '-', starting with a letter, at most 63 characters");
const port = z.number().int().min(1024, "an unprivileged port, 1024 to 65535").max(65535);
/** A string that must pass `problem`, whose answer is the issue's message. */
const checked = (problem: (text: string) => string | undefined) =>
  z.string().superRefine((text, ctx) => {
    const message = problem(text);
    if (message !== undefined) {
      ctx.addIssue({ code: "custom", input: text, message });
    }
  });
const cpu = checked(cpuProblem);
const bytes = checked(bytesProblem);
const prometheusDurationKey = checked(prometheusDurationProblem);
/**
 * The scrape interval is also the rules' evaluation interval, and rate() over the shortest window
 * the rules read needs two samples in it; retention must cover the longest window.
 */
const ruleWindowMs = ruleWindows.map((w) => prometheusMilliseconds(w) as number);
const scrapeIntervalMaxMs = Math.min(...ruleWindowMs) / 2;
const retentionMinMs = Math.max(...ruleWindowMs);
const scrapeInterval = prometheusDurationKey.superRefine((text, ctx) => {
  const ms = prometheusMilliseconds(text);
  if (ms !== undefined && (ms <= 0 || ms > scrapeIntervalMaxMs)) {
    ctx.addIssue({
      code: "custom",
      input: text,
      message: `must be above 0 and at most ${prometheusDuration(scrapeIntervalMaxMs)}: the alerts' shortest window (${prometheusDuration(Math.min(...ruleWindowMs))}) needs two samples`,
    });
  }
});
const retention = prometheusDurationKey.superRefine((text, ctx) => {
  const ms = prometheusMilliseconds(text);
  if (ms !== undefined && ms < retentionMinMs) {
    ctx.addIssue({
      code: "custom",
      input: text,
      message: `must be at least ${prometheusDuration(retentionMinMs)}: the slowest burn-rate alert reads that far back`,
    });
  }
});
const cidr = z
  .string()
  .regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\/(?:[0-9]|[12]\d|3[0-2])$/, "an IPv4 CIDR such as 10.0.0.0/16");
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name in upper case, such as LOG_LEVEL");

/**
 * Namespaces the app's namespace must not be: the cluster's own (labelling them "restricted"
 * with a default-deny policy would break cluster DNS), and those the stack's other parts own.
 */
export const reservedNamespaces = [
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  monitoringDefaults.namespace,
  monitoringDefaults.nodeExporterNamespace,
  loggingDefaults.namespace,
  loggingDefaults.agentNamespace,
  loggingDefaults.operatorNamespace,
] as const;

const resourceList = (defaults: { readonly cpu: string; readonly memory: string; readonly ephemeralStorage: string }) =>
  z
    .strictObject({
      cpu: cpu.default(defaults.cpu).describe("CPU, in cores or millicores."),
      memory: bytes.default(defaults.memory).describe("Memory, in bytes with a suffix."),
      ephemeralStorage: bytes.default(defaults.ephemeralStorage).describe("Scratch disk (logs, /tmp), in bytes with a suffix."),
    })
    .prefault({});

/** Requests and limits of a container, with the defaults of the component that runs it. */
export const resourcesSchema = (defaults: Resources) =>
  z
    .strictObject({ requests: resourceList(defaults.requests), limits: resourceList(defaults.limits) })
    .prefault({})
    .superRefine((resources, ctx) => {
      for (const key of ["cpu", "memory", "ephemeralStorage"] as const) {
        const problem = key === "cpu" ? cpuProblem : bytesProblem;
        // A malformed quantity has its own issue already; it cannot be compared.
        if (problem(resources.requests[key]) !== undefined || problem(resources.limits[key]) !== undefined) {
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

/** A label key as Kubernetes allows it: an optional DNS-subdomain prefix, then a name. */
const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    "a label key such as kubernetes.io/arch or pool",
  );
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "a label value: at most 63 letters, digits, '-', '_' or '.'");

const tolerationSchema = z
  .strictObject({
    key: labelKey.optional().describe("The taint's key; every taint's with `operator: Exists` and no key."),
    operator: z.enum(["Equal", "Exists"]).default("Equal"),
    value: labelValue.optional().describe("The taint's value, with `operator: Equal`."),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional().describe("The taint's effect; every effect when unset."),
    tolerationSeconds: z.number().int().min(0).optional().describe("With `effect: NoExecute`: how long a pod stays once the taint appears."),
  })
  .superRefine((t, ctx) => {
    if (t.operator === "Exists" && t.value !== undefined) {
      ctx.addIssue({ code: "custom", path: ["value"], input: t.value, message: "must be unset with operator Exists, which matches any value" });
    }
    if (t.operator === "Equal" && t.key === undefined) {
      ctx.addIssue({ code: "custom", path: ["key"], input: t.key, message: "is required with operator Equal" });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      ctx.addIssue({ code: "custom", path: ["tolerationSeconds"], input: t.tolerationSeconds, message: "applies only with effect NoExecute" });
    }
  });

/** Which nodes a workload's pods may run on (a dedicated node pool, say). */
export const schedulingSchema = (what: string) =>
  z
    .strictObject({
      nodeSelector: z.record(labelKey, labelValue).default({}).describe(`Node labels that ${what} need on their node.`),
      tolerations: z.array(tolerationSchema).default([]).describe(`Taints ${what} tolerate.`),
    })
    .prefault({})
    .describe(`Where ${what} run; any node when unset.`);

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
    dockerfile: z.string().min(1).default("Dockerfile").describe("Dockerfile, relative to the context."),
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

/** An image reference with an optional tag and an optional `@sha256:` digest. */
export const imageReferencePattern =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

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
    .describe("Seconds the pod keeps serving after it is taken out of its endpoints, before SIGTERM."),
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

const monitoringSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Deploy Prometheus, Alertmanager and Grafana, and a ServiceMonitor, rules and a dashboard per service."),
    scrapeInterval: scrapeInterval
      .default(monitoringDefaults.scrapeInterval)
      .describe(`How often Prometheus scrapes and evaluates rules: above 0, at most ${prometheusDuration(scrapeIntervalMaxMs)}.`),
    retention: retention.default(monitoringDefaults.retention).describe(`How long Prometheus keeps samples: at least ${prometheusDuration(retentionMinMs)}.`),
    storageSize: bytes
      .optional()
      .describe(
        "Persistent volume per Prometheus replica on the cluster's default storage class; an emptyDir bounded by the ephemeral-storage limit when unset.",
      ),
    storageClass: z.string().min(1).optional().describe("Storage class of the volumes; the cluster's default when unset."),
    prometheus: z
      .strictObject({
        replicas: z.number().int().min(1).max(5).default(monitoringDefaults.prometheus.replicas).describe("Prometheus replicas, each scraping every target."),
        resources: resourcesSchema(monitoringDefaults.prometheus.resources),
      })
      .prefault({}),
    alertmanager: z
      .strictObject({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .default(monitoringDefaults.alertmanager.replicas)
          .describe("Alertmanager replicas; they gossip so each alert is sent once."),
      })
      .prefault({}),
    grafana: z
      .strictObject({
        adminPassword: z
          .string()
          .min(12, "at least 12 characters")
          .optional()
          .describe("Grafana's admin password; must be set as a secret (`pulumi config set --secret --path monitoring.grafana.adminPassword`)."),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        errorRatePercent: z
          .number()
          .min(0.1)
          .max(100)
          .default(monitoringDefaults.thresholds.errorRatePercent)
          .describe("Percentage of 5xx or failed gRPC calls over 5 minutes that pages."),
        latencyP99Ms: z
          .number()
          .int()
          .min(1)
          .max(60000)
          .default(monitoringDefaults.thresholds.latencyP99Ms)
          .describe("p99 latency in milliseconds over 5 minutes that pages."),
      })
      .prefault({}),
    availabilityObjectivePercent: z
      .number()
      .min(50)
      .max(99.999)
      .default(monitoringDefaults.availabilityObjectivePercent)
      .describe("Default availability objective of every service over 30 days, for the multi-window burn-rate alerts."),
    runbookBaseUrl: z
      .string()
      .min(1)
      .default(monitoringDefaults.runbookBaseUrl)
      .describe("Where alerts' runbook links point: this project's docs/runbooks.md as your team reads it, such as its URL in your repository."),
    scheduling: schedulingSchema("the monitoring pods (node-exporter's too)"),
  })
  .prefault({});

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

const loggingSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Deploy Elasticsearch and Kibana through ECK, and Fluent Bit on every node shipping the services' logs."),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(loggingDefaults.retentionDays)
      .describe("Days a log line is kept before its data stream drops it."),
    collectorPassword: z
      .string()
      .min(16, "at least 16 characters")
      .optional()
      .describe("Password of the collector's own Elasticsearch user; must be set as a secret (`pulumi config set --secret --path logging.collectorPassword`)."),
    setupImage: z
      .string()
      .regex(imageReferencePattern, "an image reference such as registry:5000/logsetup@sha256:<64 hex>")
      .optional()
      .describe("A prebuilt image of services/cmd/logsetup for the setup Job; built from the services' Dockerfile when unset."),
    elasticsearch: z
      .strictObject({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(9)
          .default(loggingDefaults.elasticsearch.replicas)
          .describe("Elasticsearch nodes; more than one spread over zones."),
        storageSize: bytes.optional().describe("Persistent volume per node on the cluster's default storage class; an emptyDir when unset."),
        storageClass: z.string().min(1).optional().describe("Storage class of the volumes; the cluster's default when unset."),
        heap: z
          .string()
          .regex(/^[0-9]+[mg]$/, "a JVM heap size such as 512m or 2g")
          .default(loggingDefaults.elasticsearch.heap)
          .describe("JVM heap of each node: at most half its memory limit."),
        resources: resourcesSchema(loggingDefaults.elasticsearch.resources),
      })
      .prefault({}),
    kibana: z
      .strictObject({ enabled: z.boolean().default(loggingDefaults.kibana.enabled).describe("Run Kibana, with a data view of the services' logs.") })
      .prefault({}),
    validatingWebhook: z
      .boolean()
      .default(loggingDefaults.validatingWebhook)
      .describe("ECK's validating admission webhook; off where the API server cannot reach pods (some private control planes)."),
    scheduling: schedulingSchema("the logging pods (Fluent Bit's too, which then collects from those nodes only)"),
  })
  .prefault({});

const imagesSchema = z
  .strictObject({
    platform: z
      .enum(["linux/amd64", "linux/arm64"])
      .optional()
      .describe(
        "Platform images are built for; the nodes' when unset: from the instance types (eks), the cluster stack's `architecture` output (stackReference), this machine's (existing, as kind runs on it).",
      ),
    builder: z
      .enum(["buildkit", "classic"])
      .default("buildkit")
      .describe("Docker builder: BuildKit, or the classic builder for engines without it (podman's Docker API)."),
  })
  .prefault({});

/** The stack configuration's shape, before cross-field checks; keys are the `flotilla:` config keys. */
export const stackConfigObject = z.strictObject({
  environment: z.enum(["dev", "staging", "prod"]).describe("Which profile this stack is: prod refuses image references without a digest."),
  namespace: dnsLabel
    .refine((name) => !(reservedNamespaces as readonly string[]).includes(name), {
      message: `must not be a namespace the cluster or the stack's monitoring and logging own (${reservedNamespaces.join(", ")})`,
    })
    .default("flotilla")
    .describe("Namespace the services run in."),
  cluster: z.discriminatedUnion("type", [existingClusterSchema, eksClusterSchema, stackReferenceClusterSchema]),
  scope: z
    .enum(["all", "cluster"])
    .default("all")
    .describe("`cluster`: deploy only the cluster, for app stacks to reference (`cluster.type: stackReference`); `all`: everything."),
  registry: z.discriminatedUnion("type", [ecrRegistrySchema, externalRegistrySchema]),
  images: imagesSchema,
  services: z.record(dnsLabel, serviceSchema).refine((s) => Object.keys(s).length > 0, "at least one service"),
  monitoring: monitoringSchema,
  logging: loggingSchema,
  charts: chartsSchema,
});

export const stackConfigSchema = stackConfigObject.superRefine(checkCrossReferences);

/** The validated configuration, with every default filled in. */
export type StackConfig = z.output<typeof stackConfigSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;

/** Key paths whose values must come from Pulumi secrets and are handed on only as secret Outputs. */
export const secretPaths = {
  registryPassword: ["registry", "password"],
  kubeconfig: ["cluster", "kubeconfig"],
  grafanaAdminPassword: ["monitoring", "grafana", "adminPassword"],
  loggingCollectorPassword: ["logging", "collectorPassword"],
} as const;
