/**
 * Databases under Pulumi's mocks: a service that declares `database` gets a CloudNativePG cluster
 * of its own (or an external Secret), reads DATABASE_URL from the operator's Secret by reference,
 * and only it reaches the database; bad declarations are refused before anything is registered.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { databaseDefaults } from "../components/data/defaults";
import { databaseRules } from "../components/data/rules";
import { registeredByLastRun, runProgram, runStack, stackConfigWithSecrets } from "./harness";

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
    const alerts = databaseRules({ cluster: "users-db", namespace: "flotilla", instances: 3, runbookBaseUrl: "docs/runbooks.md" }).flatMap((g) => g.rules);
    expect(alerts).toHaveLength(3);
    for (const alert of alerts) {
      expect(["page", "ticket"]).toContain(alert.labels.severity);
      expect("annotations" in alert && alert.annotations.summary).toBeTruthy();
      expect(alert.expr).toContain('namespace="flotilla",cluster="users-db"');
      const anchor = "annotations" in alert ? alert.annotations.runbook_url?.split("#")[1] : undefined;
      expect(anchors, `docs/runbooks.md has no section for ${"alert" in alert ? alert.alert : ""}`).toContain(anchor);
    }
  });

  it("deploys nothing of the feature when no service declares a database", async () => {
    const run = await runStack("dev");
    expect(run.resources.filter((r) => r.type.includes("cnpg") || r.name.includes("cloudnative") || r.name.includes("databases"))).toEqual([]);
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
  ] as const)("on %s, refuses %j", async (stack, database, message) => {
    await expect(withDatabase(database, stack)).rejects.toThrow(message);
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
