/**
 * Prometheus alerting rules for Flotilla services, built from the config's thresholds. They read
 * the metrics every service exposes through internal/platform, so a new service is covered
 * without a rule of its own. promtool checks and unit-tests them (scripts/verify-metrics).
 */

export interface AlertThresholds {
  /** Percentage of failed requests over 5 minutes that pages. */
  readonly errorRatePercent: number;
  /** p99 latency in milliseconds over 5 minutes that pages. */
  readonly latencyP99Ms: number;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** gRPC codes that mean the server failed, not the caller. */
const serverFailureCodes = "Internal|Unknown|Unavailable|DeadlineExceeded|DataLoss";

export function alertRules(thresholds: AlertThresholds): { groups: { name: string; rules: AlertRule[] }[] } {
  const ratio = thresholds.errorRatePercent / 100;
  const seconds = thresholds.latencyP99Ms / 1000;
  const page = { severity: "page" };
  return {
    groups: [
      {
        name: "flotilla-services",
        rules: [
          {
            alert: "FlotillaHTTPErrorRate",
            expr: `sum by (job) (rate(http_server_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_server_requests_total[5m])) > ${ratio}`,
            for: "5m",
            labels: page,
            annotations: {
              summary: "{{ $labels.job }} fails more than " + `${thresholds.errorRatePercent}% of HTTP requests`,
              description: "{{ $labels.job }} answered {{ $value | humanizePercentage }} of its HTTP requests with 5xx over 5 minutes.",
            },
          },
          {
            alert: "FlotillaGRPCErrorRate",
            expr: `sum by (job) (rate(grpc_server_handled_total{grpc_code=~"${serverFailureCodes}"}[5m])) / sum by (job) (rate(grpc_server_handled_total[5m])) > ${ratio}`,
            for: "5m",
            labels: page,
            annotations: {
              summary: "{{ $labels.job }} fails more than " + `${thresholds.errorRatePercent}% of gRPC calls`,
              description: "{{ $labels.job }} failed {{ $value | humanizePercentage }} of its gRPC calls over 5 minutes.",
            },
          },
          {
            alert: "FlotillaHTTPLatencyP99",
            expr: `histogram_quantile(0.99, sum by (job, le) (rate(http_server_request_duration_seconds_bucket[5m]))) > ${seconds}`,
            for: "10m",
            labels: page,
            annotations: {
              summary: `{{ $labels.job }} p99 HTTP latency above ${thresholds.latencyP99Ms} ms`,
              description: "{{ $labels.job }} p99 latency is {{ $value | humanizeDuration }} over 5 minutes.",
            },
          },
          {
            alert: "FlotillaGRPCLatencyP99",
            expr: `histogram_quantile(0.99, sum by (job, le) (rate(grpc_server_handling_seconds_bucket[5m]))) > ${seconds}`,
            for: "10m",
            labels: page,
            annotations: {
              summary: `{{ $labels.job }} p99 gRPC latency above ${thresholds.latencyP99Ms} ms`,
              description: "{{ $labels.job }} p99 latency is {{ $value | humanizeDuration }} over 5 minutes.",
            },
          },
          {
            alert: "FlotillaTargetDown",
            expr: "up == 0",
            for: "2m",
            labels: page,
            annotations: {
              summary: "{{ $labels.job }} at {{ $labels.instance }} cannot be scraped",
              description: "Prometheus has not reached {{ $labels.instance }} for 2 minutes: the pod is down or its network policy blocks the operations port.",
            },
          },
        ],
      },
    ],
  };
}
