/**
 * Defaults of the Tracing component, written once: the component falls back on them and the
 * tracing feature's schema reads them for its own defaults and documentation.
 */
import { traceIdField } from "../logging/pipeline";

/** Prefix of Jaeger's indices in the logging feature's Elasticsearch: `flotilla-jaeger-span-<day>`. */
const indexPrefix = "flotilla";

export const tracingDefaults = {
  /** The collector and Jaeger; "restricted", closed by default. */
  namespace: "tracing",
  /** Share of the traces that start at a service (the gateway) that are kept, per environment; a caller's decision is followed. */
  samplingRatio: (environment: string) => (environment === "prod" ? 0.1 : 1),
  /** The OpenTelemetry Collector's OTLP gRPC port, where the services send their spans. */
  otlpPort: 4317,
  /** Jaeger's query API and UI. */
  queryPort: 16686,
  /** Uid of Jaeger's Grafana data source, for links to it. */
  grafanaDatasourceUid: "jaeger",
  traceIdField,
  /** The collector's own metrics, for Prometheus. */
  collectorMetricsPort: 8888,
  /** Whole days a day's traces are kept after it ends, per environment: Jaeger's daily indices are then deleted. */
  retentionDays: (environment: string) => (environment === "prod" ? 7 : 3),
  indexPrefix,
  /** Jaeger's daily indices, which its Elasticsearch role reaches and the expiry deletes. */
  jaegerIndices: `${indexPrefix}-jaeger-*`,
  /** Jaeger's Elasticsearch user, and the role that limits it to its own indices. */
  elasticsearchUser: "flotilla-jaeger",
  elasticsearchRole: "flotilla_trace_writer",
  collector: {
    replicas: (environment: string) => (environment === "prod" ? 2 : 1),
    resources: {
      requests: { cpu: "50m", memory: "96Mi", ephemeralStorage: "16Mi" },
      limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "64Mi" },
    },
  },
  jaeger: {
    resources: {
      requests: { cpu: "50m", memory: "128Mi", ephemeralStorage: "16Mi" },
      limits: { cpu: "500m", memory: "512Mi", ephemeralStorage: "64Mi" },
    },
  },
} as const;
