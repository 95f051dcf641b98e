/**
 * Defaults of the monitoring components, written once: the components fall back on them and the
 * config contract (config/schema.ts) reads them for its own defaults and documentation.
 */
export const monitoringDefaults = {
  namespace: "monitoring",
  /** node-exporter reads the host's /proc, /sys and network: a namespace that allows it, apart. */
  nodeExporterNamespace: "monitoring-node",
  scrapeInterval: "30s",
  retention: "15d",
  thresholds: { errorRatePercent: 5, latencyP99Ms: 500 },
  availabilityObjectivePercent: 99.9,
  runbookBaseUrl: "README.md",
  prometheus: {
    replicas: 1,
    resources: {
      requests: { cpu: "100m", memory: "384Mi", ephemeralStorage: "64Mi" },
      limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "2Gi" },
    },
  },
  alertmanager: { replicas: 1 },
} as const;
