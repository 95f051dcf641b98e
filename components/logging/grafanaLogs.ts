/**
 * The services' logs as a Grafana data source, with the links that tie them to traces: a log
 * line's trace id opens its trace, and the trace data source's own link back (trace to logs)
 * searches this one. Grafana reads Elasticsearch as a user of its own that may only read the
 * services' data streams.
 */
import { grafanaDatasourceFile } from "../monitoring/serviceMonitoring";
import type logContract from "./logFields.json";
import { dataStreamPattern, traceIdField } from "./pipeline";

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
  /** The trace data source a log line's trace id opens. @default no link */
  readonly tracesDatasourceUid?: string;
}

/** Grafana's provisioning file for the logs' data source; it holds the password. */
export function logsDatasource(s: LogsDatasourceSettings): string {
  type Field = keyof (typeof logContract)["fields"];
  return grafanaDatasourceFile({
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
      ...(s.tracesDatasourceUid
        ? { dataLinks: [{ field: traceIdField, url: "${__value.raw}", datasourceUid: s.tracesDatasourceUid, urlDisplayLabel: "Trace" }] }
        : {}),
    },
    secureJsonData: { basicAuthPassword: s.password, tlsCACert: s.caCertificate },
  });
}

/**
 * What a trace data source adds to link a trace to its log lines here (Grafana's
 * `tracesToLogsV2`): a search for the trace's id in its field, around the trace's time.
 */
export const tracesToLogs: Readonly<Record<string, unknown>> = {
  tracesToLogsV2: {
    datasourceUid: logsDatasourceUid,
    spanStartTimeShift: "-5m",
    spanEndTimeShift: "5m",
    filterByTraceID: false,
    customQuery: true,
    query: `${traceIdField}:"\${__trace.traceId}"`,
  },
};
