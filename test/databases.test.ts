/**
 * Databases under Pulumi's mocks: a service that declares `database` gets a CloudNativePG cluster
 * of its own (or an external Secret), reads DATABASE_URL from the operator's Secret by reference,
 * and only it reaches the database; bad declarations are refused before anything is registered.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { databaseDefaults } from "../components/data/defaults";
import { databaseDashboard, databaseRules } from "../components/data/rules";
import { dashboardQueries } from "../components/monitoring/dashboards";
import { selectors } from "./live/promql";
import { type ProgramRun, registeredByLastRun, runProgram, runStack, stackConfigWithSecrets } from "./harness";

const withDatabase = (database: object, stack: "dev" | "prod" = "dev") =>
  runStack(stack, (config) => {
    config["flotilla:services"].users.database = database;
  });

describe("a service's managed database", () => {
  it("is a Cluster of its own, with a database and owner named after it, one instance in dev", async () => {
    const run = await withDatabase({});
    const cluster = run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db");
    expect(cluster.inputs.metadata).toMatchObject({ name: "users-db", namespace: "flotilla" });
    expect(cluster.inputs.spec).toMatchObject({
      instances: 1,
      imageName: `ghcr.io/cloudnative-pg/postgresql:${databaseDefaults.postgresVersion}`,
      enablePDB: false,
      bootstrap: { initdb: { database: "users", owner: "users" } },
      storage: { size: "1Gi" },
      affinity: { topologyKey: "kubernetes.io/hostname" },
      // Not CloudNativePG's 180 s: the service's pool never leaves on its own.
      smartShutdownTimeout: 15,
    });
    expect(run.ofType("kubernetes:helm.sh/v4:Chart").map((c) => c.inputs.chart)).toContain("cloudnative-pg");
    expect(run.one("kubernetes:core/v1:Namespace", "databases-operator-namespace").inputs.metadata.name).toBe("cnpg-system");
  });

  it("is given to the service by reference to the operator's Secret: no credential passes through Pulumi", async () => {
    const run = await withDatabase({});
    const container = run.one("kubernetes:apps/v1:Deployment", "users").inputs.spec.template.spec.containers[0];
    expect(container.env).toEqual([{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "users-db-app", key: "uri" } } }]);
    expect(run.one("kubernetes:core/v1:ConfigMap", "users-env").inputs.data).toMatchObject({ DATABASE_POOL_SIZE: String(databaseDefaults.poolSize) });
    expect(run.ofType("kubernetes:core/v1:Secret").filter((s) => JSON.stringify(s.inputs).includes("users-db"))).toEqual([]);
    // The gateway declares none, and gets nothing.
    expect(run.one("kubernetes:apps/v1:Deployment", "gateway").inputs.spec.template.spec.containers[0].env).toBeUndefined();
  });

  it("is reached by its service alone on 5432; the operator and the instances reach its instances", async () => {
    const run = await withDatabase({});
    const users = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users").inputs.spec;
    expect(users.egress).toContainEqual({
      to: [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "flotilla" } }, podSelector: { matchLabels: { "cnpg.io/cluster": "users-db" } } },
      ],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
    expect(JSON.stringify(run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gateway").inputs.spec)).not.toContain("users-db");
    const instances = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users-db-instances").inputs.spec;
    expect(instances.podSelector).toEqual({ matchLabels: { "cnpg.io/cluster": "users-db" } });
    expect(instances.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "users", "app.kubernetes.io/part-of": "flotilla" } } }],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
      {
        from: [{ podSelector: { matchLabels: { "cnpg.io/cluster": "users-db" } } }],
        ports: [
          { protocol: "TCP", port: 5432 },
          { protocol: "TCP", port: 8000 },
        ],
      },
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cnpg-system" } } }],
        ports: [
          { protocol: "TCP", port: 5432 },
          { protocol: "TCP", port: 8000 },
        ],
      },
      { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }], ports: [{ protocol: "TCP", port: 9187 }] },
    ]);
  });

  it("runs three instances over zones in prod, with a disruption budget", async () => {
    const run = await withDatabase({ synchronousReplicas: 1, poolSize: 7 }, "prod");
    expect(run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db").inputs.spec).toMatchObject({
      instances: 3,
      enablePDB: true,
      affinity: { topologyKey: "topology.kubernetes.io/zone" },
      postgresql: { synchronous: { method: "any", number: 1 } },
    });
  });

  it("installs the operator's admission webhooks unless told not to, where the API server cannot reach its pod", async () => {
    const webhooks = async (admissionWebhooks?: boolean) => {
      const run = await runStack("dev", (config) => {
        config["flotilla:services"].users.database = {};
        if (admissionWebhooks !== undefined) config["flotilla:databases"] = { admissionWebhooks };
      });
      const chart = run.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart === "cloudnative-pg");
      return chart?.inputs.values.webhook;
    };
    expect(await webhooks()).toEqual({ mutating: { create: true }, validating: { create: true } });
    expect(await webhooks(false)).toEqual({ mutating: { create: false }, validating: { create: false } });
  });

  it("is monitored where the stack runs Prometheus: a PodMonitor on its instances, alerts with runbooks, a dashboard", async () => {
    const run = await withDatabase({});
    const monitor = run.one("kubernetes:monitoring.coreos.com/v1:PodMonitor", "users-db-monitor").inputs;
    expect(monitor.metadata).toMatchObject({ name: "users-db", namespace: "flotilla" });
    expect(monitor.spec.selector.matchLabels).toEqual({ "cnpg.io/cluster": "users-db", "cnpg.io/podRole": "instance" });
    expect(monitor.spec.podMetricsEndpoints[0]).toMatchObject({ port: "metrics", relabelings: [{ targetLabel: "cluster" }] });
    const rules = run.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "users-db-rules").inputs.spec.groups.flatMap((g: any) => g.rules);
    // One instance in dev: no replica to lag.
    expect(rules.map((r: any) => r.alert)).toEqual(["FlotillaDatabaseInstanceDown", "FlotillaDatabaseConnectionsNearLimit"]);
    expect(rules[0].expr).toContain("< 1");
    const dashboard = run.one("kubernetes:core/v1:ConfigMap", "users-db-dashboard").inputs;
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(Object.keys(dashboard.data)).toEqual(["flotilla-db-flotilla-users-db.json"]);

    const prod = await withDatabase({ poolSize: 7 }, "prod");
    const prodRules = prod.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "users-db-rules").inputs.spec.groups.flatMap((g: any) => g.rules);
    expect(prodRules.map((r: any) => r.alert)).toContain("FlotillaDatabaseReplicationLag");
    expect(prodRules[0].expr).toContain("< 3");

    const unmonitored = await runStack("dev", (config) => {
      config["flotilla:services"].users.database = {};
      config["flotilla:monitoring"] = { enabled: false };
    });
    expect(unmonitored.ofType("kubernetes:monitoring.coreos.com/v1:PodMonitor")).toEqual([]);
    expect(unmonitored.ofType("kubernetes:postgresql.cnpg.io/v1:Cluster")).toHaveLength(1);
  });

  it("gives every database alert a severity, a summary and a runbook section that exists in docs/runbooks.md", () => {
    const runbooks = fs.readFileSync(path.join(__dirname, "..", "docs", "runbooks.md"), "utf8");
    const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map(([, heading]) => (heading as string).toLowerCase()));
    const alerts = databaseRules({ cluster: "users-db", namespace: "flotilla", instances: 3, runbookBaseUrl: "docs/runbooks.md", backups: true }).flatMap(
      (g) => g.rules,
    );
    expect(alerts).toHaveLength(5);
    for (const alert of alerts) {
      expect(["page", "ticket"]).toContain(alert.labels.severity);
      expect("annotations" in alert && alert.annotations.summary).toBeTruthy();
      expect(alert.expr).toContain('namespace="flotilla",cluster="users-db"');
      const anchor = "annotations" in alert ? alert.annotations.runbook_url?.split("#")[1] : undefined;
      expect(anchors, `docs/runbooks.md has no section for ${"alert" in alert ? alert.alert : ""}`).toContain(anchor);
    }
  });

  it("writes every alert and panel, the backups' included, in PromQL that Prometheus' own grammar parses", async () => {
    // Those without backups are also scraped for real (the e2e's suite databases); the backups'
    // metrics need the Barman Cloud plugin, which cannot run here.
    const args = { cluster: "users-db", namespace: "flotilla", instances: 3, runbookBaseUrl: "docs/runbooks.md", backups: true };
    const expressions = [...databaseRules(args).flatMap((g) => g.rules.map((r) => r.expr)), ...dashboardQueries(databaseDashboard(args))];
    expect(expressions.length).toBe(12);
    for (const expr of expressions) {
      expect((await selectors(expr)).errors, expr).toBe(0);
    }
  });

  it("deploys nothing of the feature when no service declares a database", async () => {
    const run = await runStack("dev");
    expect(run.resources.filter((r) => r.type.includes("cnpg") || r.name.includes("cloudnative") || r.name.includes("databases"))).toEqual([]);
  });
});

describe("backups", () => {
  const prodWithDatabase = (database: object = { poolSize: 7 }, backups?: object) =>
    runStack("prod", (config) => {
      config["flotilla:services"].users.database = database;
      if (backups !== undefined) config["flotilla:databases"] = { backups };
    });
  const aws = (run: ProgramRun, type: string) => run.ofType(`aws:${type}`);

  it("in prod, archive every database to a bucket of the stack's: its own KMS key, versioned, closed to the public, TLS only, kept by destroy", async () => {
    const run = await prodWithDatabase();
    const [bucket] = aws(run, "s3/bucket:Bucket");
    expect(bucket).toMatchObject({ protect: true, inputs: { forceDestroy: false, bucketPrefix: expect.stringMatching(/^flotilla-prod-db-backups-/) } });
    const [key] = aws(run, "kms/key:Key").filter((k) => k.name.includes("db-backups"));
    expect(key).toMatchObject({ protect: true, inputs: { enableKeyRotation: true } });
    expect(aws(run, "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]?.inputs.rules).toEqual([
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: `arn:aws:kms:eu-west-1:123456789012:key/${key?.name}` },
        bucketKeyEnabled: true,
      },
    ]);
    expect(aws(run, "s3/bucketVersioning:BucketVersioning")[0]?.inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect(aws(run, "s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]?.inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const policy = JSON.parse(aws(run, "s3/bucketPolicy:BucketPolicy")[0]?.inputs.policy);
    expect(policy.Statement).toEqual([expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]);
    // The Cluster is protected as the bucket is: a destroy keeps its volumes.
    expect(run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db").protect).toBe(true);
    expect(run.outputs.databases).toMatchObject({});
    expect(run.values.databases).toEqual({ backupBucket: bucket?.inputs.bucketPrefix + "20261206" });
  });

  it("reach the bucket by EKS Pod Identity, each database under its own prefix only", async () => {
    const run = await prodWithDatabase();
    const role = aws(run, "iam/role:Role").find((r) => r.name === "users-db-backups");
    expect(JSON.parse(role?.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "pods.eks.amazonaws.com" });
    const bucketArn = aws(run, "s3/bucket:Bucket")[0]?.inputs.bucketPrefix;
    const statements = JSON.parse(aws(run, "iam/rolePolicy:RolePolicy").find((p) => p.name === "users-db-backups")?.inputs.policy).Statement;
    expect(statements).toEqual([
      expect.objectContaining({ Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `arn:aws:s3:::${bucketArn}20261206/users-db/*` }),
      expect.objectContaining({ Action: "s3:ListBucket", Condition: { StringLike: { "s3:prefix": ["users-db", "users-db/*"] } } }),
      expect.objectContaining({ Action: "s3:GetBucketLocation" }),
      expect.objectContaining({
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
      }),
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"s3:\*"|"\*"/);
    expect(aws(run, "eks/podIdentityAssociation:PodIdentityAssociation").find((a) => a.name === "users-db-backups")?.inputs).toMatchObject({
      namespace: "flotilla",
      serviceAccount: "users-db",
      roleArn: "arn:aws:iam::123456789012:role/users-db-backups",
    });
    // The instances get their credentials from the node's Pod Identity agent.
    expect(run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users-db-instances").inputs.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: "169.254.170.23/32" } }],
      ports: [{ protocol: "TCP", port: 80 }],
    });
  });

  it("archive WAL continuously and take a daily base backup through the Barman Cloud plugin, with alerts on both", async () => {
    const run = await prodWithDatabase();
    const cluster = run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db").inputs.spec;
    expect(cluster.plugins).toEqual([
      { name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: "users-db-backups", serverName: "users-db" } },
    ]);
    expect(cluster.bootstrap).toEqual({ initdb: { database: "users", owner: "users" } });
    const store = run.one("kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "users-db-backups").inputs;
    expect(store.metadata.name).toBe("users-db-backups");
    expect(store.spec).toMatchObject({
      configuration: {
        destinationPath: expect.stringMatching(/^s3:\/\/flotilla-prod-db-backups-.*\/users-db\/$/),
        s3Credentials: { inheritFromIAMRole: true },
      },
      retentionPolicy: "30d",
      instanceSidecarConfiguration: { resources: { requests: expect.any(Object), limits: expect.any(Object) } },
    });
    expect(run.one("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", "users-db-daily").inputs.spec).toEqual({
      cluster: { name: "users-db" },
      schedule: "0 0 3 * * *",
      method: "plugin",
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
      immediate: true,
      backupOwnerReference: "self",
    });
    const plugin = run.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart === "plugin-barman-cloud")?.inputs;
    expect(plugin?.namespace).toBe("cnpg-system");
    expect(plugin?.values.certificate).toEqual({ createClientCertificate: false, createServerCertificate: false });
    expect(plugin?.postRenderer.args.slice(-2)).toEqual(["--drop", "cert-manager.io/Issuer"]);
    const rules = run.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "users-db-rules").inputs.spec.groups.flatMap((g: any) => g.rules);
    expect(rules.map((r: any) => r.alert)).toEqual(expect.arrayContaining(["FlotillaDatabaseWalArchivingFailing", "FlotillaDatabaseBackupTooOld"]));
    const dashboard = JSON.parse(Object.values(run.one("kubernetes:core/v1:ConfigMap", "users-db-dashboard").inputs.data)[0] as string);
    expect(JSON.stringify(dashboard)).toContain("barman_cloud_cloudnative_pg_io_last_available_backup_timestamp");
  });

  it("trust the plugin by certificates of the stack's, their keys Pulumi secrets", async () => {
    const run = await prodWithDatabase();
    for (const name of ["barman-cloud-server-tls", "barman-cloud-client-tls"]) {
      const secret = run.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata?.name === name)?.inputs;
      expect(secret).toMatchObject({ type: "kubernetes.io/tls", metadata: { namespace: "cnpg-system" } });
      // Pulumi's secret signature: the private key is a secret in the state.
      expect(secret?.stringData).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
    }
    const server = run.ofType("tls:index/certRequest:CertRequest").find((r) => r.name.endsWith("-server"))?.inputs;
    expect(server?.dnsNames).toContain("barman-cloud.cnpg-system.svc");
  });

  it("are off in dev, and may be turned off in prod", async () => {
    for (const run of [await withDatabase({}), await prodWithDatabase({ poolSize: 7 }, { enabled: false })]) {
      expect(run.resources.filter((r) => r.type.startsWith("aws:s3") || r.type.startsWith("tls:") || r.type.includes("barmancloud"))).toEqual([]);
      expect(run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db").inputs.spec.plugins).toBeUndefined();
    }
  });

  it("restore by a new Cluster bootstrapped from an archive, archiving under a new name", async () => {
    const run = await prodWithDatabase({ poolSize: 7, restoreFrom: "users-db", serverName: "users-db-2" });
    const cluster = run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db");
    expect(cluster.inputs.spec.bootstrap).toEqual({ recovery: { source: "origin", database: "users", owner: "users" } });
    expect(cluster.inputs.spec.externalClusters).toEqual([
      { name: "origin", plugin: { name: "barman-cloud.cloudnative-pg.io", parameters: { barmanObjectName: "users-db-backups", serverName: "users-db" } } },
    ]);
    expect(cluster.inputs.spec.plugins[0].parameters.serverName).toBe("users-db-2");
    expect(cluster.replaceOnChanges).toEqual(["spec.bootstrap"]);
  });
});

describe("an external database", () => {
  it("is read from the named Secret, reached at its addresses only, with no operator", async () => {
    const run = await withDatabase({ type: "external", secretName: "users-rds", cidr: "10.0.64.0/20" });
    const container = run.one("kubernetes:apps/v1:Deployment", "users").inputs.spec.template.spec.containers[0];
    expect(container.env).toEqual([{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "users-rds", key: "uri" } } }]);
    expect(run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users").inputs.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: "10.0.64.0/20" } }],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
    expect(run.ofType("kubernetes:helm.sh/v4:Chart").map((c) => c.inputs.chart)).not.toContain("cloudnative-pg");
    expect(run.ofType("kubernetes:postgresql.cnpg.io/v1:Cluster")).toEqual([]);
  });
});

describe("an external database whose URL is a Pulumi secret", () => {
  const url = "postgres://users:s3cret-pw@10.0.64.10:5432/users";
  const run = () => {
    const { values, secretKeys } = stackConfigWithSecrets("dev");
    values["flotilla:services"].users.database = { type: "external", cidr: "10.0.64.10/32" };
    values["flotilla:services"].users.secretEnv = { DATABASE_URL: url };
    return runProgram("dev", values, [...secretKeys, "flotilla:services"]);
  };

  it("reaches the service through its secret environment, a Kubernetes Secret, with the pool size beside it", async () => {
    const deployed = await run();
    const container = deployed.one("kubernetes:apps/v1:Deployment", "users").inputs.spec.template.spec.containers[0];
    expect(container.env).toBeUndefined();
    const secret = deployed.one("kubernetes:core/v1:Secret", "users-secret-env");
    // Pulumi's secret signature: the URL is a secret in the state too.
    expect(secret.inputs.stringData).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { DATABASE_URL: url } });
    expect(container.envFrom).toContainEqual({ secretRef: { name: expect.stringMatching(/^users-secret-env/) } });
    expect(JSON.stringify(deployed.one("kubernetes:core/v1:ConfigMap", "users-env").inputs)).not.toContain("s3cret-pw");
  });
});

describe("the PostgreSQL version", () => {
  it("is taken as YAML gives it, quoted or not", async () => {
    const run = await withDatabase({ postgresVersion: 16 }, "dev");
    expect(run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db").inputs.spec.imageName).toBe("ghcr.io/cloudnative-pg/postgresql:16");
  });
});

describe("refusals, before anything is registered", () => {
  it.each([
    ["dev", { postgresVersion: "12" }, /services\.users\.database\.postgresVersion: must be one of: 15, 16, 17, 18; given "12"/],
    ["dev", { postgresVersion: 14 }, /services\.users\.database\.postgresVersion: must be one of: 15, 16, 17, 18; given 14$/m],
    ["prod", { instances: 1 }, /services\.users\.database\.instances: must be at least 2 in prod: the disruption budget/],
    ["dev", { storageSize: "512Mi" }, /services\.users\.database\.storageSize: must be at least 1Gi: the write-ahead log/],
    ["dev", { instances: 2, synchronousReplicas: 2 }, /services\.users\.database\.synchronousReplicas: must be fewer than the instances \(2\)/],
    ["prod", { poolSize: 10 }, /services\.users\.database\.poolSize: 12 replicas × 10 connections exceed max_connections \(100\) less 10 .*at most 7 each/],
    ["dev", { type: "external" }, /services\.users\.database\.secretName: is required with type external/],
    ["dev", { secretName: "mine" }, /services\.users\.database\.secretName: applies only with type external/],
    ["dev", { password: "hunter2hunter2" }, /services\.users\.database\.password: unknown key; allowed here: type, .*secretName/],
    ["dev", { restoreFrom: "users-db" }, /services\.users\.database\.restoreFrom: applies only with databases\.backups on/],
    ["prod", { poolSize: 7, restoreFrom: "users-db" }, /services\.users\.database\.restoreFrom: is the archive this cluster writes to \(serverName users-db\)/],
    ["prod", { poolSize: 7, serverName: "Users" }, /services\.users\.database\.serverName: lower-case letters/],
    [
      "dev",
      { type: "external", secretName: "rds", cidr: "10.0.0.0/16", restoreFrom: "x" },
      /services\.users\.database\.restoreFrom: applies only with type managed/,
    ],
  ] as const)("on %s, refuses %j", async (stack, database, message) => {
    await expect(withDatabase(database, stack)).rejects.toThrow(message);
    expect(registeredByLastRun()).toEqual([]);
  });

  it.each([
    [{ enabled: true }, /databases\.backups\.enabled: backups need a bucket, which the stack makes only beside an EKS cluster it knows .*not existing/],
    [{ enabled: true, retention: "30 days" }, /databases\.backups\.retention: a number of days, weeks or months/],
    [{ enabled: true, schedule: "0 3 * * *" }, /databases\.backups\.schedule: a six-field cron expression/],
  ])("refuses backups %j on a kind cluster", async (backups, message) => {
    const run = runStack("dev", (config) => {
      config["flotilla:services"].users.database = {};
      config["flotilla:databases"] = { backups };
    });
    await expect(run).rejects.toThrow(message);
    expect(registeredByLastRun()).toEqual([]);
  });

  it("refuses a service that sets the database's variables itself", async () => {
    const run = runStack("dev", (config) => {
      config["flotilla:services"].users.database = {};
      config["flotilla:services"].users.env = { DATABASE_POOL_SIZE: "4" };
    });
    await expect(run).rejects.toThrow(/services\.users\.env\.DATABASE_POOL_SIZE: is set from services\.users\.database; remove it here/);
    expect(registeredByLastRun()).toEqual([]);
  });

  it("holds each instance's requests against the nodes, naming the key", async () => {
    await expect(withDatabase({ resources: { requests: { memory: "64Gi" }, limits: { memory: "64Gi" } } }, "prod")).rejects.toThrow(
      /services\.users\.database\.resources\.requests\.memory: must fit on a node: .*so PostgreSQL of users would stay Pending/,
    );
  });
});
