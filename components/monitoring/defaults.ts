/**
 * Defaults of the monitoring components, written once: the components fall back on them and the
 * config contract (config/schema.ts) reads them for its own defaults and documentation.
 */
export const monitoringDefaults = {
  namespace: "monitoring",
  /** The labels the chart's Grafana pods carry (its subchart's name), for the policies of what it reads. */
  grafanaPodLabels: { "app.kubernetes.io/name": "grafana" },
  /** node-exporter reads the host's /proc, /sys and network: a namespace that allows it, apart. */
  nodeExporterNamespace: "monitoring-node",
  /** Pod Security levels: node-exporter's namespace is the only one that admits host access. */
  podSecurity: { namespace: "restricted", nodeExporterNamespace: "privileged" },
  scrapeInterval: "30s",
  retention: "15d",
  thresholds: { errorRatePercent: 5, latencyP99Ms: 500 },
  availabilityObjectivePercent: 99.9,
  runbookBaseUrl: "docs/runbooks.md",
  prometheus: {
    replicas: 1,
    resources: {
      requests: { cpu: "100m", memory: "384Mi", ephemeralStorage: "64Mi" },
      limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "2Gi" },
    },
  },
  alertmanager: { replicas: 1 },
  /**
   * prometheus-operator's kinds that no Flotilla object uses and that the operator runs without
   * (it looks for each one's CRD as it starts and leaves that controller off when there is none).
   * Their CRDs are 263 KB of the operator's 570 (without descriptions), and every `up` checks and
   * diffs each CRD whole, one resource at a time: 0.6-0.7 s each in the dev stack's second `up`
   * (docs/benchmarks.md). Installed in prod, where an existing stack's objects of these kinds
   * would go with their CRDs; left out elsewhere.
   */
  optionalKinds: {
    crds: ["prometheusagents", "scrapeconfigs", "thanosrulers"].map(operatorCrd),
    installed: (environment: string) => environment === "prod",
  },
  /**
   * Small, fixed requests and limits of the chart's supporting pods; their sum fits the laptop
   * budget. Grafana runs two sidecars (dashboards and data sources); Prometheus and Alertmanager
   * each run the config reloader beside them.
   */
  support: {
    operator: sized("50m", "64Mi", "200m", "256Mi"),
    alertmanager: sized("10m", "32Mi", "200m", "128Mi"),
    grafana: sized("50m", "128Mi", "500m", "384Mi"),
    sidecar: sized("10m", "48Mi", "100m", "128Mi"),
    kubeStateMetrics: sized("10m", "48Mi", "200m", "192Mi"),
    nodeExporter: sized("10m", "24Mi", "200m", "64Mi"),
    configReloader: sized("10m", "16Mi", "100m", "64Mi"),
  },
} as const;

/** A prometheus-operator CRD's name, from its kind's plural. */
export function operatorCrd(plural: string): string {
  return `${plural}.monitoring.coreos.com`;
}

function sized(cpu: string, memory: string, cpuLimit: string, memoryLimit: string) {
  return { requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } } as const;
}
