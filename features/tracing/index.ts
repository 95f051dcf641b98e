/**
 * Tracing as a feature: the OpenTelemetry Collector and Jaeger v2 (the Tracing component), Jaeger
 * storing traces in the logging feature's Elasticsearch as a user of its own, and every service
 * pointed at the collector with its environment's sampling ratio (the OTEL_* variables the
 * services' platform reads, services/internal/platform/tracing.go). Off, nothing of it deploys
 * and the services export nothing.
 */
import { z } from "zod";
import { charts } from "../../components/charts/charts";
import { tracingDefaults as d } from "../../components/tracing/defaults";
import { collectorEndpoint, collectorPodLabels, jaegerPodLabels, Tracing } from "../../components/tracing/tracing";
import { podRequests } from "../../components/podDemand";
import { apartSchedulingSchema, resourcesSchema, schedulingSchema } from "../../config/parts";
import { defineFeature } from "../feature";

/** The variables a service gets; the feature refuses a service that sets one itself. */
const variables = {
  endpoint: "OTEL_EXPORTER_OTLP_ENDPOINT",
  sampler: "OTEL_TRACES_SAMPLER",
  samplerArg: "OTEL_TRACES_SAMPLER_ARG",
  resource: "OTEL_RESOURCE_ATTRIBUTES",
} as const;

const tracingSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Deploy the OpenTelemetry Collector and Jaeger, and send the services' spans to them."),
    samplingRatio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Share of the traces a service starts that are kept (a caller's decision is followed): 1 in dev, 0.1 in prod when unset."),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe("Whole days a day's traces are kept after it ends, before a daily job deletes them: 3 in dev, 7 in prod when unset."),
    storagePassword: z
      .string()
      .min(16, "at least 16 characters")
      .optional()
      .describe("Password of Jaeger's own Elasticsearch user; must be set as a secret (`pulumi config set --secret --path tracing.storagePassword`)."),
    collector: z
      .strictObject({
        replicas: z.number().int().min(1).max(10).optional().describe("Collector replicas: 2 in prod, 1 elsewhere when unset."),
        resources: resourcesSchema(d.collector.resources),
        scheduling: apartSchedulingSchema("the collector", "beside the services that send to it, Jaeger on nodes of its own"),
      })
      .prefault({}),
    jaeger: z.strictObject({ resources: resourcesSchema(d.jaeger.resources) }).prefault({}),
    scheduling: schedulingSchema("the collector and Jaeger"),
  })
  .prefault({})
  .describe("Traces: the OpenTelemetry Collector and Jaeger, on the logging feature's Elasticsearch.");
type TracingSlice = z.output<typeof tracingSchema>;

const collectorReplicas = (slice: TracingSlice, environment: string) => slice.collector.replicas ?? d.collector.replicas(environment);

export const tracingFeature = defineFeature({
  key: "tracing",
  schema: tracingSchema,
  charts: () => [charts.otelCollector, charts.jaeger],
  namespaces: [{ name: d.namespace, podSecurity: "restricted", why: "the OpenTelemetry Collector and Jaeger, closed by default" }],
  secrets: { tracingStoragePassword: ["storagePassword"] },
  // Jaeger keeps its traces in the Elasticsearch that logging runs.
  requires: ["logging"],
  enabled: (slice) => slice.enabled,
  traceStore: () => ({ grafanaDatasourceUid: d.grafanaDatasourceUid, traceIdField: d.traceIdField }),
  check(slice, stack, report) {
    if (slice.enabled && slice.storagePassword === undefined) {
      report(
        ["storagePassword"],
        undefined,
        'is required while tracing is enabled: pulumi config set --secret --path tracing.storagePassword "$(openssl rand -base64 24)"',
      );
    }
    for (const [name, service] of slice.enabled ? Object.entries(stack.services) : []) {
      const own = (service.env ?? {}) as Record<string, unknown>;
      for (const variable of Object.values(variables).filter((v) => v in own)) {
        report(["services", name, "env", variable], undefined, "is set by the tracing feature (tracing.samplingRatio); remove it here");
      }
    }
  },
  pods: (slice) => [
    { pod: "the OpenTelemetry Collector", key: ["collector", "resources", "requests"], requests: podRequests(slice.collector.resources.requests) },
    { pod: "Jaeger", key: ["jaeger", "resources", "requests"], requests: podRequests(slice.jaeger.resources.requests) },
  ],
  servicePaths: () => ({ egress: [{ namespace: d.namespace, podLabels: collectorPodLabels, port: d.otlpPort }] }),
  forService: (slice, { namespace, environment }) => ({
    env: {
      [variables.endpoint]: collectorEndpoint,
      [variables.sampler]: "parentbased_traceidratio",
      [variables.samplerArg]: String(slice.samplingRatio ?? d.samplingRatio(environment)),
      [variables.resource]: `k8s.namespace.name=${namespace}`,
    },
  }),
  elasticsearchClients: (slice, stack) => [
    {
      user: d.elasticsearchUser,
      passwordSecret: "tracingStoragePassword",
      role: d.elasticsearchRole,
      // Jaeger checks the cluster's version and writes its own index templates at start.
      cluster: ["monitor", "manage_index_templates"],
      // delete_index for the expiry, which signs in as Jaeger's user: its own indices only.
      indices: [{ names: [d.jaegerIndices], privileges: ["create_index", "write", "read", "view_index_metadata", "delete_index"] }],
      namespace: d.namespace,
      podLabels: jaegerPodLabels,
      expiry: { indices: d.jaegerIndices, afterDays: slice.retentionDays ?? d.retentionDays(stack.environment) },
    },
  ],
  deploy(slice, context) {
    const elasticsearch = context.elasticsearch();
    if (elasticsearch === undefined) {
      throw new Error("tracing needs the Elasticsearch of the logging feature, deployed before it (features/index.ts)");
    }
    const monitoring = context.monitoring();
    const logs = context.logs();
    const component = new Tracing(
      "tracing",
      {
        appNamespaces: [context.appNamespace],
        storage: {
          url: elasticsearch.url,
          caCertificate: elasticsearch.caCertificate,
          namespace: elasticsearch.namespace,
          podLabels: elasticsearch.podLabels,
          username: d.elasticsearchUser,
          password: context.secret("tracingStoragePassword"),
          indexReplicas: elasticsearch.indexReplicas,
        },
        scrapers: context.scrapers,
        collectorReplicas: collectorReplicas(slice, context.environment),
        collectorResources: slice.collector.resources,
        jaegerResources: slice.jaeger.resources,
        chartSource: context.chartSource,
        scheduling: slice.scheduling,
        collectorScheduling: slice.collector.scheduling,
        ...(monitoring ? { monitoring: { ...monitoring, tracesToLogs: logs?.tracesToLogs } } : {}),
      },
      context.opts,
    );
    return { outputs: { namespace: component.namespace, collectorEndpoint: component.collectorEndpoint, queryService: component.queryService } };
  },
});
