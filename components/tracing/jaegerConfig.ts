/**
 * Jaeger v2's configuration as the Tracing component runs it: OTLP gRPC in, batched into
 * Elasticsearch alone, as a user of its own whose password (and the CA) are files. Apart from the
 * component so that a test can run a real Jaeger on this same configuration, on 127.0.0.1.
 */
import { tracingDefaults as d } from "./defaults";

export interface JaegerSettings {
  /** Elasticsearch's URL. */
  readonly elasticsearchUrl: string;
  readonly username: string;
  readonly passwordFile: string;
  /** The CA certificate that signed Elasticsearch's HTTP certificate; none for plain HTTP. */
  readonly caFile?: string;
  /** Replicas of each of Jaeger's indices. */
  readonly indexReplicas: number;
  /**
   * Where it listens: OTLP gRPC, the query API and UI, health and its own metrics.
   * @default all addresses, on the standard ports
   */
  readonly listen?: {
    readonly host: string;
    readonly otlp: number;
    readonly query: number;
    readonly queryGrpc: number;
    readonly health: number;
    readonly metrics: number;
  };
}

export function jaegerConfig(s: JaegerSettings): Record<string, unknown> {
  const listen = s.listen ?? { host: "0.0.0.0", otlp: d.otlpPort, query: d.queryPort, queryGrpc: 16685, health: 13133, metrics: 8888 };
  const at = (port: number) => `${listen.host}:${port}`;
  const indexOptions = { shards: 1, replicas: s.indexReplicas };
  return {
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] } },
      telemetry: {
        resource: { "service.name": "jaeger" },
        metrics: { level: "detailed", readers: [{ pull: { exporter: { prometheus: { host: listen.host, port: listen.metrics } } } }] },
      },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: at(listen.health) } },
      jaeger_query: { storage: { traces: "primary_store" }, http: { endpoint: at(listen.query) }, grpc: { endpoint: at(listen.queryGrpc) } },
      // Elasticsearch only: the chart's default lists memory first, which Jaeger would pick.
      jaeger_storage: {
        backends: {
          primary_store: {
            elasticsearch: {
              server_urls: [s.elasticsearchUrl],
              // Read again every minute: a new password is taken without a restart.
              auth: { basic: { username: s.username, password_file: s.passwordFile, reload_interval: "1m" } },
              ...(s.caFile ? { tls: { ca_file: s.caFile } } : {}),
              indices: { index_prefix: d.indexPrefix, spans: indexOptions, services: indexOptions, dependencies: indexOptions, sampling: indexOptions },
            },
          },
        },
      },
    },
    receivers: { otlp: { protocols: { grpc: { endpoint: at(listen.otlp) } } } },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: "primary_store" } },
  };
}
