/**
 * The log pipeline as data, built from the services' log contract (logFields.json): Fluent Bit's
 * configuration, Elasticsearch's index template, and the setup requests the logsetup Job sends.
 * Pure functions, tested alone; the Logging component puts them into the cluster.
 */
import logContract from "./logFields.json";

/** The log lines' field that holds their trace's id; the services' latency exemplars use it as their label too. */
export const traceIdField = "trace_id" satisfies keyof (typeof logContract)["fields"];

export interface PipelineSettings {
  /** Namespaces whose containers' logs are collected. */
  readonly namespaces: readonly string[];
  /** `dev`, `prod`…: the data stream's namespace part, `logs-flotilla-<environment>`. */
  readonly environment: string;
  /** Host of Elasticsearch's HTTP Service, such as `logs-es-http.logging.svc`. */
  readonly elasticsearchHost: string;
  /** The user the collector writes as. */
  readonly collectorUser: string;
  /** Where the collector reads the CA that signed Elasticsearch's certificate. */
  readonly caFile: string;
  /** Bound of the filesystem buffer, in Fluent Bit's units (`512M`). */
  readonly bufferSize: string;
  /** Days a log line is kept. */
  readonly retentionDays: number;
  /** Replicas of each backing index: 0 with one node, 1 with more. */
  readonly indexReplicas: number;
}

/** Environment variable holding the collector's password in the Fluent Bit pod. */
export const collectorPasswordEnv = "COLLECTOR_PASSWORD";
/** Where Fluent Bit keeps its buffer and its tail positions on each node. */
export const bufferPath = "/var/fluent-bit/buffer";
/** Name of the parser that reads the services' JSON lines. */
export const serviceParser = "flotilla_json";

/** The data stream the services' logs go to. */
export const dataStream = (environment: string) => `logs-flotilla-${environment}`;
/** The index pattern of every environment's stream, which the collector's role may write to. */
export const dataStreamPattern = "logs-flotilla-*";

/** Fluent Bit's classic configuration sections, as the fluent-bit chart's `config` takes them. */
export function fluentBitConfig(s: PipelineSettings): { service: string; inputs: string; filters: string; outputs: string; customParsers: string } {
  const section = (name: string, entries: [string, string | number][]) => `[${name}]\n${entries.map(([key, value]) => `    ${key} ${value}`).join("\n")}\n`;
  return {
    service: section("SERVICE", [
      ["Daemon", "Off"],
      ["Flush", 1],
      ["Log_Level", "info"],
      ["Parsers_File", "/fluent-bit/etc/parsers.conf"],
      ["Parsers_File", "/fluent-bit/etc/conf/custom_parsers.conf"],
      ["HTTP_Server", "On"],
      ["HTTP_Listen", "0.0.0.0"],
      ["HTTP_Port", 2020],
      ["Health_Check", "On"],
      // Chunks wait on disk, not in memory, while Elasticsearch cannot take them.
      ["storage.path", `${bufferPath}/`],
      ["storage.sync", "normal"],
      ["storage.backlog.mem_limit", "16M"],
      ["storage.max_chunks_up", 64],
    ]),
    inputs: section("INPUT", [
      ["Name", "tail"],
      ["Tag", "kube.*"],
      ["Path", s.namespaces.map((ns) => `/var/log/containers/*_${ns}_*.log`).join(",")],
      ["multiline.parser", "cri"],
      // Positions survive a restart of the pod, so nothing is read twice or skipped.
      ["DB", `${bufferPath}/tail.db`],
      ["storage.type", "filesystem"],
      ["Skip_Long_Lines", "On"],
      ["Refresh_Interval", 5],
    ]),
    filters: section("FILTER", [
      ["Name", "kubernetes"],
      ["Match", "kube.*"],
      // The services' JSON becomes the record's own fields (time, level, msg, request_id, …).
      ["Merge_Log", "On"],
      ["Merge_Parser", serviceParser],
      ["Keep_Log", "Off"],
      ["Labels", "Off"],
      ["Annotations", "Off"],
      ["K8S-Logging.Parser", "Off"],
      ["K8S-Logging.Exclude", "On"],
    ]),
    outputs: section("OUTPUT", [
      ["Name", "es"],
      ["Match", "kube.*"],
      ["Host", s.elasticsearchHost],
      ["Port", 9200],
      ["HTTP_User", s.collectorUser],
      ["HTTP_Passwd", `\${${collectorPasswordEnv}}`],
      ["tls", "On"],
      ["tls.verify", "On"],
      ["tls.ca_file", s.caFile],
      ["Index", dataStream(s.environment)],
      // Data streams take only creates; a retried chunk's lines keep their ids, so they are not doubled.
      ["Write_Operation", "create"],
      ["Generate_ID", "On"],
      ["Suppress_Type_Name", "On"],
      ["Time_Key", "@timestamp"],
      ["Retry_Limit", "no_limits"],
      // Bounds the buffer: when an outage outlasts it, the oldest chunks are dropped first.
      ["storage.total_limit_size", s.bufferSize],
      ["Trace_Error", "On"],
    ]),
    customParsers: section("PARSER", [
      ["Name", serviceParser],
      ["Format", "json"],
      ["Time_Key", logContract.timeKey],
      ["Time_Format", logContract.timeFormat],
      ["Time_Keep", "On"],
    ]),
  };
}

/** The index template of the services' data streams: explicit mappings and the retention. */
export function indexTemplate(s: Pick<PipelineSettings, "retentionDays" | "indexReplicas">): Record<string, unknown> {
  return {
    index_patterns: [dataStreamPattern],
    data_stream: {},
    // Above Elasticsearch's built-in logs-*-* template (priority 100).
    priority: 200,
    template: {
      settings: { number_of_replicas: s.indexReplicas },
      mappings: {
        // Unknown fields of a service's own are kept, but only the contract's are mapped and searchable by type.
        dynamic: "true",
        properties: { "@timestamp": { type: "date" }, ...logContract.fields },
      },
      lifecycle: { data_retention: `${s.retentionDays}d` },
    },
    _meta: { managed_by: "flotilla", description: "Logs of Flotilla services (components/logging/logFields.json)" },
  };
}

/** A request of the logsetup Job (services/internal/logsetup). */
export interface SetupRequest {
  target: "elasticsearch" | "kibana";
  method: "PUT" | "POST";
  path: string;
  body: unknown;
}

/** What the logsetup Job applies: the index template, then Kibana's data view when there is a Kibana. */
export function setupRequests(s: Pick<PipelineSettings, "retentionDays" | "indexReplicas">, withKibana: boolean): SetupRequest[] {
  const template: SetupRequest = { target: "elasticsearch", method: "PUT", path: "/_index_template/flotilla-logs", body: indexTemplate(s) };
  const dataView: SetupRequest = {
    target: "kibana",
    method: "POST",
    path: "/api/data_views/data_view",
    // `override` makes the call idempotent: the same view, replaced.
    body: { override: true, data_view: { id: "flotilla-logs", name: "Flotilla logs", title: dataStreamPattern, timeFieldName: "@timestamp" } },
  };
  return withKibana ? [template, dataView] : [template];
}
