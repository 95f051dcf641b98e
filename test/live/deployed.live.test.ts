/**
 * The dev stack as `pulumi up` left it on the real API server (scripts/e2e): the services, their
 * policies, and the monitoring chart's workloads, all admitted under their namespaces' Pod
 * Security levels and rolled out before `up` returned.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { requiredEnv } from "./env";
import { get, items, podState, ready, rolloutShortfall } from "./kube";

const images = { users: requiredEnv("FLOTILLA_E2E_USERS_IMAGE"), gateway: requiredEnv("FLOTILLA_E2E_GATEWAY_IMAGE") };
const container = (deployment: string) => get("-n", "flotilla", "deployment", deployment)?.spec.template.spec.containers[0];

describe("the services", () => {
  it("run in a namespace that enforces Pod Security restricted", () => {
    expect(get("namespace", "flotilla")?.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it.each(Object.entries(images))("%s runs its image by digest", (name, image) => {
    expect(container(name)?.image).toBe(image);
  });

  it("run read-only, and drain before they stop", () => {
    expect(container("users")?.securityContext.readOnlyRootFilesystem).toBe(true);
    const env = get("-n", "flotilla", "configmap", container("gateway")?.envFrom[0].configMapRef.name)?.data;
    expect(env?.DRAIN_PERIOD).toBe("5s");
  });

  it("are ClusterIP Services, users headless (one address per pod) with ready endpoints", () => {
    expect(get("-n", "flotilla", "service", "users")?.spec).toMatchObject({ type: "ClusterIP", clusterIP: "None" });
    expect(get("-n", "flotilla", "service", "gateway")?.spec.clusterIP).not.toBe("None");
    const slices = items("-n", "flotilla", "endpointslices", "-l", "kubernetes.io/service-name=users");
    expect(slices.flatMap((s) => s.endpoints.map((e: any) => e.conditions.ready))).toEqual([true, true, true]);
  });

  it("deny by default and admit users' callers only", () => {
    expect(get("-n", "flotilla", "networkpolicy", "default-deny")?.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const users = get("-n", "flotilla", "networkpolicy", "users")?.spec;
    expect(users.ingress[0].from[0].podSelector.matchLabels["app.kubernetes.io/name"]).toBe("gateway");
    expect(users.ingress[1].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).toBe("monitoring");
  });

  it("keep a disruption budget for users' three replicas and immutable environments", () => {
    expect(get("-n", "flotilla", "poddisruptionbudget", "users")?.spec.maxUnavailable).toBe(1);
    const configMaps = items("-n", "flotilla", "configmaps", "-l", "app.kubernetes.io/part-of=flotilla,app.kubernetes.io/component=service");
    expect(configMaps.map((c) => c.immutable)).toEqual([true, true]);
  });

  it("were rolled out before up returned: 4 pods ready under restricted", () => {
    const pods = items("-n", "flotilla", "pods", "-l", "app.kubernetes.io/part-of=flotilla");
    expect(pods.filter(ready)).toHaveLength(4);
  });
});

describe("monitoring", () => {
  it("runs in a restricted namespace, with node-exporter alone at privileged", () => {
    expect(get("namespace", "monitoring")?.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(get("namespace", "monitoring-node")?.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(items("-n", "monitoring-node", "daemonsets").map((d) => d.metadata.name)).toEqual(["monitoring-prometheus-node-exporter"]);
  });

  it.each(["monitoring-operator", "monitoring-grafana", "monitoring-kube-state-metrics"])("%s was rolled out before up returned", (name) => {
    expect(rolloutShortfall("monitoring", name)).toBeUndefined();
  });

  it("admitted every chart pod under its namespace's level", () => {
    const pods = [...items("-n", "monitoring", "pods"), ...items("-n", "monitoring-node", "pods")];
    expect(pods.length).toBeGreaterThanOrEqual(4);
    expect(pods.filter((p) => !ready(p)).map(podState)).toEqual([]);
  });

  it("made the CRDs the ServiceMonitors and rules need, and one of each per service", () => {
    expect(get("crd", "servicemonitors.monitoring.coreos.com")).toBeDefined();
    expect(
      items("-n", "flotilla", "servicemonitors")
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(["gateway", "users"]);
    expect(
      items("-n", "flotilla", "prometheusrules")
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(["gateway", "users"]);
  });

  it("gives Grafana the password the stack holds, from a Secret the chart did not make", () => {
    const grafana = get("-n", "monitoring", "deployment", "monitoring-grafana")?.spec.template.spec.containers.find((c: any) => c.name === "grafana");
    const password = grafana.env.find((e: any) => e.name === "GF_SECURITY_ADMIN_PASSWORD");
    const secret = get("-n", "monitoring", "secret", password.valueFrom.secretKeyRef.name);
    expect(Buffer.from(secret?.data["admin-password"], "base64").toString()).toBe(requiredEnv("FLOTILLA_E2E_GRAFANA_PASSWORD"));
  });

  it("gives Grafana the logs as a data source from a Secret its sidecar loads, read as a user of its own", () => {
    const sources = items("-n", "monitoring", "secrets", "-l", "grafana_datasource=1");
    const file = sources.map((s) => s.data?.["logs.yaml"]).find(Boolean);
    expect(file, "a Secret holding logs.yaml").toBeDefined();
    const [logs] = JSON.parse(Buffer.from(file, "base64").toString()).datasources;
    expect([logs.basicAuthUser, logs.secureJsonData.basicAuthPassword]).toEqual(["flotilla-grafana", requiredEnv("FLOTILLA_E2E_GRAFANA_READER_PASSWORD")]);
    // The same user in Elasticsearch's file realm, which ECK reads.
    const realm = get("-n", "logging", "elasticsearch", "logs")?.spec.auth.fileRealm.map((r: any) => get("-n", "logging", "secret", r.secretName));
    expect(realm.map((s: any) => Buffer.from(s.data.username, "base64").toString())).toContain("flotilla-grafana");
  });

  it("gives Grafana the chart's node dashboards for Linux, which node-exporter runs on, and none for AIX or macOS", () => {
    const dashboards = items("-n", "monitoring", "configmaps", "-l", "grafana_dashboard=1").map((c) => c.metadata.name as string);
    expect(dashboards).toContain("monitoring-nodes");
    expect(dashboards.filter((name) => /-nodes-(aix|darwin)$/.test(name))).toEqual([]);
  });
});

describe("the stack's state", () => {
  it("holds no password in plain text, nor base64-encoded: each is a Pulumi secret", () => {
    const secrets = requiredEnv("FLOTILLA_E2E_SECRETS").split(" ").filter(Boolean);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const state = requiredEnv("FLOTILLA_E2E_STATE");
    const checkpoints = fs
      .readdirSync(state, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".json"))
      .map((f) => path.join(state, f));
    expect(checkpoints.length, "the backend's stack files").toBeGreaterThan(0);
    for (const file of checkpoints) {
      const text = fs.readFileSync(file, "utf8");
      for (const [i, secret] of secrets.entries()) {
        for (const form of [secret, Buffer.from(secret).toString("base64")]) {
          expect(text.includes(form), `secret #${i} in ${path.relative(state, file)}`).toBe(false);
        }
      }
    }
  });
});
