/**
 * Prometheus rules and a Grafana dashboard for one service's PostgreSQL cluster, read from the
 * metrics CloudNativePG's instance manager exports on each instance's metrics port (`cnpg_*`, its
 * default queries) and from the scrape itself (`up`). The PodMonitor gives every series a
 * `cluster` label, so one rule file covers each cluster apart. promtool checks and unit-tests them.
 */
import { type AlertRule, type RuleGroup, runbookAnchor } from "../monitoring/alertRules";
import { type Dashboard, type Panel } from "../monitoring/dashboards";
import { databaseDefaults } from "./defaults";

export interface DatabaseRulesArgs {
  /** The Cluster's name, as the `cluster` label carries it. */
  readonly cluster: string;
  readonly namespace: string;
  /** Instances the Cluster runs: fewer serving pages. */
  readonly instances: number;
  /** Where the runbooks are read (docs/runbooks.md). */
  readonly runbookBaseUrl: string;
  /** Whether the cluster archives its WAL and takes base backups: their alerts then apply. */
  readonly backups?: boolean;
}

/** The Barman Cloud plugin's metrics, which the instance manager exports under the plugin's name. */
const backupMetric = (name: string) => `${databaseDefaults.backups.plugin.replace(/[.-]/g, "_")}_${name}`;

const alertThresholds = databaseDefaults.alerts;

/** The rule group of one cluster. */
export function databaseRules(args: DatabaseRulesArgs): RuleGroup[] {
  const selector = `namespace="${args.namespace}",cluster="${args.cluster}"`;
  const by = "by (namespace, cluster, pod)";
  const alert = (
    name: string,
    rule: Omit<AlertRule, "alert" | "annotations" | "labels"> & { severity: string; summary: string; description: string },
  ): AlertRule => ({
    alert: name,
    expr: rule.expr,
    for: rule.for,
    labels: { severity: rule.severity, cluster: args.cluster, namespace: args.namespace },
    annotations: { summary: rule.summary, description: rule.description, runbook_url: `${args.runbookBaseUrl}#${runbookAnchor(name)}` },
  });
  const alerts: AlertRule[] = [
    // Counted, not compared per pod: a deleted pod has no series left to be 0, and neither has a
    // cluster whose every pod is gone (hence `or vector(0)`).
    alert("FlotillaDatabaseInstanceDown", {
      expr: `(count(cnpg_collector_up{${selector}} == 1 and on (namespace, pod) up{${selector}} == 1) or vector(0)) < ${args.instances}`,
      for: "5m",
      severity: "page",
      summary: `${args.cluster}: fewer than ${args.instances} PostgreSQL instances serving`,
      description: `{{ $value }} of the ${args.instances} instances of ${args.cluster} answer; with none, its service's reads and writes fail.`,
    }),
    alert("FlotillaDatabaseConnectionsNearLimit", {
      expr: `max ${by} (sum ${by} (cnpg_backends_total{${selector}}) / on (namespace, cluster, pod) max ${by} (cnpg_pg_settings_setting{${selector},name="max_connections"})) > ${alertThresholds.connectionsPercent / 100}`,
      for: "10m",
      severity: "ticket",
      summary: `${args.cluster} uses more than ${alertThresholds.connectionsPercent}% of its connections`,
      description: "{{ $labels.pod }} holds {{ $value | humanizePercentage }} of max_connections: new connections will soon be refused.",
    }),
  ];
  if (args.instances > 1) {
    alerts.push(
      alert("FlotillaDatabaseReplicationLag", {
        expr: `max ${by} (cnpg_pg_replication_lag{${selector}}) > ${alertThresholds.replicationLagSeconds}`,
        for: "5m",
        severity: "page",
        summary: `${args.cluster} replica {{ $labels.pod }} lags more than ${alertThresholds.replicationLagSeconds} s`,
        description: "The replica applies the primary's WAL {{ $value | humanizeDuration }} late: a failover to it now would lose that much.",
      }),
    );
  }
  if (args.backups) {
    alerts.push(
      // The primary's archiver (pg_stat_archiver) last failed after it last succeeded: WAL piles up
      // on the volume, and a restore cannot reach past the last archived segment.
      alert("FlotillaDatabaseWalArchivingFailing", {
        expr: `max ${by} (cnpg_pg_stat_archiver_last_failed_time{${selector}}) > max ${by} (cnpg_pg_stat_archiver_last_archived_time{${selector}})`,
        for: `${alertThresholds.walArchivingFailingMinutes}m`,
        severity: "page",
        summary: `${args.cluster}: WAL archiving to the backup bucket is failing`,
        description: "{{ $labels.pod }} has not archived its WAL since its last failure: a restore would lose what was written since.",
      }),
      // Each instance reports the cluster's newest base backup; 0 or absent until the first.
      alert("FlotillaDatabaseBackupTooOld", {
        expr: `(time() - (max by (namespace, cluster) (${backupMetric("last_available_backup_timestamp")}{${selector}}) or on () vector(0))) > ${alertThresholds.backupAgeHours * 3600}`,
        for: "30m",
        severity: "ticket",
        summary: `${args.cluster}: no base backup in the last ${alertThresholds.backupAgeHours} hours`,
        description: `The newest base backup of ${args.cluster} is {{ $value | humanizeDuration }} old: a restore must replay that much WAL, or cannot be made.`,
      }),
    );
  }
  return [{ name: `flotilla-${args.cluster}-database`, rules: alerts }];
}

/** The cluster's dashboard: instances up, connections against the limit, transactions, size, lag; with backups, their age. */
export function databaseDashboard(args: Pick<DatabaseRulesArgs, "cluster" | "namespace" | "backups">): Dashboard {
  const selector = `namespace="${args.namespace}",cluster="${args.cluster}"`;
  const panel = (title: string, unit: string, expr: string, legendFormat = "{{pod}}"): Panel => ({
    title,
    type: "timeseries",
    unit,
    targets: [{ expr, legendFormat }],
  });
  return {
    uid: `flotilla-db-${args.namespace}-${args.cluster}`.slice(0, 40),
    title: `Flotilla / database ${args.cluster}`,
    tags: ["flotilla", args.namespace, "database"],
    panels: [
      panel("Instances serving", "short", `sum by (pod) (cnpg_collector_up{${selector}})`),
      panel(
        "Connections / max_connections",
        "percentunit",
        `sum by (pod) (cnpg_backends_total{${selector}}) / on (pod) max by (pod) (cnpg_pg_settings_setting{${selector},name="max_connections"})`,
      ),
      panel("Commits per second", "ops", `sum by (pod) (rate(cnpg_pg_stat_database_xact_commit{${selector}}[5m]))`),
      panel("Database size", "bytes", `max by (datname) (cnpg_pg_database_size_bytes{${selector}})`, "{{datname}}"),
      panel("Replication lag", "s", `max by (pod) (cnpg_pg_replication_lag{${selector}})`),
      ...(args.backups
        ? [
            panel("Newest base backup, age", "s", `time() - max (${backupMetric("last_available_backup_timestamp")}{${selector}})`, "newest"),
            panel("Last WAL segment archived, age", "s", `max by (pod) (cnpg_pg_stat_archiver_seconds_since_last_archival{${selector}})`),
          ]
        : []),
    ],
  };
}
