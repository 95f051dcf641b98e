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

/** How each protocol is named in alert names and in their text. */
const protocolNames = { HTTP: "HTTP", GRPC: "gRPC" } as const;
type Protocol = keyof typeof protocolNames;

export function alertRules(thresholds: AlertThresholds): { groups: { name: string; rules: AlertRule[] }[] } {
  const errorRate = (protocol: Protocol, counter: string, failed: string, noun: string): AlertRule => ({
    alert: `Flotilla${protocol}ErrorRate`,
    expr: `sum by (job) (rate(${counter}{${failed}}[5m])) / sum by (job) (rate(${counter}[5m])) > ${thresholds.errorRatePercent / 100}`,
    for: "5m",
    labels: { severity: "page" },
    annotations: {
      summary: `{{ $labels.job }} fails more than ${thresholds.errorRatePercent}% of ${noun}`,
      description: `{{ $labels.job }} failed {{ $value | humanizePercentage }} of its ${noun} over 5 minutes.`,
    },
  });
  const latency = (protocol: Protocol, histogram: string): AlertRule => ({
    alert: `Flotilla${protocol}LatencyP99`,
    expr: `histogram_quantile(0.99, sum by (job, le) (rate(${histogram}[5m]))) > ${thresholds.latencyP99Ms / 1000}`,
    for: "10m",
    labels: { severity: "page" },
    annotations: {
      summary: `{{ $labels.job }} p99 ${protocolNames[protocol]} latency above ${thresholds.latencyP99Ms} ms`,
      description: "{{ $labels.job }} p99 latency is {{ $value | humanizeDuration }} over 5 minutes.",
    },
  });
  return {
    groups: [
      {
        name: "flotilla-services",
        rules: [
          errorRate("HTTP", "http_server_requests_total", 'code=~"5.."', "HTTP requests"),
          errorRate("GRPC", "grpc_server_handled_total", `grpc_code=~"${serverFailureCodes}"`, "gRPC calls"),
          latency("HTTP", "http_server_request_duration_seconds_bucket"),
          latency("GRPC", "grpc_server_handling_seconds_bucket"),
          {
            alert: "FlotillaTargetDown",
            expr: "up == 0",
            for: "2m",
            labels: { severity: "page" },
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
