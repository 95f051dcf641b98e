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
          expr: `sum by (namespace) (rate(otelcol_receiver_refused_spans_total{${selector}}[5m])) > 0`,
          for: "10m",
          summary: "The OpenTelemetry Collector refuses spans",
          description: "It refused {{ $value | humanize }} spans a second over 5 minutes: the services' spans are lost.",
        }),
        alert("FlotillaTraceSpansDropped", {
          expr: `sum by (namespace, exporter) (rate(otelcol_exporter_send_failed_spans_total{${selector}}[5m]) + rate(otelcol_exporter_enqueue_failed_spans_total{${selector}}[5m])) > 0`,
          for: "10m",
          summary: "The OpenTelemetry Collector fails to send spans to {{ $labels.exporter }}",
          description: "{{ $value | humanize }} spans a second were not delivered over 5 minutes: Jaeger is down, slow, or refuses them.",
        }),
      ],
    },
  ];
}
