import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { burnRateWindows, serviceRules } from "../components/monitoring/alertRules";
import { dashboardQueries, grafanaJson, overviewDashboard, serviceDashboard } from "../components/monitoring/dashboards";
import { monitoringDefaults } from "../components/monitoring/defaults";
import { retentionSize } from "../components/monitoring/monitoring";
import { ConfigError } from "../config/errors";
import { projectDir, registeredByLastRun, runStack, testGrafanaPassword } from "./harness";
import { secretSignatureKey } from "./manifests";

const CHART = "kubernetes:helm.sh/v4:Chart";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const CUSTOM = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";

describe.each(["dev", "prod"] as const)("monitoring in the %s stack", async (stack) => {
  const run = await runStack(stack);
  const chart = run.one(CHART, "monitoring").inputs;
  const values = chart.values;
  const prometheus = values.prometheus.prometheusSpec;

  it("installs the pinned kube-prometheus-stack from its upstream repository", () => {
    expect(chart).toMatchObject({
      chart: "kube-prometheus-stack",
      version: "88.5.3",
      repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
      name: "monitoring",
      namespace: "monitoring",
    });
  });

  it("runs without Helm hooks: no admission webhook, no TLS listener that would need its certificate", () => {
    expect(values.prometheusOperator.admissionWebhooks).toEqual({ enabled: false, patch: { enabled: false } });
    expect(values.prometheusOperator.tls).toEqual({ enabled: false });
    expect(values.grafana.testFramework).toEqual({ enabled: false });
  });

  it("has the operator's Deployment wait for the chart's CRDs it installs, which it looks for only when it starts", () => {
    const dependsOn = String(values.prometheusOperator.annotations["config.kubernetes.io/depends-on"]).split(",");
    expect(dependsOn).toContain("apiextensions.k8s.io/CustomResourceDefinition/prometheuses.monitoring.coreos.com");
    expect(dependsOn).toHaveLength(stack === "prod" ? 10 : 7);
  });

  it(`${stack === "prod" ? "installs" : "leaves out"} the operator's kinds Flotilla does not use`, () => {
    const optional = monitoringDefaults.optionalKinds.crds.map((crd) => `apiextensions.k8s.io/CustomResourceDefinition/${crd}`);
    const dropped = (chart.postRenderer.args as string[]).filter((_arg, i, args) => args[i - 1] === "--drop");
    const dependsOn = String(values.prometheusOperator.annotations["config.kubernetes.io/depends-on"]).split(",");
    if (stack === "prod") {
      expect(dropped).toEqual([]);
      expect(dependsOn).toEqual(expect.arrayContaining(optional));
    } else {
      expect(dropped).toEqual(optional);
      for (const crd of optional) expect(dependsOn).not.toContain(crd);
    }
  });

  it("selects every monitor and rule, not only those with the release label", () => {
    for (const kind of ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"]) {
      expect(prometheus[`${kind}SelectorNilUsesHelmValues`]).toBe(false);
    }
  });

  it("keeps everything restricted but node-exporter, in a namespace of its own", () => {
    const level = (name: string) =>
      run.ofType(NAMESPACE).find((n) => n.inputs.metadata.name === name)?.inputs.metadata.labels["pod-security.kubernetes.io/enforce"];
    expect(level("monitoring")).toBe("restricted");
    expect(level("monitoring-node")).toBe("privileged");
    expect(values["prometheus-node-exporter"].namespaceOverride).toBe("monitoring-node");
  });

  it("gives Grafana a fixed admin password from a secret, never from the chart's random one", () => {
    const secret = run.one("kubernetes:core/v1:Secret", "monitoring-grafana-admin").inputs;
    expect(secret.stringData[secretSignatureKey]).toBeDefined();
    expect(secret.stringData.value["admin-password"]).toBe(testGrafanaPassword);
    expect(values.grafana.admin).toMatchObject({ existingSecret: "monitoring-grafana-admin-abc123", passwordKey: "admin-password" });
    expect(JSON.stringify(values)).not.toContain(testGrafanaPassword);
  });

  it("sets requests and limits on every pod it configures", () => {
    for (const resources of [
      prometheus.resources,
      values.prometheusOperator.resources,
      values.alertmanager.alertmanagerSpec.resources,
      values.grafana.resources,
      values.grafana.sidecar.resources,
      values["kube-state-metrics"].resources,
      values["prometheus-node-exporter"].resources,
    ]) {
      expect(Object.keys(resources).sort()).toEqual(["limits", "requests"]);
    }
  });

  it("makes a ServiceMonitor, a PrometheusRule and a dashboard per service, after the chart", () => {
    const monitors = run.ofType(CUSTOM);
    expect(monitors.map((m) => m.inputs.metadata.name).sort()).toEqual(["gateway", "users"]);
    expect(monitors.find((m) => m.inputs.metadata.name === "users")?.inputs.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "users", "app.kubernetes.io/part-of": "flotilla" } },
      endpoints: [{ port: "ops", path: "/metrics", scheme: "http", interval: "30s" }],
    });
    // One per service, beside the tracing collector's own (test/tracing.test.ts) and, in prod,
    // users' database's (test/databases.test.ts).
    const database = stack === "prod" ? ["users-db"] : [];
    expect(
      run
        .ofType(RULE)
        .map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`)
        .sort(),
    ).toEqual(["flotilla/gateway", "flotilla/users", ...database.map((name) => `flotilla/${name}`), "tracing/collector"]);
    const dashboards = run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata.labels?.grafana_dashboard === "1");
    expect(dashboards.map((d) => d.name).sort()).toEqual(
      ["gateway-dashboard", "monitoring-flotilla-overview", "users-dashboard", ...database.map((name) => `${name}-dashboard`)].sort(),
    );
  });

  it("opens each service's operations port to the monitoring namespace only", () => {
    const policy = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users").inputs.spec;
    expect(policy.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      ports: [{ protocol: "TCP", port: 8081 }],
    });
  });

  if (stack === "dev") {
    it("fits a laptop: one of each, no volumes", () => {
      expect(prometheus.replicas).toBe(1);
      expect(values.alertmanager.alertmanagerSpec.replicas).toBe(1);
      expect(prometheus.storageSpec).toEqual({ emptyDir: { sizeLimit: "2Gi" } });
      expect(prometheus.retention).toBe("15d");
      expect(prometheus.retentionSize).toBe("1740MB");
    });
  } else {
    it("keeps data on persistent volumes of the default storage class, replicated", () => {
      expect(prometheus.replicas).toBe(2);
      expect(values.alertmanager.alertmanagerSpec.replicas).toBe(3);
      expect(prometheus.storageSpec.volumeClaimTemplate.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } } });
      expect(values.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName).toBeUndefined();
      expect(prometheus.retention).toBe("30d");
      expect(prometheus.retentionSize).toBe("43520MB");
    });
  }
});

describe("monitoring switched off", async () => {
  const run = await runStack("dev", (config) => (config["flotilla:monitoring"] = { enabled: false }));

  it("deploys none of it and closes the operations port again", () => {
    expect(run.ofType(CHART).map((c) => c.inputs.chart)).not.toContain("kube-prometheus-stack");
    expect(run.ofType(CUSTOM)).toEqual([]);
    expect(run.ofType(RULE)).toEqual([]);
    expect(run.ofType(NAMESPACE).map((n) => n.inputs.metadata.name)).not.toContain("monitoring");
    expect(run.resources.filter((r) => r.type.startsWith("flotilla:monitoring:"))).toEqual([]);
    const ingress = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users").inputs.spec.ingress;
    expect(JSON.stringify(ingress)).not.toContain("namespaceSelector");
  });

  it("needs no Grafana password", () => {
    expect(run.ofType("kubernetes:core/v1:Secret").map((s) => s.name)).not.toContain("monitoring-grafana-admin");
  });
});

describe("prometheus-operator's optional kinds", () => {
  it("are installed in dev too when asked for", async () => {
    const run = await runStack("dev", (config) => (config["flotilla:monitoring"] = { ...(config["flotilla:monitoring"] as object), optionalKinds: true }));
    const chart = run.one(CHART, "monitoring").inputs;
    expect((chart.postRenderer.args as string[]).includes("--drop")).toBe(false);
    expect(String(chart.values.prometheusOperator.annotations["config.kubernetes.io/depends-on"]).split(",")).toHaveLength(10);
  });
});

describe("chart sources", () => {
  it("takes every chart from a mirror repository", async () => {
    const run = await runStack("dev", (config) => (config["flotilla:charts"] = { repository: "http://127.0.0.1:8879" }));
    expect(run.one(CHART, "monitoring").inputs).toMatchObject({ version: "88.5.3", repositoryOpts: { repo: "http://127.0.0.1:8879" } });
  });

  it("takes every chart's images from one mirror registry, and only then", async () => {
    const mirror = "registry.internal/mirror";
    const run = await runStack("dev", (config) => (config["flotilla:charts"] = { imageRegistry: mirror }));
    expect(run.one(CHART, "monitoring").inputs.values.global).toEqual({ imageRegistry: mirror });
    const eck = run.one(CHART, "logging-eck-operator").inputs.values;
    expect(eck.image).toEqual({ repository: `${mirror}/eck/eck-operator` });
    // Merged into the chart's config, not over it: the metrics port stays off.
    expect(eck.config).toEqual({ metrics: { port: "0" }, containerRegistry: mirror });
    expect(run.one(CHART, "logging-fluent-bit").inputs.values.image).toEqual({ repository: `${mirror}/fluent/fluent-bit` });
    const upstream = await runStack("dev");
    expect(upstream.one(CHART, "monitoring").inputs.values.global).toBeUndefined();
    expect(upstream.one(CHART, "logging-fluent-bit").inputs.values.image).toBeUndefined();
  });

  it("refuses a mirror registry that is no registry address", async () => {
    const run = runStack("dev", (config) => (config["flotilla:charts"] = { imageRegistry: "https://registry.internal" }));
    await expect(run).rejects.toThrow(/flotilla:charts\.imageRegistry: a registry address such as/);
    expect(registeredByLastRun()).toEqual([]);
  });

  it("takes chart packages from a directory", async () => {
    const directory = fs.mkdtempSync(path.join(projectDir, "build-charts-"));
    try {
      for (const file of [
        "kube-prometheus-stack-88.5.3.tgz",
        "eck-operator-3.5.0.tgz",
        "fluent-bit-0.58.1.tgz",
        "opentelemetry-collector-0.170.0.tgz",
        "jaeger-4.2.3.tgz",
      ]) {
        fs.writeFileSync(path.join(directory, file), "");
      }
      const run = await runStack("dev", (config) => (config["flotilla:charts"] = { directory: path.basename(directory) }));
      expect(run.one(CHART, "monitoring").inputs.chart).toBe(path.join(directory, "kube-prometheus-stack-88.5.3.tgz"));
      expect(run.one(CHART, "monitoring").inputs.repositoryOpts).toBeUndefined();
    } finally {
      fs.rmSync(directory, { recursive: true });
    }
  });

  it("refuses a chart directory that lacks a chart, before registering anything", async () => {
    const run = runStack("dev", (config) => (config["flotilla:charts"] = { directory: "services" }));
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(/flotilla:charts\.directory: .*kube-prometheus-stack-88\.5\.3\.tgz is missing/);
    expect(registeredByLastRun()).toEqual([]);
  });
});

describe("service rules", () => {
  const groups = serviceRules({
    service: "gateway",
    namespace: "flotilla",
    protocol: "http",
    thresholds: monitoringDefaults.thresholds,
    availabilityObjectivePercent: 99.9,
    runbookBaseUrl: "https://example.com/flotilla/README.md",
  });
  const alerts = groups.flatMap((g) => g.rules).filter((r) => "alert" in r);
  const readme = fs.readFileSync(path.join(projectDir, "docs", "runbooks.md"), "utf8");
  const anchors = new Set(
    [...readme.matchAll(/^#+ (.+)$/gm)].map(([, heading]) =>
      (heading as string)
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, "")
        .replace(/ /g, "-"),
    ),
  );

  it("covers errors, latency, targets, restarts, crash loops and the error budget", () => {
    expect(alerts.map((a) => a.alert)).toEqual([
      "FlotillaHTTPErrorRate",
      "FlotillaHTTPLatencyP99",
      "FlotillaTargetDown",
      "FlotillaRestarting",
      "FlotillaCrashLooping",
      "FlotillaErrorBudgetBurn",
      "FlotillaErrorBudgetSlowBurn",
    ]);
  });

  it("gives every alert a severity, a summary and a runbook section that exists in docs/runbooks.md", () => {
    for (const alert of alerts) {
      expect(["page", "ticket"]).toContain(alert.labels.severity);
      expect(alert.annotations.summary).toBeTruthy();
      const [base, anchor] = alert.annotations.runbook_url!.split("#");
      expect(base).toBe("https://example.com/flotilla/README.md");
      expect(anchors, `docs/runbooks.md has no section for ${alert.alert}`).toContain(anchor);
    }
  });

  it("scopes every expression to the service's job and namespace", () => {
    for (const rule of groups.flatMap((g) => g.rules)) {
      expect(rule.expr).toMatch(/job="gateway",namespace="flotilla"|namespace="flotilla",container="gateway"/);
    }
  });

  it("burns the budget at the SRE workbook's rates: 14.4 and 6 page, 3 and 1 open a ticket", () => {
    const page = alerts.find((a) => a.alert === "FlotillaErrorBudgetBurn")!;
    expect(page.expr).toContain('flotilla:request_errors:ratio_rate1h{job="gateway",namespace="flotilla"} > 0.0144');
    expect(page.expr).toContain('flotilla:request_errors:ratio_rate5m{job="gateway",namespace="flotilla"} > 0.0144');
    expect(page.expr).toContain('ratio_rate6h{job="gateway",namespace="flotilla"} > 0.006');
    const ticket = alerts.find((a) => a.alert === "FlotillaErrorBudgetSlowBurn")!;
    expect(ticket.expr).toContain('ratio_rate3d{job="gateway",namespace="flotilla"} > 0.001');
    expect(burnRateWindows.map((w) => w.factor)).toEqual([14.4, 6, 3, 1]);
  });

  it("records the error ratio over every window an alert reads", () => {
    expect(groups[0]!.rules.map((r) => ("record" in r ? r.record : ""))).toEqual(
      ["1h", "5m", "6h", "30m", "1d", "2h", "3d"].map((w) => `flotilla:request_errors:ratio_rate${w}`),
    );
  });
});

describe("dashboards", () => {
  it("show rate, errors, duration and the Go runtime of a service", () => {
    const dashboard = serviceDashboard({ service: "users", namespace: "flotilla", protocol: "grpc" });
    expect(dashboard.panels.map((p) => p.title)).toEqual([
      "Requests per second",
      "Error ratio",
      "Duration",
      "Goroutines",
      "GC pause (max of last cycles)",
      "Heap in use",
      "Resident memory",
    ]);
    expect(dashboardQueries(dashboard).every((q) => q.includes('job="users",namespace="flotilla"'))).toBe(true);
  });

  it("are Grafana JSON on the provisioned Prometheus data source", () => {
    const json = JSON.parse(grafanaJson(overviewDashboard("flotilla")));
    expect(json.uid).toBe("flotilla-flotilla-overview");
    expect(json.panels.every((p: any) => p.datasource.uid === "prometheus" && p.targets.length > 0)).toBe(true);
  });
});

describe("retentionSize", () => {
  it.each([
    ["50Gi", "43520MB"],
    ["2Gi", "1740MB"],
    ["1.5Gi", "1305MB"],
  ])("leaves 15%% of %s free", (size, expected) => {
    expect(retentionSize(size)).toBe(expected);
  });
});
