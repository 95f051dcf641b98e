/**
 * Defaults of the Logging component, written once: the component falls back on them and the
 * config contract (config/schema.ts) reads them for its own defaults and documentation.
 */
export const loggingDefaults = {
  /** Elasticsearch, Kibana and the setup Job; "restricted". */
  namespace: "logging",
  /** Fluent Bit reads the nodes' log files through hostPath mounts: a namespace that allows it, apart. */
  agentNamespace: "logging-agent",
  /** The ECK operator. */
  operatorNamespace: "elastic-system",
  /** Pod Security levels: Fluent Bit reads the nodes' log files through hostPath, which only "privileged" admits. */
  podSecurity: { namespace: "restricted", agentNamespace: "privileged", operatorNamespace: "restricted" },
  /** Elasticsearch and Kibana version that ECK runs. */
  stackVersion: "9.5.0",
  retentionDays: 3,
  /** ECK's validating webhook: on, unless the API server cannot reach pods. */
  validatingWebhook: true,
  elasticsearch: {
    replicas: 1,
    /** JVM heap; ECK's guidance is half the memory limit, the rest is the file system cache. */
    heap: "512m",
    resources: {
      requests: { cpu: "250m", memory: "1Gi", ephemeralStorage: "256Mi" },
      limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "2Gi" },
    },
  },
  kibana: {
    enabled: true,
    resources: {
      requests: { cpu: "100m", memory: "768Mi", ephemeralStorage: "64Mi" },
      limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "256Mi" },
    },
  },
  collector: {
    /** The collector's filesystem buffer per node; an outage that fits in it loses no log line. */
    bufferSize: "512M",
    resources: {
      requests: { cpu: "20m", memory: "48Mi", ephemeralStorage: "16Mi" },
      limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "64Mi" },
    },
  },
  operator: {
    resources: {
      requests: { cpu: "50m", memory: "150Mi", ephemeralStorage: "16Mi" },
      limits: { cpu: "1", memory: "512Mi", ephemeralStorage: "64Mi" },
    },
  },
  setupJob: {
    resources: {
      requests: { cpu: "10m", memory: "16Mi", ephemeralStorage: "8Mi" },
      limits: { cpu: "100m", memory: "64Mi", ephemeralStorage: "16Mi" },
    },
  },
} as const;
