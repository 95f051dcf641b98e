/**
 * users on a managed database, all of it running (scripts/e2e, part "databases"): the real
 * CloudNativePG operator as the chart's pod on the real node (see ./operators.ts), its admission
 * webhooks as the API server calls them, and what it made from the stack's Cluster: a PostgreSQL
 * instance on the real node (Debian's server packaged as upstream's image) on a local volume, the
 * Secret users reads, the Services, and the NetworkPolicies as kube-router enforces them. users
 * keeps what it was told through its own rollout and a restart of the instance.
 * FLOTILLA_E2E_PHASE says whether the stack is up or destroyed.
 */
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { databaseDefaults } from "../../components/data/defaults";
import { postgresImage } from "../../components/data/postgresCluster";
import { databaseDashboard, databaseRules } from "../../components/data/rules";
import { dashboardQueries } from "../../components/monitoring/dashboards";
import * as fs from "node:fs";
import * as path from "node:path";
import { eventually, requiredEnv } from "./env";
import { dryRun, get, items, kubectl, ready, serviceUrl } from "./kube";
import { expectOperatorOnRealNode } from "./operators";
import { probeFromNamespace, probeFromPod } from "./probes";
import { everySelectorFindsSeries, prometheusClient } from "./promql";
import { deployedConfig } from "./stackFile";

const phase = requiredEnv("FLOTILLA_E2E_PHASE");
const namespace = "flotilla";
const cluster = "users-db";
const selector = `cnpg.io/cluster=${cluster}`;
const instanceSelector = `${selector},cnpg.io/podRole=instance`;
const config = deployedConfig();
const database = (config.services.users as { database?: unknown } | undefined)?.database as {
  postgresVersion: string;
  maxConnections: number;
  poolSize: number;
  storageSize: string;
  resources: { requests: { cpu: string; memory: string } };
};
const instances = (database as { instances?: number } | undefined)?.instances ?? databaseDefaults.instances(config.environment);
/** The e2e's Prometheus on 127.0.0.1, which scrapes what this suite names in its targets file. */
const prometheusUrl = () => requiredEnv("PROMETHEUS_URL");
const promql = () => prometheusClient(prometheusUrl());
const decode = (secret: any, key: string) => Buffer.from(secret.data[key] ?? "", "base64").toString("utf8");
const isSubset = (labels: Record<string, string>, of: Record<string, string>) => Object.entries(labels).every(([k, v]) => of[k] === v);
const gatewayUrl = () => serviceUrl(namespace, "gateway", config.services.gateway?.port);
/** A user created through the gateway, under an email of its own. */
const createUser = (name: string) =>
  fetch(`${gatewayUrl()}/v1/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, email: `${name.toLowerCase()}-${Date.now()}@example.com` }),
    signal: AbortSignal.timeout(10_000),
  });
/** The Cluster, once the operator reports every instance ready. */
const healthy = (what: string, seconds: number) =>
  eventually(what, seconds, async () => {
    const status = get<any>("cluster.postgresql.cnpg.io", "-n", namespace, cluster)?.status;
    return status?.readyInstances === status?.instances && status?.phase === "Cluster in healthy state" ? status : undefined;
  });

describe.runIf(phase === "deployed")("users' managed database, reconciled by the real operator", () => {
  it("has the operator running as the chart's pod on the real node, from the mirror's image, under the chart's RBAC", async () => {
    await expectOperatorOnRealNode({
      namespace: databaseDefaults.operatorNamespace,
      selector: "app.kubernetes.io/name=cloudnative-pg",
      repository: "cloudnative-pg/cloudnative-pg",
    });
  });

  it("has the API server call the operator's webhooks: a Cluster is defaulted by the mutating one, refused by the validating one", () => {
    const probe = (spec: object) => ({
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Cluster",
      metadata: { name: "webhook-probe", namespace },
      spec: { instances: 1, storage: { size: "1Gi" }, ...spec },
    });
    // No image named: the mutating webhook fills in the operator's default PostgreSQL image.
    const { admitted, refused } = dryRun(probe({}));
    expect(refused).toBeUndefined();
    expect(admitted.spec.imageName).toMatch(/postgresql:/);
    // Two bootstrap methods at once: only the validating webhook knows that is wrong (the CRD's
    // schema has no such rule; the message is the webhook's, cluster_webhook.go).
    const twoBootstraps = dryRun(probe({ bootstrap: { initdb: { database: "a", owner: "a" }, pg_basebackup: { source: "elsewhere" } } }));
    expect(twoBootstraps.refused).toMatch(/The Cluster "webhook-probe" is invalid: .*Only one bootstrap method can be specified at a time/s);
  });

  it("has the read-write, read-only and any-instance Services, each selecting the Cluster's instances on 5432", async () => {
    const services = await eventually("the operator's three Services", 90, async () => {
      const found = ["rw", "ro", "r"].map((suffix) => get("service", "-n", namespace, `${cluster}-${suffix}`));
      return found.every(Boolean) ? found : undefined;
    });
    for (const service of services) {
      expect(service.spec.selector[`cnpg.io/cluster`], service.metadata.name).toBe(cluster);
      expect(
        service.spec.ports.map((p: any) => p.port),
        service.metadata.name,
      ).toEqual([databaseDefaults.port]);
    }
  });

  it("keeps the owner's credentials in the Secret users reads, naming the read-write Service as the host", async () => {
    const secret = await eventually("the Secret users-db-app", 60, async () => get<any>("secret", "-n", namespace, `${cluster}-app`));
    expect(decode(secret, "username")).toBe("users");
    expect(decode(secret, "dbname")).toBe("users");
    expect(decode(secret, "host")).toBe(`${cluster}-rw`);
    expect(decode(secret, "password").length).toBeGreaterThanOrEqual(16);
    const uri = new URL(decode(secret, databaseDefaults.secretKeys.url));
    expect([uri.username, uri.hostname.split(".")[0], uri.port, uri.pathname]).toEqual(["users", `${cluster}-rw`, String(databaseDefaults.port), "/users"]);
    // users' Deployment reads exactly that Secret's key, and the host it names is a Service that exists.
    const container = get("deployment", "-n", namespace, "users").spec.template.spec.containers[0];
    expect(container.env).toContainEqual({
      name: databaseDefaults.variables.url,
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: databaseDefaults.secretKeys.url } },
    });
    expect(get("service", "-n", namespace, decode(secret, "host"))).toBeDefined();
  });

  it("runs the instances on the real node from the stack's Cluster: a primary and a streaming replica, version, resources, non-root, the volumes they claimed", async () => {
    // initdb's Job, then the primary; a join Job (pg_basebackup), then the replica: each a pod the real node starts.
    const status = await healthy(`the Cluster healthy, its ${instances} instances ready`, 300);
    expect(status.currentPrimary).toBe(`${cluster}-1`);
    const pods = items("pods", "-n", namespace, "-l", instanceSelector);
    expect(pods.map((p) => [p.metadata.name, p.metadata.labels["cnpg.io/instanceRole"], ready(p), p.spec.nodeName]).sort()).toEqual(
      Array.from({ length: instances }, (_, i) => [`${cluster}-${i + 1}`, i === 0 ? "primary" : "replica", true, requiredEnv("FLOTILLA_E2E_NODE")]),
    );
    expect(status.instancesStatus?.healthy?.sort()).toEqual(pods.map((p) => p.metadata.name).sort());
    for (const pod of pods) {
      const container = pod.spec.containers[0];
      // From the image mirror when the stack names one (the e2e does: its registry).
      expect(container.image).toBe(postgresImage(database.postgresVersion, config.charts.imageRegistry));
      expect(container.resources.requests).toMatchObject({ cpu: database.resources.requests.cpu, memory: database.resources.requests.memory });
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    }
    const claims = items("pvc", "-n", namespace, "-l", selector);
    expect(claims.map((c) => [c.spec.resources.requests.storage, c.status.phase])).toEqual(Array(instances).fill([database.storageSize, "Bound"]));
    // Each data directory on one of the node's volumes, at the Cluster's version: initdb's, and the
    // replica's copy of it.
    const volumes = requiredEnv("FLOTILLA_E2E_DATABASE_VOLUMES").split(" ");
    expect(claims.map((c) => get("pv", c.spec.volumeName)?.spec.local.path).sort()).toEqual([...volumes].sort());
    for (const volume of volumes) {
      expect(fs.readFileSync(path.join(volume, "pgdata", "PG_VERSION"), "utf8").trim()).toBe(database.postgresVersion);
    }
  }, 360_000);

  it("exports on the instance's metrics port every series the database's alerts and dashboard read, scraped by a real Prometheus", async () => {
    // The PodMonitor scrapes the port named "metrics" of the instances, and labels each series
    // with the pod's cluster (components/data/postgresCluster.ts): here, the same targets by hand.
    const targets = items("pods", "-n", namespace, "-l", instanceSelector).map((pod) => {
      const port = pod.spec.containers[0].ports.find((p: { name: string }) => p.name === "metrics")?.containerPort;
      expect(port).toBe(databaseDefaults.metricsPort);
      return { targets: [`${pod.status.podIP}:${port}`], labels: { namespace, pod: pod.metadata.name, cluster: pod.metadata.labels["cnpg.io/cluster"] } };
    });
    const dir = requiredEnv("FLOTILLA_E2E_PROMETHEUS_DIR");
    const rules = databaseRules({ cluster, namespace, instances, runbookBaseUrl: "docs/runbooks.md" });
    fs.writeFileSync(path.join(dir, "db-rules.yaml"), stringify({ groups: rules }));
    fs.writeFileSync(path.join(dir, "db-targets.json"), JSON.stringify(targets));
    const reload = await fetch(new URL("/-/reload", prometheusUrl()), { method: "POST" });
    expect(reload.status).toBe(200);
    await eventually("Prometheus to scrape every instance, up and its collector up", 60, async () => {
      const up = await promql().instant(`up{cluster="${cluster}"} == 1 and on (pod) cnpg_collector_up{cluster="${cluster}"} == 1`);
      return up.length === instances ? up : undefined;
    });
    const expressions = [...rules.flatMap((g) => g.rules.map((r) => r.expr)), ...dashboardQueries(databaseDashboard({ cluster, namespace }))];
    for (const expr of expressions) {
      await everySelectorFindsSeries(promql().instant, expr);
    }
    // A healthy cluster: no alert's condition holds, and every rule evaluates.
    const evaluated = await eventually("the database's rules evaluated", 30, async () => {
      const data = await promql().api<{ groups: { rules: { health: string; name: string }[] }[] }>("rules");
      const loaded = data.groups.flatMap((g) => g.rules);
      return loaded.length === rules.flatMap((g) => g.rules).length && loaded.every((r) => r.health === "ok") ? loaded : undefined;
    });
    expect(evaluated.map((r) => r.name)).toEqual(rules.flatMap((g) => g.rules.map((r) => ("alert" in r ? r.alert : r.record))));
    for (const rule of rules.flatMap((g) => g.rules)) {
      expect(await promql().instant(rule.expr), rule.expr).toEqual([]);
    }
    // The figures themselves: the declared max_connections reached the instance, and users'
    // replicas hold no more connections than their pools allow.
    const maxConnections = await promql().instant(`cnpg_pg_settings_setting{cluster="${cluster}",name="max_connections"}`);
    expect(maxConnections.map((sample) => Number(sample.value[1]))).toEqual(Array(instances).fill(database.maxConnections));
    const replicas = items("pods", "-n", namespace, "-l", "app.kubernetes.io/name=users").length;
    const held = await promql().instant(`sum(cnpg_backends_total{cluster="${cluster}",usename="users"})`);
    expect(Number(held[0]?.value[1])).toBeGreaterThan(0);
    expect(Number(held[0]?.value[1])).toBeLessThanOrEqual(replicas * database.poolSize);
  }, 120_000);

  it("labels the instances as the NetworkPolicies select them, and kube-router lets users alone reach them", async () => {
    const pod = items("pods", "-n", namespace, "-l", instanceSelector)[0];
    const own = get("networkpolicy", "-n", namespace, `${cluster}-instances`);
    expect(isSubset(own.spec.podSelector.matchLabels, pod.metadata.labels)).toBe(true);
    const users = get("networkpolicy", "-n", namespace, "users");
    const toDatabase = users.spec.egress.filter((rule: any) => rule.ports?.some((p: any) => p.port === databaseDefaults.port));
    expect(toDatabase.length).toBe(1);
    expect(isSubset(toDatabase[0].to[0].podSelector.matchLabels, pod.metadata.labels)).toBe(true);
    // Enforced: users' pod reaches the read-write Service; a pod of a namespace without policies
    // of its own does not (the instances' ingress refuses it).
    const check = { id: "rw", kind: "connect", host: `${cluster}-rw.${namespace}.svc.cluster.local`, port: databaseDefaults.port } as const;
    const usersPod = items("pods", "-n", namespace, "-l", "app.kubernetes.io/name=users").find(ready).metadata.name;
    const fromUsers = await probeFromPod(namespace, usersPod, `dbcheck-${Date.now().toString(36)}`, [check]);
    const fromOutside = await probeFromNamespace("default", `dbcheck-${Date.now().toString(36)}`, [check]);
    expect([fromUsers.rw, fromOutside.rw]).toEqual(["open", "closed"]);
  }, 240_000);

  it("keeps a user created through the gateway through a rollout of users and the loss of the primary, which fails over to the replica", async () => {
    const created = await createUser("Kept");
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const readBack = (what: string) =>
      eventually(what, 60, async () => {
        const response = await fetch(`${gatewayUrl()}/v1/users/${id}`, { signal: AbortSignal.timeout(5000) });
        return response.status === 200 ? ((await response.json()) as { id: string }) : undefined;
      });
    // Every users pod replaced: none of them holds the user.
    kubectl("rollout", "restart", "-n", namespace, "deployment/users");
    kubectl("rollout", "status", "-n", namespace, "deployment/users", "--timeout=120s");
    expect((await readBack("the user, after users' rollout")).id).toBe(id);
    // The primary's pod lost: killed 5 s after SIGTERM, as on a failing node (a graceful stop
    // would wait CloudNativePG's smart shutdown out while users holds its pooled connections). The
    // operator promotes the replica, points the read-write Service at it, and starts the old
    // primary again on its volume as the new replica; users' pools reconnect through the Service.
    kubectl("delete", "pod", "-n", namespace, `${cluster}-1`, "--grace-period=5", "--wait=false");
    const promoted = await eventually("a replica promoted", 120, async () => {
      const status = get<any>("cluster.postgresql.cnpg.io", "-n", namespace, cluster)?.status;
      return status?.currentPrimary && status.currentPrimary !== `${cluster}-1` ? status.currentPrimary : undefined;
    });
    expect(promoted).toBe(`${cluster}-2`);
    // Written after the failover, through the new primary.
    const afterFailover = await eventually("a create through the new primary", 60, async () => {
      const response = await createUser("After");
      return response.status === 201 ? ((await response.json()) as { id: string }) : undefined;
    });
    expect((await readBack("the user, after the failover")).id).toBe(id);
    await healthy("the Cluster healthy again, the old primary back as a replica", 180);
    const roles = items("pods", "-n", namespace, "-l", instanceSelector).map((p) => [p.metadata.name, p.metadata.labels["cnpg.io/instanceRole"]]);
    expect(roles.sort()).toEqual([
      [`${cluster}-1`, "replica"],
      [`${cluster}-2`, "primary"],
    ]);
    const response = await fetch(`${gatewayUrl()}/v1/users/${afterFailover.id}`, { signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
  }, 420_000);
});

describe.runIf(phase === "destroyed")("users' managed database, destroyed", () => {
  it("saw no change in a second up, after the operator had written its defaults into the Cluster", () => {
    const second = JSON.parse(requiredEnv("FLOTILLA_E2E_DATA_SECOND_UP")) as Record<string, number>;
    expect(Object.keys(second)).toEqual(["same"]);
  });

  it("leaves no database object behind: the Cluster, and the operator's Services, Secrets, volumes and pods", async () => {
    // The chart keeps its CRDs on uninstall (helm.sh/resource-policy: keep); with them, no Cluster is left.
    if (get("crd", "clusters.postgresql.cnpg.io") !== undefined) {
      expect(get("cluster.postgresql.cnpg.io", "-n", namespace, cluster)).toBeUndefined();
    }
    // The operator's objects belong to the Cluster: the garbage collector deletes them after it.
    const leftovers = () => [
      ...["pods", "services", "secrets", "pvc", "jobs"].flatMap((kind) =>
        items(kind, "-n", namespace, "-l", selector).map((o) => `${kind}/${o.metadata.name}`),
      ),
      ...["rw", "ro", "r", "app"]
        .map((suffix) => `${cluster}-${suffix}`)
        .filter((name) => get("service", "-n", namespace, name) ?? get("secret", "-n", namespace, name)),
    ];
    await eventually("nothing of the Cluster's left", 90, async () => (leftovers().length === 0 ? true : undefined)).catch(() => undefined);
    expect(leftovers()).toEqual([]);
    expect(get("namespace", databaseDefaults.operatorNamespace)?.status?.phase ?? "gone").not.toBe("Active");
  });
});
