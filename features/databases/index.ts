/**
 * Databases as a feature: a service declares `database` and gets PostgreSQL. Managed (the
 * default): a cluster of its own run by CloudNativePG (the PostgresCluster component), whose
 * operator the feature installs; external: a database made elsewhere (RDS by another stack),
 * its URL in an existing Secret's `uri`, or a Pulumi secret set as the service's
 * `secretEnv.DATABASE_URL`. The service reads `DATABASE_URL` by reference to a Secret either way,
 * never as plain config, and only it may reach the database.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { resourceRequirements, standardLabels } from "../../components/apps/podSpec";
import { chartPostRenderer } from "../../components/charts/postRender";
import { podScheduling } from "../../components/apps/scheduling";
import { charts, chartSource, chartValues } from "../../components/charts/charts";
import { BackupAccess, BackupBucket } from "../../components/data/backupBucket";
import { databaseDefaults as d } from "../../components/data/defaults";
import { PluginCertificates } from "../../components/data/pluginCertificates";
import { PostgresCluster } from "../../components/data/postgresCluster";
import { AppNamespace } from "../../components/namespace/appNamespace";
import { podRequests } from "../../components/podDemand";
import { bytesProblem, quantityValue } from "../../components/quantities";
import { bytes, cidr, operatorSchedulingSchema, port, resourcesSchema, schedulingSchema } from "../../config/parts";
import { defineFeature, type FeatureContext, type StackView } from "../feature";

const secretName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "a Secret name: lower-case letters, digits, '-' and '.'")
  .describe(
    "external: an existing Secret in the services' namespace whose `uri` key holds a postgres:// URL; else the URL is the service's secretEnv.DATABASE_URL.",
  );

/** An archive's name in the backup bucket: a DNS label, as Barman's server names are. */
const archiveName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "lower-case letters, digits and '-', at most 63");

const databaseSchema = z
  .strictObject({
    type: z
      .enum(["managed", "external"])
      .default("managed")
      .describe("managed: a PostgreSQL cluster of the service's own, run by CloudNativePG; external: a database made elsewhere."),
    instances: z
      .number()
      .int()
      .min(1)
      .max(9)
      .optional()
      .describe("managed: PostgreSQL instances, one primary and streaming replicas; 3 in prod (over zones), 1 elsewhere when unset."),
    postgresVersion: z
      // YAML reads an unquoted 17 as a number; the version is the same.
      .preprocess((version) => (typeof version === "number" ? String(version) : version), z.enum(d.postgresVersions))
      .default(d.postgresVersion)
      .describe(`managed: PostgreSQL major version; ${d.postgresVersion} when unset.`),
    storageSize: bytes.default(d.storageSize).describe(`managed: volume per instance, at least twice max_wal_size (${d.maxWalSize}).`),
    storageClass: z.string().min(1).optional().describe("managed: storage class of the volumes; the cluster's default when unset."),
    maxConnections: z.number().int().min(20).max(5000).default(d.maxConnections).describe("managed: PostgreSQL's max_connections."),
    synchronousReplicas: z.number().int().min(0).max(8).default(0).describe("managed: replicas each commit waits for; 0 is asynchronous replication."),
    resources: resourcesSchema(d.resources),
    poolSize: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(d.poolSize)
      .describe("Connections each replica of the service holds at most; all replicas' must fit in max_connections."),
    serverName: archiveName
      .optional()
      .describe(
        "managed, with backups: the name the cluster's archive takes in the backup bucket; `<service>-db` when unset. A restored cluster needs a new one.",
      ),
    restoreFrom: archiveName
      .optional()
      .describe(
        "managed, with backups: bootstrap the database from this archive of the backup bucket (an earlier cluster's serverName) instead of an empty one. Setting it replaces the cluster.",
      ),
    secretName: secretName.optional(),
    cidr: cidr.optional().describe("external: the addresses the database listens on, which only this service may reach."),
    port: port.default(d.port).describe("external: the database's port."),
  })
  .describe("A PostgreSQL database for the service, given to it as DATABASE_URL.");
type Database = z.output<typeof databaseSchema>;

const databasesSchema = z
  .strictObject({
    scheduling: schedulingSchema("the PostgreSQL instances and the CloudNativePG operator"),
    operatorScheduling: operatorSchedulingSchema("the CloudNativePG operator"),
    admissionWebhooks: z
      .boolean()
      .default(d.operator.admissionWebhooks)
      .describe(
        "CloudNativePG's admission webhooks, which default and validate Clusters as they are written; off where the API server cannot reach the operator's pod. The operator then defaults and validates each Cluster itself before reconciling it, and reports a refusal in its status.",
      ),
    backups: z
      .strictObject({
        enabled: z
          .boolean()
          .optional()
          .describe(
            "Continuous WAL archiving and a daily base backup of every managed database to an S3 bucket the stack makes, through CloudNativePG's Barman Cloud plugin; on in prod, off elsewhere when unset. Needs an EKS cluster the stack knows (cluster.type eks or stackReference).",
          ),
        schedule: z
          .string()
          .regex(/^\S+( \S+){5}$/, "a six-field cron expression, seconds first: 0 0 3 * * *")
          .default(d.backups.schedule)
          .describe("When base backups are taken (UTC), a six-field cron expression, seconds first."),
        retention: z
          .string()
          .regex(/^[1-9][0-9]*[dwm]$/, "a number of days, weeks or months: 30d, 4w, 3m")
          .default(d.backups.retention)
          .describe("How far back a restore may go: older base backups and their WAL are deleted."),
      })
      .prefault({})
      .describe("Backups of the managed databases."),
  })
  .prefault({})
  .describe("Settings shared by the services' databases (`services.<name>.database`).");
type DatabasesSlice = z.output<typeof databasesSchema>;

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
        if (database.type === "managed" && database[key] !== undefined && !backups) {
          report(at(key), database[key], "applies only with databases.backups on: it names an archive in the backup bucket");
        }
      }
      const serverName = database.serverName ?? `${name}-db`;
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
    const secret = external ? database.secretName : `${name}-db-app`;
    return {
      env: { [d.variables.poolSize]: String(database.poolSize) },
      secretKeyEnv: secret === undefined ? [] : [{ name: d.variables.url, secret, key: d.secretKeys.url }],
      egress: [external ? { cidr: database.cidr as string, port: database.port } : { namespace, podLabels: { "cnpg.io/cluster": `${name}-db` }, port: d.port }],
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
    const operator = new k8s.helm.v4.Chart(
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
        const clusterName = `${service.name}-db`;
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
          `${service.name}-db`,
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

/**
 * What backups need once for every database: the bucket, the plugin (in the operator's namespace,
 * where the operator looks for it) and the certificates they trust each other by.
 */
function deployBackups(slice: DatabasesSlice, context: FeatureContext, namespace: pulumi.Input<string>, operator: pulumi.Resource) {
  const { eksClusterName } = context;
  if (eksClusterName === undefined) {
    // The contract refuses this first (check above); a caller of deploy() alone meets it here.
    throw new Error("databases.backups: backups need the EKS cluster's name, for Pod Identity");
  }
  const labels = standardLabels(d.backups.pluginService, "databases");
  const certificates = new PluginCertificates("barman-cloud-certificates", { namespace, labels }, context.opts);
  const plugin = new k8s.helm.v4.Chart(
    "barman-cloud",
    {
      ...chartSource(charts.barmanCloud, context.chartSource),
      // The chart asks cert-manager for the certificates; the stack makes them (PluginCertificates).
      postRenderer: chartPostRenderer({ drop: ["cert-manager.io/Issuer"] }),
      name: "barman-cloud",
      namespace,
      values: chartValues(charts.barmanCloud, context.chartSource, {
        certificate: { createClientCertificate: false, createServerCertificate: false },
        resources: resourceRequirements(d.backups.pluginResources),
        // A new certificate restarts the plugin, which reads its certificates at start.
        podAnnotations: { "flotilla.dev/certificates": certificates.rotation },
        ...podScheduling(slice.operatorScheduling ?? slice.scheduling),
      }),
    },
    { ...context.opts, dependsOn: [operator, certificates] },
  );
  const bucket = new BackupBucket(`flotilla-${pulumi.getStack()}-db-backups`, { protect: context.protect });
  return { bucket, plugin, eksClusterName };
}
