/**
 * Defaults of a service's PostgreSQL database, written once: the PostgresCluster component falls
 * back on them and the config contract reads them for its own defaults and documentation.
 */
import contract from "./database.json";

export const databaseDefaults = {
  /** Where the CloudNativePG operator runs. */
  operatorNamespace: "cnpg-system",
  /** PostgreSQL major versions that CloudNativePG 1.30 runs, and the default. */
  postgresVersions: ["15", "16", "17", "18"],
  postgresVersion: "17",
  /** One instance where a lost node may lose the data (dev); three, one per zone, in prod. */
  instances: (environment: string) => (environment === "prod" ? 3 : 1),
  storageSize: "1Gi",
  /** PostgreSQL keeps up to this much WAL between checkpoints; the volume must hold it and the data. */
  maxWalSize: "512Mi",
  maxConnections: 100,
  /** Connections PostgreSQL keeps for superusers and the operator, apart from the services'. */
  reservedConnections: 10,
  /** Connections each replica of the service may hold. */
  poolSize: 10,
  port: 5432,
  /**
   * Seconds PostgreSQL's smart shutdown may wait for clients to leave before the operator asks for
   * a fast one (CloudNativePG's smartShutdownTimeout, 180 by default). A service's pool keeps its
   * connections open, so the smart one never ends early: every stop of an instance, a destroy
   * included, waited the whole 180 s (measured in the e2e). 15 s lets running transactions end.
   */
  smartShutdownSeconds: 15,
  /** The instance manager's status port, which the operator asks, and the metrics port. */
  statusPort: 8000,
  metricsPort: 9187,
  resources: {
    requests: { cpu: "100m", memory: "256Mi", ephemeralStorage: "64Mi" },
    limits: { cpu: "1", memory: "512Mi", ephemeralStorage: "256Mi" },
  },
  /** What the database alerts page or open a ticket on (components/data/rules.ts). */
  alerts: { connectionsPercent: 80, replicationLagSeconds: 60, backupAgeHours: 26, walArchivingFailingMinutes: 10 },
  /**
   * Backups: continuous WAL archiving and a daily base backup to S3, through CloudNativePG's Barman
   * Cloud plugin. On in prod, where the stack knows its EKS cluster; off elsewhere by default.
   */
  backups: {
    enabled: (environment: string) => environment === "prod",
    /** A base backup each day at 03:00 UTC (the plugin's six-field cron: seconds first). */
    schedule: "0 0 3 * * *",
    /** How far back a restore may go; Barman deletes older base backups and their WAL. */
    retention: "30d",
    /** A retention as the plugin's ObjectStore takes it: a number of days, weeks or months. */
    retentionPattern: /^[1-9][0-9]*[dwm]$/,
    /** Days S3 keeps an object's overwritten or deleted versions (the bucket is versioned). */
    noncurrentVersionDays: 30,
    /** The plugin's name, as a Cluster, a ScheduledBackup and its metrics name it. */
    plugin: "barman-cloud.cloudnative-pg.io",
    /** The plugin's Service and the Secrets holding its TLS certificates (the chart's names). */
    pluginService: "barman-cloud",
    serverTlsSecret: "barman-cloud-server-tls",
    clientTlsSecret: "barman-cloud-client-tls",
    /** The plugin's own pod, beside the operator. */
    pluginResources: {
      requests: { cpu: "20m", memory: "64Mi", ephemeralStorage: "16Mi" },
      limits: { cpu: "200m", memory: "128Mi", ephemeralStorage: "64Mi" },
    },
    /** The plugin's sidecar in each instance pod, which ships WAL and base backups. */
    sidecarResources: {
      requests: { cpu: "50m", memory: "64Mi", ephemeralStorage: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "1Gi" },
    },
    /** The EKS Pod Identity agent, on each node's link-local address, from which pods get credentials. */
    podIdentityAgent: { cidr: "169.254.170.23/32", port: 80 },
  },
  operator: {
    /** The chart's admission webhooks: on, as upstream ships them. */
    admissionWebhooks: true,
    resources: {
      requests: { cpu: "50m", memory: "128Mi", ephemeralStorage: "16Mi" },
      limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "64Mi" },
    },
  },
  variables: contract.variables,
  secretKeys: contract.secretKeys,
} as const;
