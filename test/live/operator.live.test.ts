/**
 * What the real prometheus-operator (the chart's pod, on the real node: see ./operators.ts) made of
 * the stack: the Prometheus StatefulSet, a configuration that scrapes every service's
 * ServiceMonitor, and rule files that hold every stack rule and pass promtool.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { eventually } from "./env";
import { get, items, ready } from "./kube";
import { monitoringDefaults } from "../../components/monitoring/defaults";
import { expectOperatorOnRealNode } from "./operators";
import { deployedConfig } from "./stackFile";

const prometheus = "prometheus-monitoring-prometheus";

describe("prometheus-operator's work", async () => {
  it("runs as the chart's pod on the real node, from the mirror's image, under the chart's RBAC", async () => {
    const pod = await expectOperatorOnRealNode({
      namespace: "monitoring",
      selector: "app=kube-prometheus-stack-operator",
      repository: "prometheus-operator/prometheus-operator",
    });
    expect(pod.spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it("started after every CRD of its group existed: its Deployment names them all as dependencies", () => {
    const installed = items("crds")
      .map((crd) => crd.metadata.name as string)
      .filter((name) => name.endsWith(".monitoring.coreos.com"));
    const annotation = get("-n", "monitoring", "deployment", "monitoring-operator")?.metadata.annotations?.["config.kubernetes.io/depends-on"] ?? "";
    expect(installed.length).toBeGreaterThan(0);
    expect(annotation.split(",").sort()).toEqual(installed.map((name) => `apiextensions.k8s.io/CustomResourceDefinition/${name}`).sort());
  });

  it("has the optional kinds' CRDs as the stack file asks (left out in dev), and runs without those controllers", () => {
    const stack = deployedConfig();
    const wanted = stack.monitoring.optionalKinds ?? monitoringDefaults.optionalKinds.installed(stack.environment);
    const installed = new Set(items("crds").map((crd) => crd.metadata.name as string));
    for (const crd of monitoringDefaults.optionalKinds.crds) expect(installed.has(crd), crd).toBe(wanted);
  });

  const config = await eventually("the operator to write the Prometheus configuration", 90, async () => {
    const secret = get("-n", "monitoring", "secret", prometheus);
    const gz = secret?.data?.["prometheus.yaml.gz"];
    return gz ? (parse(gunzipSync(Buffer.from(gz, "base64")).toString()) as { scrape_configs: { job_name: string }[] }) : undefined;
  });
  const ruleFiles = await eventually("the operator to write the rule files", 90, async () => {
    const data = get("-n", "monitoring", "configmap", `${prometheus}-rulefiles-0`)?.data as Record<string, string> | undefined;
    return data && Object.keys(data).some((file) => file.startsWith("flotilla-")) ? data : undefined;
  });

  it("made the Prometheus and Alertmanager StatefulSets, whose pods pass Pod Security restricted", async () => {
    for (const name of [prometheus, "alertmanager-monitoring-alertmanager"]) {
      expect(get("-n", "monitoring", "statefulset", name), name).toBeDefined();
    }
    const pods = await eventually("the StatefulSets' pods to be admitted and ready", 90, async () => {
      const all = items("-n", "monitoring", "pods", "-l", "app.kubernetes.io/managed-by=prometheus-operator");
      return all.length >= 2 && all.every(ready) ? all : undefined;
    });
    expect(pods.map((p) => p.spec.securityContext.runAsNonRoot)).toEqual(pods.map(() => true));
  });

  it("scrapes every service's ServiceMonitor", () => {
    const jobs = config.scrape_configs.map((c) => c.job_name);
    for (const monitor of items("-n", "flotilla", "servicemonitors")) {
      expect(jobs).toContain(`serviceMonitor/flotilla/${monitor.metadata.name}/0`);
    }
  });

  it("scrapes the PodMonitors the features made (the tracing collector's)", () => {
    const jobs = config.scrape_configs.map((c) => c.job_name);
    const monitors = items("podmonitors", "-A").filter((m) => m.metadata.labels?.["app.kubernetes.io/part-of"] === "flotilla");
    expect(monitors.map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toContain("tracing/collector");
    for (const monitor of monitors) {
      expect(jobs).toContain(`podMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/0`);
    }
  });

  it("loads every rule of every PrometheusRule of the stack, the features' included", () => {
    const loaded = Object.values(ruleFiles).flatMap((text) => (parse(text) as { groups: { rules: { alert?: string; record?: string }[] }[] }).groups);
    const names = new Set(loaded.flatMap((g) => g.rules.map((r) => r.alert ?? r.record)));
    const declared = items("prometheusrules", "-A")
      .filter((r) => r.metadata.labels?.["app.kubernetes.io/part-of"] === "flotilla")
      .flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules.map((x: any) => x.alert ?? x.record)));
    expect(declared.length).toBeGreaterThan(20);
    expect(declared).toContain("FlotillaTraceSpansDropped");
    expect(declared.filter((name) => !names.has(name))).toEqual([]);
  });

  it("writes rule files that promtool accepts", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rulefiles-"));
    try {
      for (const [file, text] of Object.entries(ruleFiles)) {
        fs.writeFileSync(path.join(dir, file), text);
        expect(() => execFileSync("promtool", ["check", "rules", path.join(dir, file)], { stdio: "pipe" }), file).not.toThrow();
      }
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
