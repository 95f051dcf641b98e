/**
 * users on a managed database, reconciled by the real CloudNativePG operator (scripts/e2e, part
 * "databases"; the chart's pod on the real node, see ./operators.ts): its admission webhooks as
 * the API server calls them, what the operator made from the stack's Cluster, and how it meets
 * what the stack gave users (the Secret it reads, the host, the NetworkPolicies' labels). The instances' pods
 * cannot run here (PostgreSQL's image cannot be pulled, and no volume provisioner runs), so their
 * specs are checked, not their servers. FLOTILLA_E2E_PHASE says whether the stack is up or destroyed.
 */
import { describe, expect, it } from "vitest";
import { databaseDefaults } from "../../components/data/defaults";
import { postgresImage } from "../../components/data/postgresCluster";
import { eventually, requiredEnv } from "./env";
import { dryRun, get, items } from "./kube";
import { expectOperatorOnRealNode } from "./operators";
import { deployedConfig } from "./stackFile";

const phase = requiredEnv("FLOTILLA_E2E_PHASE");
const namespace = "flotilla";
const cluster = "users-db";
const selector = `cnpg.io/cluster=${cluster}`;
const config = deployedConfig();
const database = (config.services.users as { database?: unknown } | undefined)?.database as {
  postgresVersion: string;
  storageSize: string;
  resources: { requests: { cpu: string; memory: string } };
};
const decode = (secret: any, key: string) => Buffer.from(secret.data[key] ?? "", "base64").toString("utf8");
const isSubset = (labels: Record<string, string>, of: Record<string, string>) => Object.entries(labels).every(([k, v]) => of[k] === v);

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

  it("bootstraps the first instance from the stack's Cluster: version, resources, non-root, scheduling and volume", async () => {
    const pod = await eventually("the first instance's bootstrap pod", 90, async () => items("pods", "-n", namespace, "-l", selector)[0]);
    const container = pod.spec.containers[0];
    // From the image mirror when the stack names one (the e2e does: its registry).
    expect(container.image).toBe(postgresImage(database.postgresVersion, config.charts.imageRegistry));
    expect(container.resources.requests).toMatchObject({ cpu: database.resources.requests.cpu, memory: database.resources.requests.memory });
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    // The databases feature's scheduling, as the e2e set it: kwok's node.
    const scheduling = config.databases.scheduling;
    expect(pod.spec.nodeSelector).toMatchObject(scheduling.nodeSelector);
    expect(pod.spec.tolerations).toEqual(expect.arrayContaining(scheduling.tolerations.map((t) => expect.objectContaining(t))));
    const claims = items("pvc", "-n", namespace, "-l", selector);
    expect(claims.map((c) => c.spec.resources.requests.storage)).toEqual([database.storageSize]);
  });

  it("labels the instances as the NetworkPolicies select them: users reaches them, and their own policy covers them", () => {
    const pod = items("pods", "-n", namespace, "-l", selector)[0];
    const own = get("networkpolicy", "-n", namespace, `${cluster}-instances`);
    expect(isSubset(own.spec.podSelector.matchLabels, pod.metadata.labels)).toBe(true);
    const users = get("networkpolicy", "-n", namespace, "users");
    const toDatabase = users.spec.egress.filter((rule: any) => rule.ports?.some((p: any) => p.port === databaseDefaults.port));
    expect(toDatabase.length).toBe(1);
    expect(isSubset(toDatabase[0].to[0].podSelector.matchLabels, pod.metadata.labels)).toBe(true);
  });
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
