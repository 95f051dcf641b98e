/**
 * Prometheus rules for one Flotilla service, built from its declaration: threshold alerts on the
 * error ratio and p99 latency, target down, restarts and crash loops, and multi-window,
 * multi-burn-rate alerts on its availability objective (Google SRE workbook, chapter 5). They read
 * only the metrics every service exports through internal/platform, plus kube-state-metrics for
 * crash loops, so a new service is covered without writing a rule. promtool checks and
 * unit-tests them, and a real Prometheus evaluates every selector (scripts/verify-metrics).
 */

export interface AlertThresholds {
  /** Percentage of failed requests over 5 minutes that pages. */
  readonly errorRatePercent: number;
  /** p99 latency in milliseconds over 5 minutes that pages. */
  readonly latencyP99Ms: number;
}

export interface ServiceRulesArgs {
  /** The service's name: its Service, and so the `job` label Prometheus gives its targets. */
  readonly service: string;
  readonly namespace: string;
  /** Which server metrics the service's public port produces. */
  readonly protocol: "http" | "grpc";
  readonly thresholds: AlertThresholds;
  /** Availability objective in percent over 30 days, such as 99.9. */
  readonly availabilityObjectivePercent: number;
  /** Where the runbooks are read (docs/runbooks.md), such as their URL in a repository. */
  readonly runbookBaseUrl: string;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: (AlertRule | RecordingRule)[];
}

/** The window of the threshold alerts' rates, and of the restarts counted. */
const thresholdWindow = "5m";
const restartWindow = "15m";

/** gRPC codes that mean the server failed, not the caller. */
const serverFailureCodes = "Internal|Unknown|Unavailable|DeadlineExceeded|DataLoss";

/** The request counter and latency histogram of each protocol, and what counts as a failure. */
export const protocolMetrics = {
  http: {
    name: "HTTP",
    noun: "HTTP requests",
    requests: "http_server_requests_total",
    failed: 'code=~"5.."',
    duration: "http_server_request_duration_seconds_bucket",
  },
  grpc: {
    name: "gRPC",
    noun: "gRPC calls",
    requests: "grpc_server_handled_total",
    failed: `grpc_code=~"${serverFailureCodes}"`,
    duration: "grpc_server_handling_seconds_bucket",
  },
} as const;

/**
 * Burn-rate windows of the SRE workbook's multi-window, multi-burn-rate alerts: a long window that
 * measures the burn and a short one that stops the alert soon after the burn ends. The factors
 * spend 2% of a 30-day budget in 1 hour, 5% in 6 hours (page), 10% in 1 day and 10% in 3 days
 * (ticket).
 */
export const burnRateWindows = [
  { severity: "page", long: "1h", short: "5m", factor: 14.4, for: "2m" },
  { severity: "page", long: "6h", short: "30m", factor: 6, for: "15m" },
  { severity: "ticket", long: "1d", short: "2h", factor: 3, for: "1h" },
  { severity: "ticket", long: "3d", short: "6h", factor: 1, for: "3h" },
] as const;

/** Every range the rules read: the scrape interval and the retention are held against them. */
export const ruleWindows: readonly string[] = [thresholdWindow, restartWindow, ...burnRateWindows.flatMap((w) => [w.long, w.short])];

/** Name of the recording rule of a service's error ratio over `window`. */
export const errorRatioRecord = (window: string) => `flotilla:request_errors:ratio_rate${window}`;

/** The runbook section an alert links to: its heading, lower-cased, as GitHub makes anchors. */
export const runbookAnchor = (alert: string) => alert.toLowerCase();

/** The rule groups of one service. */
export function serviceRules(args: ServiceRulesArgs): RuleGroup[] {
  const metrics = protocolMetrics[args.protocol];
  const selector = `job="${args.service}",namespace="${args.namespace}"`;
  const by = "sum by (namespace, job)";
  const runbook = (alert: string) => `${args.runbookBaseUrl}#${runbookAnchor(alert)}`;
  const alert = (name: string, rule: Omit<AlertRule, "alert" | "annotations"> & { summary: string; description: string }): AlertRule => ({
    alert: name,
    expr: rule.expr,
    for: rule.for,
    labels: { ...rule.labels, service: args.service },
    annotations: { summary: rule.summary, description: rule.description, runbook_url: runbook(name) },
  });
  const budget = 1 - args.availabilityObjectivePercent / 100;
  const windows = [...new Set(burnRateWindows.flatMap((w) => [w.long, w.short]))];

  const recording: RecordingRule[] = windows.map((window) => ({
    record: errorRatioRecord(window),
    // Every service records under the same names; the label keeps the rules apart.
    labels: { service: args.service },
    expr: `${by} (rate(${metrics.requests}{${selector},${metrics.failed}}[${window}])) / ${by} (rate(${metrics.requests}{${selector}}[${window}]))`,
  }));

  const burnAlerts = (["page", "ticket"] as const).map((severity) => {
    const conditions = burnRateWindows
      .filter((w) => w.severity === severity)
      .map(
        (w) =>
          `(${errorRatioRecord(w.long)}{${selector}} > ${round(w.factor * budget)} and ${errorRatioRecord(w.short)}{${selector}} > ${round(w.factor * budget)})`,
      );
    const shortest = burnRateWindows.find((w) => w.severity === severity)?.for ?? "2m";
    return alert(severity === "page" ? "FlotillaErrorBudgetBurn" : "FlotillaErrorBudgetSlowBurn", {
      expr: conditions.join(" or "),
      for: shortest,
      labels: { severity },
      summary: `${args.service} is spending its ${args.availabilityObjectivePercent}% availability budget too fast`,
      description: `${args.service} fails {{ $value | humanizePercentage }} of its ${metrics.noun}; at this rate the 30-day error budget of the ${args.availabilityObjectivePercent}% objective runs out early.`,
    });
  });

  const alerts: AlertRule[] = [
    alert(`Flotilla${protocolKey(args.protocol)}ErrorRate`, {
      expr: `${by} (rate(${metrics.requests}{${selector},${metrics.failed}}[${thresholdWindow}])) / ${by} (rate(${metrics.requests}{${selector}}[${thresholdWindow}])) > ${args.thresholds.errorRatePercent / 100}`,
      for: "5m",
      labels: { severity: "page" },
      summary: `${args.service} fails more than ${args.thresholds.errorRatePercent}% of ${metrics.noun}`,
      description: `${args.service} failed {{ $value | humanizePercentage }} of its ${metrics.noun} over 5 minutes.`,
    }),
    alert(`Flotilla${protocolKey(args.protocol)}LatencyP99`, {
      expr: `histogram_quantile(0.99, sum by (namespace, job, le) (rate(${metrics.duration}{${selector}}[${thresholdWindow}]))) > ${args.thresholds.latencyP99Ms / 1000}`,
      for: "10m",
      labels: { severity: "page" },
      summary: `${args.service} p99 ${metrics.name} latency above ${args.thresholds.latencyP99Ms} ms`,
      description: `${args.service} p99 latency is {{ $value | humanizeDuration }} over 5 minutes.`,
    }),
    alert("FlotillaTargetDown", {
      expr: `up{${selector}} == 0`,
      for: "2m",
      labels: { severity: "page" },
      summary: `${args.service} at {{ $labels.instance }} cannot be scraped`,
      description: "Prometheus has not reached {{ $labels.instance }} for 2 minutes: the pod is down or its network policy blocks the operations port.",
    }),
    // The process's own start time changes at every restart, so restarts are seen from the
    // service's metrics even where kube-state-metrics is not installed.
    alert("FlotillaRestarting", {
      expr: `changes(process_start_time_seconds{${selector}}[${restartWindow}]) >= 3`,
      for: "0m",
      labels: { severity: "ticket" },
      summary: `${args.service} pod {{ $labels.pod }} restarted {{ $value }} times in 15 minutes`,
      description: "The process keeps starting again: look at the previous container's logs (kubectl logs --previous) and at OOM kills.",
    }),
    alert("FlotillaCrashLooping", {
      expr: `max by (namespace, pod) (kube_pod_container_status_waiting_reason{namespace="${args.namespace}",container="${args.service}",reason="CrashLoopBackOff"}) == 1`,
      for: "5m",
      labels: { severity: "page" },
      summary: `${args.service} pod {{ $labels.pod }} is in CrashLoopBackOff`,
      description: "The container exits right after it starts, so Kubernetes backs off restarting it; the pod serves nothing.",
    }),
    ...burnAlerts,
  ];

  return [
    { name: `flotilla-${args.service}-slo`, rules: recording },
    { name: `flotilla-${args.service}-alerts`, rules: alerts },
  ];
}

/** Metric names read from kube-state-metrics rather than from the services themselves. */
export const kubeStateMetrics = ["kube_pod_container_status_waiting_reason"] as const;

const protocolKey = (protocol: "http" | "grpc") => (protocol === "http" ? "HTTP" : "GRPC");

/** Thresholds such as 14.4 × 0.001 printed without floating-point noise. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}
