import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import * as pulumi from "@pulumi/pulumi";
import { dnsEgress, inNamespace, tcp } from "../apps/networkPolicy";
import { type Resources, resourceRequirements, selectorLabels, standardLabels } from "../apps/podSpec";
import { type Scheduling } from "../apps/scheduling";
import { monitoringDefaults } from "../monitoring/defaults";
import { dashboardConfigMap, prometheusRule } from "../monitoring/serviceMonitoring";
import { databaseDefaults as d } from "./defaults";
import { databaseDashboard, databaseRules } from "./rules";

export interface PostgresClusterArgs {
  /** Namespace of the service, where the cluster runs beside it. */
  readonly namespace: pulumi.Input<string>;
  /** The service that owns the database: its name is the database's and its owner's. */
  readonly service: string;
  /** The service's `app.kubernetes.io/part-of`, to select its pods. @default "flotilla" */
  readonly partOf?: string;
  /** PostgreSQL instances: one primary, the rest streaming replicas. @default 1 */
  readonly instances?: number;
  /** PostgreSQL major version. @default "17" */
  readonly postgresVersion?: string;
  /** Volume per instance. @default "1Gi" */
  readonly storageSize?: string;
  /** @default the cluster's default storage class */
  readonly storageClass?: string;
  /** PostgreSQL's `max_connections`. @default 100 */
  readonly maxConnections?: number;
  /** Commits wait for this many replicas to confirm (synchronous replication). @default 0 */
  readonly synchronousReplicas?: number;
  /** Spread instances over zones (prod), not only over nodes. @default false */
  readonly spreadOverZones?: boolean;
  /** A disruption budget that keeps the primary through node drains; needs two instances. @default instances > 1 */
  readonly disruptionBudget?: boolean;
  readonly resources?: Resources;
  readonly scheduling?: Scheduling;
  /** Namespace of the CloudNativePG operator, which reaches the instances. @default "cnpg-system" */
  readonly operatorNamespace?: string;
  /** Namespaces (Prometheus') that scrape the instances' metrics port. @default none */
  readonly scrapedFrom?: readonly string[];
  /** A registry mirroring `ghcr.io`'s images under their upstream paths. @default ghcr.io */
  readonly imageRegistry?: string;
  /**
   * Monitoring by prometheus-operator: a PodMonitor on the instances' metrics port, the database
   * alerts (components/data/rules.ts) and a Grafana dashboard. @default not monitored
   */
  readonly monitoring?: PostgresMonitoringArgs;
  /**
   * Continuous WAL archiving and scheduled base backups to an object store, through CloudNativePG's
   * Barman Cloud plugin (which must run in the operator's namespace). @default no backups
   */
  readonly backups?: PostgresBackupsArgs;
  /** Protect the Cluster, and so its volumes, from `pulumi destroy`. @default false */
  readonly protect?: boolean;
}

export interface PostgresBackupsArgs {
  /** The store's root, `s3://<bucket>/<prefix>/`: the archive goes under `<serverName>/` there. */
  readonly destinationPath: pulumi.Input<string>;
  /** The archive's name under `destinationPath`. @default the Cluster's name */
  readonly serverName?: string;
  /** How long base backups and their WAL are kept (`<n>d`, `<n>w` or `<n>m`). @default "30d" */
  readonly retention?: string;
  /** When base backups are taken: a six-field cron, seconds first. @default "0 0 3 * * *" */
  readonly schedule?: string;
  /**
   * The archive (its `serverName`) in the same store that a new Cluster is bootstrapped from
   * instead of an empty database. Setting or changing it replaces the Cluster: a bootstrap runs
   * only when a Cluster is created. @default none: a new, empty database
   */
  readonly restoreFrom?: string;
  /** Resources of the plugin's sidecar in each instance pod. @default 50m/64Mi requested, 500m/256Mi limited */
  readonly sidecarResources?: Resources;
}

export interface PostgresMonitoringArgs {
  /** What the PodMonitor and PrometheusRule wait for: the operator's CRDs (the Monitoring component). */
  readonly ready?: pulumi.Input<pulumi.Resource>;
  /** @default "30s" */
  readonly scrapeInterval?: string;
  /** Where alerts' `runbook_url` annotations point. @default "docs/runbooks.md" */
  readonly runbookBaseUrl?: string;
}

/**
 * A PostgreSQL cluster for one service, run by CloudNativePG: the `Cluster`, with a database and
 * owner named after the service, and the NetworkPolicies around it (the service reaches it on
 * 5432, the operator its instances, the instances each other, Prometheus the metrics port). The
 * operator generates the owner's credentials into the Secret `appSecret`, which the service reads
 * by reference: no password passes through Pulumi. With `monitoring`, also a PodMonitor, the
 * database alerts and a dashboard.
 */
export class PostgresCluster extends pulumi.ComponentResource {
  /** The Cluster's name; the operator's Services are `<name>-rw`, `-ro` and `-r`. */
  readonly clusterName: string;
  /** The read-write Service's name: the primary. */
  readonly host: string;
  /** The Secret the operator makes with the owner's credentials (`uri`, `password`, …). */
  readonly appSecret: string;

  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:data:PostgresCluster", name, {}, opts);
    const child = { parent: this };
    const instances = args.instances ?? 1;
    const synchronous = args.synchronousReplicas ?? 0;
    const version = args.postgresVersion ?? d.postgresVersion;
    if (!(d.postgresVersions as readonly string[]).includes(version)) {
      throw new pulumi.ResourceError(`postgresVersion ${version}: CloudNativePG 1.30 runs ${d.postgresVersions.join(", ")}`, this);
    }
    if (synchronous >= instances) {
      throw new pulumi.ResourceError(`synchronousReplicas (${synchronous}) must be fewer than instances (${instances})`, this);
    }
    const disruptionBudget = args.disruptionBudget ?? instances > 1;
    if (disruptionBudget && instances < 2) {
      throw new pulumi.ResourceError("a disruption budget with one instance would block every node drain: use two instances or none", this);
    }
    this.clusterName = postgresClusterName(args.service);
    const backups = args.backups && backupSettings(args.backups, this.clusterName, this);
    this.host = `${this.clusterName}-rw`;
    this.appSecret = postgresAppSecret(args.service);
    const labels = standardLabels(this.clusterName, "database", args.partOf);
    const instanceSelector = { "cnpg.io/cluster": this.clusterName };
    const metadata = (suffix?: string) => ({ name: suffix ? `${this.clusterName}-${suffix}` : this.clusterName, namespace: args.namespace, labels });

    new CustomResource(
      name,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: metadata(),
        spec: {
          instances,
          imageName: postgresImage(version, args.imageRegistry),
          primaryUpdateStrategy: "unsupervised",
          smartShutdownTimeout: d.smartShutdownSeconds,
          enablePDB: disruptionBudget,
          bootstrap: backups?.restoreFrom
            ? { recovery: { source: restoreSource, database: args.service, owner: args.service } }
            : { initdb: { database: args.service, owner: args.service } },
          storage: { size: args.storageSize ?? d.storageSize, ...(args.storageClass ? { storageClass: args.storageClass } : {}) },
          postgresql: {
            parameters: { max_connections: String(args.maxConnections ?? d.maxConnections), max_wal_size: d.maxWalSize.replace("Mi", "MB") },
            ...(synchronous > 0 ? { synchronous: { method: "any", number: synchronous } } : {}),
          },
          resources: resourceRequirements(args.resources ?? d.resources),
          affinity: {
            enablePodAntiAffinity: true,
            topologyKey: args.spreadOverZones ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname",
            ...(args.scheduling?.nodeSelector && Object.keys(args.scheduling.nodeSelector).length > 0 ? { nodeSelector: args.scheduling.nodeSelector } : {}),
            ...(args.scheduling?.tolerations && args.scheduling.tolerations.length > 0 ? { tolerations: args.scheduling.tolerations } : {}),
          },
          ...(backups
            ? {
                plugins: [{ name: d.backups.plugin, isWALArchiver: true, parameters: { barmanObjectName: backups.store, serverName: backups.serverName } }],
                ...(backups.restoreFrom
                  ? {
                      externalClusters: [
                        {
                          name: restoreSource,
                          plugin: { name: d.backups.plugin, parameters: { barmanObjectName: backups.store, serverName: backups.restoreFrom } },
                        },
                      ],
                    }
                  : {}),
              }
            : {}),
        },
      },
      // A bootstrap runs only when the Cluster is made, so restoring means a new one.
      { ...child, protect: args.protect ?? false, replaceOnChanges: ["spec.bootstrap"], deleteBeforeReplace: true },
    );
    if (backups) {
      this.backUp(name, backups, metadata);
    }

    new networkingv1.NetworkPolicy(
      `${name}-instances`,
      {
        metadata: metadata("instances"),
        spec: {
          podSelector: { matchLabels: instanceSelector },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: [{ podSelector: { matchLabels: selectorLabels(args.service, args.partOf) } }], ports: tcp(d.port) },
            { from: [{ podSelector: { matchLabels: instanceSelector } }], ports: tcp(d.port, d.statusPort) },
            { from: [inNamespace(args.operatorNamespace ?? d.operatorNamespace)], ports: tcp(d.port, d.statusPort) },
            ...(args.scrapedFrom?.length ? [{ from: args.scrapedFrom.map(inNamespace), ports: tcp(d.metricsPort) }] : []),
          ],
          egress: [
            dnsEgress,
            { to: [{ podSelector: { matchLabels: instanceSelector } }], ports: tcp(d.port, d.statusPort) },
            // The instance manager watches its Cluster through the API server, whose address a
            // policy cannot name portably (an EKS endpoint, a kind node): its ports alone. The
            // backups' sidecar reaches S3 on 443 too.
            { ports: tcp(443, 6443) },
            // The sidecar's AWS credentials come from the node's EKS Pod Identity agent.
            ...(backups ? [{ to: [{ ipBlock: { cidr: d.backups.podIdentityAgent.cidr } }], ports: tcp(d.backups.podIdentityAgent.port) }] : []),
          ],
        },
      },
      child,
    );
    if (args.monitoring) {
      this.monitor(name, args.monitoring, { namespace: args.namespace, instances, labels, instanceSelector, backups: backups !== undefined });
    }
    this.registerOutputs({ clusterName: this.clusterName, host: this.host, appSecret: this.appSecret });
  }

  /** The object store the plugin archives into, and the daily base backup. */
  private backUp(name: string, backups: BackupSettings, metadata: (suffix?: string) => object): void {
    const child = { parent: this };
    new CustomResource(
      `${name}-backups`,
      {
        apiVersion: "barmancloud.cnpg.io/v1",
        kind: "ObjectStore",
        metadata: metadata("backups"),
        spec: {
          configuration: {
            destinationPath: backups.destinationPath,
            // The pod's own AWS identity (EKS Pod Identity): no key in any Secret.
            s3Credentials: { inheritFromIAMRole: true },
            wal: { compression: "gzip", encryption: "aws:kms", maxParallel: 2 },
            data: { compression: "gzip", encryption: "aws:kms" },
          },
          retentionPolicy: backups.retention,
          instanceSidecarConfiguration: { resources: resourceRequirements(backups.sidecarResources) },
        },
      },
      child,
    );
    new CustomResource(
      `${name}-daily`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "ScheduledBackup",
        metadata: metadata("daily"),
        spec: {
          cluster: { name: this.clusterName },
          schedule: backups.schedule,
          method: "plugin",
          pluginConfiguration: { name: d.backups.plugin },
          // The first at once, so that a new cluster is restorable from its first hour.
          immediate: true,
          // Base backups go with the ScheduledBackup's objects, not the data they describe.
          backupOwnerReference: "self",
        },
      },
      child,
    );
  }

  private monitor(
    name: string,
    monitoring: PostgresMonitoringArgs,
    cluster: { namespace: pulumi.Input<string>; instances: number; labels: Record<string, string>; instanceSelector: Record<string, string>; backups: boolean },
  ): void {
    const opts = { parent: this, dependsOn: monitoring.ready ? [monitoring.ready] : [] };
    const metadata = { name: this.clusterName, namespace: cluster.namespace, labels: cluster.labels };
    new CustomResource(
      `${name}-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata,
        spec: {
          // Instances only: the bootstrap and join jobs' pods carry the cluster's label too.
          selector: { matchLabels: { ...cluster.instanceSelector, "cnpg.io/podRole": "instance" } },
          podMetricsEndpoints: [
            {
              port: "metrics",
              interval: monitoring.scrapeInterval ?? monitoringDefaults.scrapeInterval,
              // The rules and the dashboard select a cluster by this label.
              relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_label_cnpg_io_cluster"], targetLabel: "cluster" }],
            },
          ],
        },
      },
      opts,
    );
    const namespace = pulumi.output(cluster.namespace);
    prometheusRule(
      `${name}-rules`,
      metadata,
      namespace.apply((ns) =>
        databaseRules({
          cluster: this.clusterName,
          namespace: ns,
          instances: cluster.instances,
          backups: cluster.backups,
          runbookBaseUrl: monitoring.runbookBaseUrl ?? monitoringDefaults.runbookBaseUrl,
        }),
      ),
      opts,
    );
    dashboardConfigMap(
      `${name}-dashboard`,
      cluster.namespace,
      namespace.apply((ns) => databaseDashboard({ cluster: this.clusterName, namespace: ns, backups: cluster.backups })),
      cluster.labels,
      { parent: this },
    );
  }
}

/** The Cluster of a service's database: its pods, its ServiceAccount and its archive's default name. */
export const postgresClusterName = (service: string): string => `${service}-db`;
/** The Secret the operator makes with the owner's credentials, which the service reads. */
export const postgresAppSecret = (service: string): string => `${postgresClusterName(service)}-app`;

/** The name `externalClusters` gives the archive a restored Cluster bootstraps from. */
const restoreSource = "origin";

/** The backups' arguments with their defaults applied, and the ObjectStore's name. */
interface BackupSettings extends Required<Omit<PostgresBackupsArgs, "restoreFrom">> {
  readonly store: string;
  readonly restoreFrom?: string;
}

/** The backups' settings, their defaults applied, or a ResourceError naming what is wrong. */
function backupSettings(args: PostgresBackupsArgs, clusterName: string, resource: pulumi.Resource): BackupSettings {
  const serverName = args.serverName ?? clusterName;
  const retention = args.retention ?? d.backups.retention;
  if (!d.backups.retentionPattern.test(retention)) {
    throw new pulumi.ResourceError(`backups.retention ${retention}: a number of days, weeks or months, such as 30d, 4w or 3m`, resource);
  }
  if (args.restoreFrom !== undefined && args.restoreFrom === serverName) {
    throw new pulumi.ResourceError(
      `backups.restoreFrom ${args.restoreFrom}: the restored cluster would archive over the backup it restores from; give it another serverName`,
      resource,
    );
  }
  return {
    store: `${clusterName}-backups`,
    destinationPath: args.destinationPath,
    serverName,
    retention,
    schedule: args.schedule ?? d.backups.schedule,
    sidecarResources: args.sidecarResources ?? d.backups.sidecarResources,
    ...(args.restoreFrom !== undefined ? { restoreFrom: args.restoreFrom } : {}),
  };
}

/** PostgreSQL's image at a major version, as CloudNativePG publishes it, from a mirror when one is given. */
export const postgresImage = (version: string, registry = "ghcr.io"): string => `${registry}/cloudnative-pg/postgresql:${version}`;
