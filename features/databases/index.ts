/**
 * Databases as a feature: a service declares `database` and gets PostgreSQL. Managed (the
 * default): a cluster of its own run by CloudNativePG (the PostgresCluster component), whose
 * operator the feature installs; external: a database made elsewhere (RDS by another stack),
 * its URL in an existing Secret's `uri`, or a Pulumi secret set as the service's
 * `secretEnv.DATABASE_URL`. The service reads `DATABASE_URL` by reference to a Secret either way,
 * never as plain config, and only it may reach the database.
 */
import * as helm from "@pulumi/kubernetes/helm/v4";
import * as pulumi from "@pulumi/pulumi";
import { resourceRequirements, standardLabels } from "../../components/apps/podSpec";
import { chartPostRenderer } from "../../components/charts/postRender";
import { podScheduling } from "../../components/apps/scheduling";
import { charts, chartSource, chartValues } from "../../components/charts/charts";
import { BackupAccess } from "../../components/data/backupBucket";
import { databaseDefaults as d } from "../../components/data/defaults";
import { postgresAppSecret, PostgresCluster, postgresClusterName } from "../../components/data/postgresCluster";
import { AppNamespace } from "../../components/namespace/appNamespace";
import { podRequests } from "../../components/podDemand";
import { bytesProblem, quantityValue } from "../../components/quantities";
import { defineFeature, type StackView } from "../feature";
import { deployBackups } from "./backups";
import { type Database, databaseSchema, databasesSchema, type DatabasesSlice } from "./schema";

/** The services that declare a database, with it. */
const databasesOf = (stack: StackView) =>
  Object.entries(stack.services).flatMap(([name, service]) => (service.database ? [{ name, service, database: service.database as Database }] : []));
const managed = (stack: StackView) => databasesOf(stack).filter((s) => s.database.type === "managed");
const instancesOf = (database: Database, environment: string) => database.instances ?? d.instances(environment);
const backupsOn = (slice: DatabasesSlice, environment: string) => slice.backups.enabled ?? d.backups.enabled(environment);
/** The clusters whose EKS cluster the stack knows, which Pod Identity needs. */
const eksKnown = (stack: StackView) => stack.cluster.type === "eks" || stack.cluster.type === "stackReference";
/** The most replicas a service runs: its autoscaler's maximum, or its fixed count. */
const maxReplicas = (service: Readonly<Record<string, unknown>>) =>
  (service.autoscaling as { max: number } | undefined)?.max ?? (service.replicas as number | undefined) ?? 1;

export const databasesFeature = defineFeature({
  key: "databases",
  schema: databasesSchema,
  // The operator runs only for managed databases; an external one needs none.
  charts: (_slice, stack) => (managed(stack).length > 0 ? [charts.cloudnativePg] : []),
  namespaces: [{ name: d.operatorNamespace, podSecurity: "restricted", why: "the CloudNativePG operator" }],
  serviceKey: { key: "database", schema: databaseSchema },
  // CloudNativePG's chart keeps its CRDs on uninstall (helm.sh/resource-policy: keep).
  teardown: { keptCrds: [{ groupSuffix: "postgresql.cnpg.io", kinds: ["clusters.postgresql.cnpg.io"] }] },
  enabled: (_slice, stack) => databasesOf(stack).length > 0,
  check(slice, stack, report) {
    const backups = backupsOn(slice, stack.environment);
    if (backups && managed(stack).length > 0 && !eksKnown(stack)) {
      report(
        ["backups", "enabled"],
        slice.backups.enabled ?? `${backups} (the default in ${stack.environment})`,
        `backups need a bucket, which the stack makes only beside an EKS cluster it knows (cluster.type eks or stackReference, not ${stack.cluster.type}); set databases.backups.enabled false to run without them`,
      );
    }
    for (const { name, service, database } of databasesOf(stack)) {
      const at = (...path: string[]) => ["services", name, "database", ...path];
      const urlAsSecret = d.variables.url in ((service.secretEnv ?? {}) as Record<string, unknown>);
      for (const kind of ["env", "secretEnv"] as const) {
        const own = (service[kind] ?? {}) as Record<string, unknown>;
        // An external database's URL may come as a Pulumi secret, in secretEnv; nothing else is the service's to set.
        const allowed = kind === "secretEnv" && database.type === "external" && database.secretName === undefined ? [d.variables.url] : [];
        for (const variable of Object.values(d.variables).filter((v) => v in own && !allowed.includes(v))) {
          report(["services", name, kind, variable], undefined, `is set from services.${name}.database; remove it here`);
        }
      }
      if (database.type === "external") {
        if (database.secretName === undefined && !urlAsSecret) {
          report(
            at("secretName"),
            undefined,
            `is required with type external unless the URL is a secret: pulumi config set --secret --path services.${name}.secretEnv.${d.variables.url} <postgres://…>`,
          );
        }
        if (database.cidr === undefined) {
          report(at("cidr"), undefined, "is required with type external: the addresses the service may reach the database at");
        }
        for (const key of ["serverName", "restoreFrom"] as const) {
          if (database[key] !== undefined) {
            report(at(key), database[key], "applies only with type managed: an external database's backups are its owner's");
          }
        }
        continue;
      }
      for (const key of ["serverName", "restoreFrom"] as const) {
        if (database[key] !== undefined && !backups) {
          report(at(key), database[key], "applies only with databases.backups on: it names an archive in the backup bucket");
        }
      }
      const serverName = database.serverName ?? postgresClusterName(name);
      if (database.restoreFrom !== undefined && database.restoreFrom === serverName) {
        report(
          at("restoreFrom"),
          database.restoreFrom,
          `is the archive this cluster writes to (serverName ${serverName}): a restored cluster would archive over its own source; set services.${name}.database.serverName to a new name`,
        );
      }
      for (const key of ["secretName", "cidr"] as const) {
        if (database[key] !== undefined) {
          report(at(key), database[key], "applies only with type external: a managed database's Secret and address are the operator's");
        }
      }
      const instances = instancesOf(database, stack.environment);
      if (stack.environment === "prod" && instances < 2) {
        report(
          at("instances"),
          instances,
          "must be at least 2 in prod: the disruption budget keeps the primary through node drains, which one instance would block forever",
        );
      }
      if (database.synchronousReplicas >= instances) {
        report(
          at("synchronousReplicas"),
          database.synchronousReplicas,
          `must be fewer than the instances (${instances}): a commit waits for that many replicas`,
        );
      }
      const minStorage = 2 * quantityValue(d.maxWalSize);
      if (bytesProblem(database.storageSize) === undefined && quantityValue(database.storageSize) < minStorage) {
        report(at("storageSize"), database.storageSize, `must be at least 1Gi: the write-ahead log alone may take max_wal_size (${d.maxWalSize})`);
      }
      const replicas = maxReplicas(service);
      const room = database.maxConnections - d.reservedConnections;
      if (replicas * database.poolSize > room) {
        report(
          at("poolSize"),
          database.poolSize,
          `${replicas} replicas × ${database.poolSize} connections exceed max_connections (${database.maxConnections}) less ${d.reservedConnections} kept for the operator and superusers: at most ${Math.floor(room / replicas)} each, or raise maxConnections`,
        );
      }
    }
  },
  pods: (slice, stack) => {
    const backups = backupsOn(slice, stack.environment);
    return [
      { pod: "the CloudNativePG operator", key: ["scheduling"], requests: podRequests(d.operator.resources.requests), fixed: true },
      ...(backups
        ? [{ pod: "the Barman Cloud plugin", key: ["backups", "enabled"], requests: podRequests(d.backups.pluginResources.requests), fixed: true as const }]
        : []),
      ...managed(stack).map(({ name, database }) => ({
        pod: `PostgreSQL of ${name}`,
        key: ["services", name, "database", "resources", "requests"],
        // With backups, the plugin's sidecar runs beside PostgreSQL in each instance pod.
        requests: podRequests(database.resources.requests, ...(backups ? [d.backups.sidecarResources.requests] : [])),
      })),
    ];
  },
  servicePaths: () => ({}),
  forService(_slice, { name, config, namespace }) {
    const database = config.database as Database | undefined;
    if (database === undefined) {
      return {};
    }
    const external = database.type === "external";
    // Without a Secret's name, the URL comes through the service's secretEnv (checked above).
    const secret = external ? database.secretName : postgresAppSecret(name);
    return {
      env: { [d.variables.poolSize]: String(database.poolSize) },
      secretKeyEnv: secret === undefined ? [] : [{ name: d.variables.url, secret, key: d.secretKeys.url }],
      egress: [
        external
          ? { cidr: database.cidr as string, port: database.port }
          : { namespace, podLabels: { "cnpg.io/cluster": postgresClusterName(name) }, port: d.port },
      ],
    };
  },
  deploy(slice, context) {
    const stack = context.stack;
    if (managed(stack).length === 0) {
      return { outputs: {} };
    }
    const operatorNamespace = new AppNamespace(
      "databases-operator-namespace",
      { namespaceName: d.operatorNamespace, podSecurity: "restricted", defaultDeny: false, labels: standardLabels(d.operatorNamespace, "databases") },
      context.opts,
    ).name;
    const operator = new helm.Chart(
      "cloudnative-pg",
      {
        ...chartSource(charts.cloudnativePg, context.chartSource),
        postRenderer: chartPostRenderer(),
        name: "cnpg",
        namespace: operatorNamespace,
        values: chartValues(charts.cloudnativePg, context.chartSource, {
          crds: { create: true },
          webhook: { mutating: { create: slice.admissionWebhooks }, validating: { create: slice.admissionWebhooks } },
          resources: resourceRequirements(d.operator.resources),
          ...podScheduling(slice.operatorScheduling ?? slice.scheduling),
        }),
      },
      context.opts,
    );
    const backups = backupsOn(slice, context.environment) ? deployBackups(slice, context, operatorNamespace, operator) : undefined;
    const monitoring = context.monitoring();
    return {
      outputs: backups ? { backupBucket: backups.bucket.bucketName } : {},
      addToService(service) {
        const database = service.config.database as Database | undefined;
        if (database?.type !== "managed") {
          return;
        }
        const clusterName = postgresClusterName(service.name);
        if (backups) {
          new BackupAccess(`${clusterName}-backups`, {
            bucketArn: backups.bucket.bucketArn,
            keyArn: backups.bucket.keyArn,
            prefix: clusterName,
            eksClusterName: backups.eksClusterName,
            namespace: service.namespace,
            // CloudNativePG runs a Cluster's pods as a ServiceAccount of the Cluster's name.
            serviceAccount: clusterName,
          });
        }
        new PostgresCluster(
          clusterName,
          {
            namespace: service.namespace,
            service: service.name,
            instances: instancesOf(database, context.environment),
            postgresVersion: database.postgresVersion,
            storageSize: database.storageSize,
            storageClass: database.storageClass,
            maxConnections: database.maxConnections,
            synchronousReplicas: database.synchronousReplicas,
            spreadOverZones: context.environment === "prod",
            disruptionBudget: context.environment === "prod",
            resources: database.resources,
            scheduling: slice.scheduling,
            scrapedFrom: context.scrapers,
            ...(monitoring ? { monitoring } : {}),
            ...(context.chartSource.imageRegistry ? { imageRegistry: context.chartSource.imageRegistry } : {}),
            ...(backups
              ? {
                  backups: {
                    destinationPath: pulumi.interpolate`s3://${backups.bucket.bucketName}/${clusterName}/`,
                    serverName: database.serverName,
                    retention: slice.backups.retention,
                    schedule: slice.backups.schedule,
                    restoreFrom: database.restoreFrom,
                  },
                }
              : {}),
            protect: context.protect,
          },
          // The Cluster needs the chart's CRDs, and its webhooks served by the running operator;
          // with backups, the plugin it archives through.
          { ...context.opts, dependsOn: [operator, ...(backups ? [backups.plugin] : [])] },
        );
      },
    };
  },
});
