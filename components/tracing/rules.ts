/**
 * Prometheus rules for the tracing pipeline: the OpenTelemetry Collector's own metrics (its
 * internal telemetry on the metrics port, counters named as the collector documents them), so
 * that spans refused at the door or dropped on the way to Jaeger page nobody but open a ticket.
 * promtool checks and unit-tests them (test/promtool).
 */
import { type AlertRule, type RuleGroup, runbookAnchor } from "../monitoring/alertRules";

export interface TracingRulesArgs {
  /** The collector's namespace. */
  readonly namespace: string;
  /** Where the runbooks are read (docs/runbooks.md). */
  readonly runbookBaseUrl: string;
}

/** The tracing pipeline's rule group. */
export function tracingRules(args: TracingRulesArgs): RuleGroup[] {
  const selector = `namespace="${args.namespace}"`;
  // A collector counter by its name with or without `_total`: collector v0.158.0 (the chart's) and
  // v0.165.0 with the chart's telemetry configuration expose them without (scripts/verify-logs,
  // test/live/traces), while the collector's documentation and older releases name them with it.
  const counter = (name: string) => `{__name__=~"${name}(_total)?",${selector}}`;
  const failed = (stage: "send" | "enqueue") => `sum by (namespace, exporter) (rate(${counter(`otelcol_exporter_${stage}_failed_spans`)}[5m]))`;
  const alert = (name: string, rule: Omit<AlertRule, "alert" | "annotations" | "labels"> & { summary: string; description: string }): AlertRule => ({
    alert: name,
    expr: rule.expr,
    for: rule.for,
    labels: { severity: "ticket" },
    annotations: { summary: rule.summary, description: rule.description, runbook_url: `${args.runbookBaseUrl}#${runbookAnchor(name)}` },
  });
  return [
    {
      name: "flotilla-tracing",
      rules: [
        // memory_limiter refuses spans through the receiver, so refusals count there.
        alert("FlotillaTraceSpansRefused", {
          expr: `sum by (namespace) (rate(${counter("otelcol_receiver_refused_spans")}[5m])) > 0`,
          for: "10m",
          summary: "The OpenTelemetry Collector refuses spans",
          description: "It refused {{ $value | humanize }} spans a second over 5 minutes: the services' spans are lost.",
        }),
        alert("FlotillaTraceSpansDropped", {
          // The enqueue counter appears only once a span failed to enqueue, and a plain `a + b`
          // would be empty until both exist: each side stands in for a missing other as zero.
          expr: `(${failed("send")} or ${failed("enqueue")} * 0) + (${failed("enqueue")} or ${failed("send")} * 0) > 0`,
          for: "10m",
          summary: "The OpenTelemetry Collector fails to send spans to {{ $labels.exporter }}",
          description: "{{ $value | humanize }} spans a second were not delivered over 5 minutes: Jaeger is down, slow, or refuses them.",
        }),
      ],
    },
  ];
}
