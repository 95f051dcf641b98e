/**
 * Grafana dashboards as data: one per service (rate, errors, duration, and the Go runtime) and a
 * platform overview. They query only metrics the services export through internal/platform;
 * scripts/verify-metrics runs every query against a real Prometheus scraping the real services.
 */
import { protocolMetrics } from "./alertRules";

/** Uid of the Prometheus data source that kube-prometheus-stack provisions in Grafana. */
export const prometheusDatasource = { type: "prometheus", uid: "prometheus" } as const;

export interface Panel {
  title: string;
  type: "timeseries" | "stat";
  unit: string;
  /** PromQL, with the exemplars of the series it reads when `exemplar` is set. */
  targets: { expr: string; legendFormat: string; exemplar?: boolean }[];
}

/** A service's recent traces, searched in a trace data source (Jaeger's) by its `service.name`. */
export interface TraceSearch {
  readonly datasourceUid: string;
  readonly service: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  panels: Panel[];
  /** A last, full-width panel listing recent traces, each a link to open it. */
  traces?: TraceSearch;
}

export interface ServiceDashboardArgs {
  readonly service: string;
  readonly namespace: string;
  readonly protocol: "http" | "grpc";
  /** Uid of the Grafana data source holding the service's traces: the duration panel then shows exemplars, and a panel lists traces. */
  readonly tracesDatasourceUid?: string;
}

/** Rate, errors and duration of one service, then its Go runtime, then its traces when it has a trace store. */
export function serviceDashboard(args: ServiceDashboardArgs): Dashboard {
  const m = protocolMetrics[args.protocol];
  const sel = `job="${args.service}",namespace="${args.namespace}"`;
  const route = args.protocol === "http" ? "route" : "grpc_method";
  const traced = args.tracesDatasourceUid !== undefined;
  const quantile = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${m.duration}{${sel}}[5m])))`,
    legendFormat: `p${Math.round(q * 100)}`,
    // The latency histograms carry a trace's id as exemplar: a dot on the graph opens that trace.
    ...(traced ? { exemplar: true } : {}),
  });
  return {
    uid: `flotilla-${args.namespace}-${args.service}`.slice(0, 40),
    title: `Flotilla / ${args.service}`,
    tags: ["flotilla", args.namespace],
    ...(traced ? { traces: { datasourceUid: args.tracesDatasourceUid, service: args.service } } : {}),
    panels: [
      panel("Requests per second", "reqps", [{ expr: `sum by (${route}) (rate(${m.requests}{${sel}}[5m]))`, legendFormat: `{{${route}}}` }]),
      panel("Error ratio", "percentunit", [
        { expr: `sum(rate(${m.requests}{${sel},${m.failed}}[5m])) / sum(rate(${m.requests}{${sel}}[5m]))`, legendFormat: "failed" },
      ]),
      panel("Duration", "s", [quantile(0.5), quantile(0.9), quantile(0.99)]),
      panel("Goroutines", "short", [{ expr: `sum by (pod) (go_goroutines{${sel}})`, legendFormat: "{{pod}}" }]),
      // Summary quantiles read "1" in the text format and "1.0" in OpenMetrics (the services serve
      // both) and in Prometheus 3, which normalises them.
      panel("GC pause (max of last cycles)", "s", [{ expr: `max by (pod) (go_gc_duration_seconds{${sel},quantile=~"1|1.0"})`, legendFormat: "{{pod}}" }]),
      panel("Heap in use", "bytes", [{ expr: `sum by (pod) (go_memstats_heap_inuse_bytes{${sel}})`, legendFormat: "{{pod}}" }]),
      panel("Resident memory", "bytes", [{ expr: `sum by (pod) (process_resident_memory_bytes{${sel}})`, legendFormat: "{{pod}}" }]),
    ],
  };
}

/** Every Flotilla service of a namespace at a glance. */
export function overviewDashboard(namespace: string): Dashboard {
  const sel = `namespace="${namespace}"`;
  const both = (f: (m: (typeof protocolMetrics)["http" | "grpc"]) => string) =>
    [protocolMetrics.http, protocolMetrics.grpc].map((m) => ({ expr: f(m), legendFormat: `{{job}} (${m.name})` }));
  return {
    uid: `flotilla-${namespace}-overview`.slice(0, 40),
    title: `Flotilla / ${namespace} overview`,
    tags: ["flotilla", namespace],
    panels: [
      panel("Targets up", "short", [{ expr: `sum by (job) (up{${sel}})`, legendFormat: "{{job}}" }], "stat"),
      panel(
        "Requests per second",
        "reqps",
        both((m) => `sum by (job) (rate(${m.requests}{${sel}}[5m]))`),
      ),
      panel(
        "Error ratio",
        "percentunit",
        both((m) => `sum by (job) (rate(${m.requests}{${sel},${m.failed}}[5m])) / sum by (job) (rate(${m.requests}{${sel}}[5m]))`),
      ),
      panel(
        "p99 duration",
        "s",
        both((m) => `histogram_quantile(0.99, sum by (job, le) (rate(${m.duration}{${sel}}[5m])))`),
      ),
      panel("Resident memory", "bytes", [{ expr: `sum by (job) (process_resident_memory_bytes{${sel}})`, legendFormat: "{{job}}" }]),
    ],
  };
}

/** Every PromQL expression a dashboard runs. */
export const dashboardQueries = (dashboard: Dashboard): string[] => dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

/** The dashboard in Grafana's JSON model, laid out two panels a row, the traces full width below. */
export function grafanaJson(dashboard: Dashboard): string {
  const metrics = dashboard.panels.map((p, i) => ({
    id: i + 1,
    title: p.title,
    type: p.type,
    datasource: prometheusDatasource,
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: prometheusDatasource, ...t })),
  }));
  const traces = dashboard.traces && {
    id: metrics.length + 1,
    title: "Recent traces",
    // Jaeger's search gives a table whose trace ids open the trace in Grafana.
    type: "table",
    datasource: { type: "jaeger", uid: dashboard.traces.datasourceUid },
    gridPos: { h: 10, w: 24, x: 0, y: Math.ceil(metrics.length / 2) * 8 },
    targets: [
      { refId: "A", datasource: { type: "jaeger", uid: dashboard.traces.datasourceUid }, queryType: "search", service: dashboard.traces.service, limit: 20 },
    ],
  };
  return JSON.stringify({
    uid: dashboard.uid,
    title: dashboard.title,
    tags: dashboard.tags,
    schemaVersion: 39,
    editable: false,
    time: { from: "now-1h", to: "now" },
    refresh: "30s",
    panels: traces ? [...metrics, traces] : metrics,
  });
}

function panel(title: string, unit: string, targets: Panel["targets"], type: Panel["type"] = "timeseries"): Panel {
  return { title, type, unit, targets };
}
