/**
 * The services' logs as a Grafana data source, with the links that tie them to traces: a log
 * line's trace id opens its trace, and the trace data source's own link back (trace to logs)
 * searches this one. Grafana reads Elasticsearch as a user of its own that may only read the
 * services' data streams.
 */
import type logContract from "./logFields.json";
import { dataStreamPattern } from "./pipeline";

/** The log lines' field that holds their trace's id. */
const traceIdField: keyof (typeof logContract)["fields"] = "trace_id";

/** Uid of the logs' Grafana data source, for links to it. */
export const logsDatasourceUid = "flotilla-logs";

/** Grafana's Elasticsearch user, and the role that limits it to reading the services' logs. */
export const grafanaReader = {
  user: "flotilla-grafana",
  role: "flotilla_log_reader",
  cluster: ["monitor"],
  indices: [{ names: [dataStreamPattern], privileges: ["read", "view_index_metadata"] }],
} as const;

export interface LogsDatasourceSettings {
  /** Elasticsearch's in-cluster HTTPS URL. */
  readonly url: string;
  /** PEM certificate of the CA that signed Elasticsearch's HTTP certificate. */
  readonly caCertificate: string;
  readonly password: string;
  /** The trace data source a log line's trace id opens, and the field that holds the id. */
  readonly traces?: { readonly datasourceUid: string; readonly traceIdField: string };
}

/** Grafana's provisioning file for the logs' data source, in JSON (which is YAML too); it holds the password. */
export function logsDatasource(s: LogsDatasourceSettings): string {
  type Field = keyof (typeof logContract)["fields"];
  return JSON.stringify({
    apiVersion: 1,
    datasources: [
      {
        name: "Logs",
        type: "elasticsearch",
        uid: logsDatasourceUid,
        access: "proxy",
        url: s.url,
        basicAuth: true,
        basicAuthUser: grafanaReader.user,
        editable: false,
        jsonData: {
          index: dataStreamPattern,
          // The collector's time field (pipeline.ts), and the services' own fields (logFields.json).
          timeField: "@timestamp",
          logMessageField: "msg" satisfies Field,
          logLevelField: "level" satisfies Field,
          tlsAuthWithCACert: true,
          ...(s.traces
            ? { dataLinks: [{ field: s.traces.traceIdField, url: "${__value.raw}", datasourceUid: s.traces.datasourceUid, urlDisplayLabel: "Trace" }] }
            : {}),
        },
        secureJsonData: { basicAuthPassword: s.password, tlsCACert: s.caCertificate },
      },
    ],
  });
}

/**
 * What a trace data source adds to link a trace to its log lines here (Grafana's
 * `tracesToLogsV2`): a search for the trace's id in its field, around the trace's time.
 */
export function tracesToLogs(): Record<string, unknown> {
  return {
    tracesToLogsV2: {
      datasourceUid: logsDatasourceUid,
      spanStartTimeShift: "-5m",
      spanEndTimeShift: "5m",
      filterByTraceID: false,
      customQuery: true,
      query: `${traceIdField}:"\${__trace.traceId}"`,
    },
  };
}
