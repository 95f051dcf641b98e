/**
 * The databases feature's part of the config contract: a service's `database` and the shared
 * `databases` settings. Defaults come from components/data/defaults.ts, written once there.
 */
import { z } from "zod";
import { databaseDefaults as d } from "../../components/data/defaults";
import { bytes, cidr, operatorSchedulingSchema, port, resourcesSchema, schedulingSchema } from "../../config/parts";

const secretName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "a Secret name: lower-case letters, digits, '-' and '.'")
  .describe(
    "external: an existing Secret in the services' namespace whose `uri` key holds a postgres:// URL; else the URL is the service's secretEnv.DATABASE_URL.",
  );

/** An archive's name in the backup bucket: a DNS label, as Barman's server names are. */
const archiveName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "lower-case letters, digits and '-', at most 63");

export const databaseSchema = z
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
export type Database = z.output<typeof databaseSchema>;

export const databasesSchema = z
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
          .regex(d.backups.retentionPattern, "a number of days, weeks or months: 30d, 4w, 3m")
          .default(d.backups.retention)
          .describe("How far back a restore may go: older base backups and their WAL are deleted."),
      })
      .prefault({})
      .describe("Backups of the managed databases."),
  })
  .prefault({})
  .describe("Settings shared by the services' databases (`services.<name>.database`).");
export type DatabasesSlice = z.output<typeof databasesSchema>;
