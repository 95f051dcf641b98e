/**
 * Tracing under Pulumi's mocks: the OpenTelemetry Collector and Jaeger from their charts, Jaeger
 * on the logging feature's Elasticsearch as a user limited to its indices, every service pointed
 * at the collector with its environment's sampling, the paths between them and nothing else
 * opened; switched off, none of it; bad settings refused before anything is registered.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tracingRules } from "../components/tracing/rules";
import { registeredByLastRun, runStack, testGrafanaReaderPassword, testTracingStoragePassword } from "./harness";
import { secretSignatureKey } from "./manifests";

const CHART = "kubernetes:helm.sh/v4:Chart";
const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SECRET = "kubernetes:core/v1:Secret";
const inNamespace = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
const collectorPods = { "app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": "collector" };
const jaegerPods = { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": "jaeger" };
const tcp = (port: number) => [{ protocol: "TCP", port }];
/** The chart values of Grafana's data source sidecar, and a service's dashboard, as Grafana reads them. */
const grafanaDatasources = (run: Awaited<ReturnType<typeof runStack>>) =>
  run.ofType(CHART).find((c) => c.inputs.name === "monitoring")?.inputs.values.grafana.sidecar.datasources;
/** An Elasticsearch user a feature declared: its file realm entry (a secret in the state) and its role. */
function elasticsearchUser(run: Awaited<ReturnType<typeof runStack>>, user: string): { entry: unknown; roles: unknown } {
  const secret = run.one(SECRET, `logging-${user}-user`).inputs.stringData;
  expect(secret[secretSignatureKey], `${user}'s file realm entry is a secret`).toBeDefined();
  return { entry: secret.value, roles: JSON.parse(run.one(SECRET, `logging-${user}-role`).inputs.stringData.value["roles.yml"]) };
}
/** The resources whose inputs hold `secret` outside a Pulumi secret. */
const plainHolders = (run: Awaited<ReturnType<typeof runStack>>, secret: string) =>
  run.resources
    .filter(({ inputs }) =>
      JSON.stringify(inputs, (_key, value) => (value && typeof value === "object" && secretSignatureKey in value ? "[secret]" : value)).includes(secret),
    )
    .map((r) => r.name);
const dashboardOf = (run: Awaited<ReturnType<typeof runStack>>, service: string) =>
  JSON.parse(Object.values(run.one("kubernetes:core/v1:ConfigMap", `${service}-dashboard`).inputs.data as Record<string, string>)[0] as string);

describe.each(["dev", "prod"] as const)("tracing in the %s stack", async (stack) => {
  const run = await runStack(stack);
  const chart = (name: string) => run.ofType(CHART).find((c) => c.inputs.name === name)?.inputs;

  it("runs the collector: OTLP gRPC in, memory_limiter and batch, OTLP out to Jaeger, the chart's other receivers off", () => {
    const collector = chart("collector");
    expect(collector).toMatchObject({ chart: "opentelemetry-collector", namespace: "tracing" });
    const values = collector?.values;
    expect(values).toMatchObject({ mode: "deployment", replicaCount: stack === "prod" ? 2 : 1, serviceAccount: { automountServiceAccountToken: false } });
    expect(values.config.receivers).toEqual({
      otlp: { protocols: { grpc: { endpoint: "${env:MY_POD_IP}:4317" }, http: null } },
      jaeger: null,
      zipkin: null,
      prometheus: null,
    });
    expect(values.config.service.pipelines).toEqual({
      logs: null,
      metrics: null,
      traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp_grpc"] },
    });
    expect(values.config.exporters.otlp_grpc.endpoint).toBe("jaeger.tracing.svc.cluster.local:4317");
    expect(values.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(values.resources).toEqual({ requests: expect.any(Object), limits: expect.any(Object) });
  });

  it("runs Jaeger on Elasticsearch alone, as its own user, with its password and CA from a Secret", () => {
    const values = chart("jaeger")?.values;
    // "memory" only keeps the chart's plain-text Elasticsearch variables out; the configuration is ours.
    expect(values.storage).toEqual({ type: "memory" });
    const config = JSON.parse(values.userconfig);
    expect(Object.keys(config.extensions.jaeger_storage.backends)).toEqual(["primary_store"]);
    expect(config.extensions.jaeger_storage.backends.primary_store).toEqual({
      elasticsearch: {
        server_urls: ["https://logs-es-http.logging.svc:9200"],
        auth: { basic: { username: "flotilla-jaeger", password_file: "/etc/jaeger-es/password", reload_interval: "1m" } },
        tls: { ca_file: "/etc/jaeger-es/ca.crt" },
        // A replica where Elasticsearch has a second node to hold it, as the logs have.
        indices: expect.objectContaining({ index_prefix: "flotilla", spans: { shards: 1, replicas: stack === "prod" ? 1 : 0 } }),
      },
    });
    expect(config.service.pipelines.traces).toEqual({ receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] });
    expect(values.jaeger.extraSecretMounts).toEqual([expect.objectContaining({ mountPath: "/etc/jaeger-es", readOnly: true })]);
    const storage = run.one(SECRET, "tracing-storage").inputs.stringData;
    expect(storage[secretSignatureKey]).toBeDefined();
    expect(storage.value.password).toBe(testTracingStoragePassword);
  });

  it("gives Jaeger a user in Elasticsearch whose role reaches Jaeger's indices only", () => {
    const { entry, roles } = elasticsearchUser(run, "flotilla-jaeger");
    expect(entry).toEqual({ username: "flotilla-jaeger", password: testTracingStoragePassword, roles: "flotilla_trace_writer" });
    expect(roles).toEqual({
      flotilla_trace_writer: {
        cluster: ["monitor", "manage_index_templates"],
        indices: [{ names: ["flotilla-jaeger-*"], privileges: ["create_index", "write", "read", "view_index_metadata", "delete_index"] }],
      },
    });
  });

  it(`deletes Jaeger's daily indices ${stack === "prod" ? 7 : 3} days after their day, daily, signed in as Jaeger's user`, () => {
    const cron = run.one("kubernetes:batch/v1:CronJob", "logging-flotilla-jaeger-expiry").inputs;
    expect(cron.metadata.namespace).toBe("logging");
    expect(cron.spec).toMatchObject({ schedule: "30 0 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
    const pod = cron.spec.jobTemplate.spec.template;
    expect(pod.metadata.labels).toMatchObject({ "app.kubernetes.io/component": "expiry" });
    const [container] = pod.spec.containers;
    expect(container.image).toMatch(/logsetup(:src-[0-9a-f]{24})?@sha256:/);
    expect(Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]))).toMatchObject({
      EXPIRE_INDICES: "flotilla-jaeger-*",
      EXPIRE_AFTER_DAYS: stack === "prod" ? "7" : "3",
      ELASTICSEARCH_USERNAME: "flotilla-jaeger",
      ELASTICSEARCH_PASSWORD_FILE: "/credentials/password",
    });
    expect(container.env.map((e: { name: string }) => e.name)).not.toContain("REQUESTS_FILE");
    // The password from Jaeger's own file realm Secret, by reference.
    const credentials = pod.spec.volumes.find((v: { name: string }) => v.name === "credentials");
    expect(credentials.secret).toEqual({ secretName: expect.stringMatching(/^logging-flotilla-jaeger-user-/), items: [{ key: "password", path: "password" }] });
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // Let in to Elasticsearch's 9200, and out to it alone.
    const expiryPods = { podSelector: { matchLabels: pod.metadata.labels } };
    const policy = (name: string) => run.ofType(POLICY).find((p) => p.inputs.metadata.name === name && p.name.startsWith("logging-"))?.inputs.spec;
    expect(policy("elasticsearch").ingress[0].from).toContainEqual(expiryPods);
    expect(policy("index-expiry")).toMatchObject({ ...expiryPods, ingress: [], egress: [expect.anything(), { to: [expect.anything()], ports: tcp(9200) }] });
  });

  it("keeps the password out of every plain input", () => {
    expect(plainHolders(run, testTracingStoragePassword)).toEqual([]);
  });

  it("points every service at the collector, sampling 1 in dev and 0.1 in prod", () => {
    for (const service of ["users", "gateway"]) {
      expect(run.one("kubernetes:core/v1:ConfigMap", `${service}-env`).inputs.data).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.tracing.svc.cluster.local:4317",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: stack === "prod" ? "0.1" : "1",
        OTEL_RESOURCE_ATTRIBUTES: "k8s.namespace.name=flotilla",
      });
    }
  });

  it("opens the services → collector → Jaeger → Elasticsearch path, and Prometheus to the metrics and query ports, nothing else", () => {
    for (const service of ["users", "gateway"]) {
      expect(run.one(POLICY, service).inputs.spec.egress).toContainEqual({
        to: [{ ...inNamespace("tracing"), podSelector: { matchLabels: collectorPods } }],
        ports: tcp(4317),
      });
    }
    const collector = run.one(POLICY, "tracing-collector").inputs.spec;
    expect(collector.ingress).toEqual([
      { from: [inNamespace("flotilla")], ports: tcp(4317) },
      { from: [inNamespace("monitoring")], ports: tcp(8888) },
    ]);
    expect(collector.egress[1]).toEqual({ to: [{ podSelector: { matchLabels: jaegerPods } }], ports: tcp(4317) });
    const jaeger = run.one(POLICY, "tracing-jaeger").inputs.spec;
    expect(jaeger.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: collectorPods } }], ports: tcp(4317) },
      { from: [inNamespace("monitoring")], ports: tcp(16686) },
    ]);
    const elasticsearch = { ...inNamespace("logging"), podSelector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": "logs" } } };
    expect(jaeger.egress[1]).toEqual({ to: [elasticsearch], ports: tcp(9200) });
    expect(run.one(POLICY, "logging-elasticsearch").inputs.spec.ingress[0].from).toContainEqual({
      ...inNamespace("tracing"),
      podSelector: { matchLabels: jaegerPods },
    });
    expect(run.one("kubernetes:core/v1:Namespace", "tracing-namespace").inputs.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
    });
  });
});

describe("tracing, monitored", async () => {
  const run = await runStack("dev");

  it("scrapes the collector's own metrics, alerts on spans refused or dropped, and gives Grafana Jaeger as a data source", () => {
    const monitor = run.one("kubernetes:monitoring.coreos.com/v1:PodMonitor", "tracing-collector-monitor").inputs;
    expect(monitor.metadata).toMatchObject({ name: "collector", namespace: "tracing" });
    expect(monitor.spec).toMatchObject({ selector: { matchLabels: collectorPods }, podMetricsEndpoints: [{ port: "metrics" }] });
    // The chart opens the port the PodMonitor names, where the policy lets Prometheus in.
    expect(run.ofType(CHART).find((c) => c.inputs.name === "collector")?.inputs.values.ports.metrics).toEqual({ enabled: true });
    const rules = run.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "tracing-rules").inputs.spec.groups.flatMap((g: any) => g.rules);
    expect(rules.map((r: any) => r.alert)).toEqual(["FlotillaTraceSpansRefused", "FlotillaTraceSpansDropped"]);
    for (const rule of rules) expect(rule.expr).toContain('namespace="tracing"');
    const datasource = run.one("kubernetes:core/v1:ConfigMap", "tracing-grafana-datasource").inputs;
    expect(datasource.metadata).toMatchObject({ namespace: "monitoring", labels: { grafana_datasource: "1" } });
    expect(parse(datasource.data["jaeger.yaml"])).toMatchObject({
      apiVersion: 1,
      datasources: [{ name: "Jaeger", type: "jaeger", uid: "jaeger", access: "proxy", url: "http://jaeger.tracing.svc.cluster.local:16686", editable: false }],
    });
  });

  it("links metrics to traces: an exemplar's trace_id opens the trace in Jaeger, and each service's dashboard lists its traces", () => {
    // The field the log lines carry the trace's id in (components/logging/logFields.json).
    expect(grafanaDatasources(run).exemplarTraceIdDestinations).toEqual({ datasourceUid: "jaeger", traceIdLabelName: "trace_id", urlDisplayLabel: "Trace" });
    for (const service of ["users", "gateway"]) {
      const panels = dashboardOf(run, service).panels;
      expect(panels.find((p: any) => p.title === "Duration").targets.map((t: any) => t.exemplar)).toEqual([true, true, true]);
      expect(panels.at(-1)).toMatchObject({
        title: "Recent traces",
        type: "table",
        datasource: { type: "jaeger", uid: "jaeger" },
        targets: [{ queryType: "search", service }],
      });
    }
  });

  it("links logs and traces both ways: a log line's trace_id opens the trace, a trace searches its log lines", () => {
    const secret = run.one(SECRET, "logging-grafana-datasource").inputs;
    expect(secret.metadata).toMatchObject({ namespace: "monitoring", labels: { grafana_datasource: "1" } });
    // The provisioning file holds the reader's password: the whole value is a secret.
    expect(secret.stringData[secretSignatureKey]).toBeDefined();
    const [logs] = parse(secret.stringData.value["logs.yaml"]).datasources;
    expect(logs).toMatchObject({
      type: "elasticsearch",
      uid: "flotilla-logs",
      url: "https://logs-es-http.logging.svc:9200",
      basicAuth: true,
      basicAuthUser: "flotilla-grafana",
      jsonData: {
        index: "logs-flotilla-*",
        timeField: "@timestamp",
        logMessageField: "msg",
        logLevelField: "level",
        tlsAuthWithCACert: true,
        dataLinks: [{ field: "trace_id", url: "${__value.raw}", datasourceUid: "jaeger", urlDisplayLabel: "Trace" }],
      },
      secureJsonData: { basicAuthPassword: testGrafanaReaderPassword, tlsCACert: expect.any(String) },
    });
    const jaeger = parse(run.one("kubernetes:core/v1:ConfigMap", "tracing-grafana-datasource").inputs.data["jaeger.yaml"]).datasources[0];
    expect(jaeger.jsonData.tracesToLogsV2).toMatchObject({ datasourceUid: "flotilla-logs", customQuery: true, query: 'trace_id:"${__trace.traceId}"' });
  });

  it("gives Grafana a user in Elasticsearch that may only read the services' logs, let in from Grafana's pods alone", () => {
    const { entry, roles } = elasticsearchUser(run, "flotilla-grafana");
    expect(entry).toEqual({ username: "flotilla-grafana", password: testGrafanaReaderPassword, roles: "flotilla_log_reader" });
    expect(roles).toEqual({
      flotilla_log_reader: { cluster: ["monitor"], indices: [{ names: ["logs-flotilla-*"], privileges: ["read", "view_index_metadata"] }] },
    });
    expect(run.one(POLICY, "logging-elasticsearch").inputs.spec.ingress[0].from).toContainEqual({
      ...inNamespace("monitoring"),
      podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } },
    });
    expect(plainHolders(run, testGrafanaReaderPassword)).toEqual([]);
  });

  it("gives every tracing alert a runbook section in docs/runbooks.md", () => {
    const runbooks = fs.readFileSync(path.join(__dirname, "..", "docs", "runbooks.md"), "utf8");
    const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map(([, heading]) => (heading as string).toLowerCase()));
    for (const rule of tracingRules({ namespace: "tracing", runbookBaseUrl: "docs/runbooks.md" }).flatMap((g) => g.rules)) {
      expect(anchors).toContain("annotations" in rule ? rule.annotations.runbook_url?.split("#")[1] : undefined);
    }
  });
});

describe("logs in Grafana without a reader's password", async () => {
  const run = await runStack("dev", (config) => delete config["flotilla:logging"].grafanaPassword);

  it("makes no logs data source and no reader, and the Jaeger data source links to no logs", () => {
    expect(run.resources.filter((r) => r.name === "logging-grafana-datasource" || r.name.startsWith("logging-flotilla-grafana"))).toEqual([]);
    const jaeger = parse(run.one("kubernetes:core/v1:ConfigMap", "tracing-grafana-datasource").inputs.data["jaeger.yaml"]).datasources[0];
    expect(jaeger.jsonData).toBeUndefined();
  });
});

describe("tracing without monitoring", async () => {
  const run = await runStack("dev", (config) => (config["flotilla:monitoring"] = { enabled: false }));

  it("runs the pipeline with no monitor, rule or data source", () => {
    expect(run.ofType("kubernetes:helm.sh/v4:Chart").map((c) => c.inputs.chart)).toContain("jaeger");
    expect(run.ofType("kubernetes:monitoring.coreos.com/v1:PodMonitor")).toEqual([]);
    expect(run.resources.filter((r) => r.name === "tracing-grafana-datasource")).toEqual([]);
  });
});

describe("tracing switched off", async () => {
  const run = await runStack("dev", (config) => (config["flotilla:tracing"] = { enabled: false }));

  it("deploys none of it, gives Jaeger no user, and leaves the services' exporter unset", () => {
    expect(run.resources.filter((r) => r.type.startsWith("flotilla:tracing:"))).toEqual([]);
    expect(run.ofType(CHART).map((c) => c.inputs.chart)).not.toContain("jaeger");
    expect(run.resources.filter((r) => r.name.includes("jaeger"))).toEqual([]);
    expect(run.ofType("kubernetes:batch/v1:CronJob")).toEqual([]);
    for (const service of ["users", "gateway"]) {
      expect(Object.keys(run.one("kubernetes:core/v1:ConfigMap", `${service}-env`).inputs.data).filter((k) => k.startsWith("OTEL_"))).toEqual([]);
      expect(JSON.stringify(run.one(POLICY, service).inputs.spec)).not.toContain("tracing");
      // No links to a trace store that is not there.
      const panels = dashboardOf(run, service).panels;
      expect(panels.filter((p: any) => p.datasource.type !== "prometheus" || p.targets.some((t: any) => "exemplar" in t))).toEqual([]);
    }
    expect(grafanaDatasources(run)).toBeUndefined();
    // The logs' data source stays, with no link to a trace store that is not there.
    const [logs] = parse(run.one(SECRET, "logging-grafana-datasource").inputs.stringData.value["logs.yaml"]).datasources;
    expect(logs.jsonData.dataLinks).toBeUndefined();
  });
});

describe("tracing settings", () => {
  it("takes a sampling ratio of the stack's own", async () => {
    const run = await runStack("prod", (config) => (config["flotilla:tracing"] = { ...config["flotilla:tracing"], samplingRatio: 0.25 }));
    expect(run.one("kubernetes:core/v1:ConfigMap", "gateway-env").inputs.data.OTEL_TRACES_SAMPLER_ARG).toBe("0.25");
  });

  it("takes a retention of the stack's own", async () => {
    const run = await runStack("dev", (config) => (config["flotilla:tracing"] = { ...config["flotilla:tracing"], retentionDays: 30 }));
    const [container] = run.one("kubernetes:batch/v1:CronJob", "logging-flotilla-jaeger-expiry").inputs.spec.jobTemplate.spec.template.spec.containers;
    expect(container.env).toContainEqual({ name: "EXPIRE_AFTER_DAYS", value: "30" });
  });

  it.each([
    ["logging off", (c: any) => (c["flotilla:logging"] = { enabled: false }), /flotilla:tracing\.enabled: needs logging enabled, which it builds on/],
    [
      "no storage password",
      (c: any) => delete c["flotilla:tracing"].storagePassword,
      /flotilla:tracing\.storagePassword: is required while tracing is enabled: pulumi config set --secret --path tracing\.storagePassword/,
    ],
    ["a ratio above 1", (c: any) => (c["flotilla:tracing"].samplingRatio = 1.5), /flotilla:tracing\.samplingRatio: must be <= 1; given 1\.5/],
    ["a retention of no day", (c: any) => (c["flotilla:tracing"].retentionDays = 0), /flotilla:tracing\.retentionDays: must be >= 1; given 0/],
    [
      "a service setting the sampler itself",
      (c: any) => (c["flotilla:services"].gateway.env = { OTEL_TRACES_SAMPLER: "always_on" }),
      /flotilla:services\.gateway\.env\.OTEL_TRACES_SAMPLER: is set by the tracing feature \(tracing\.samplingRatio\); remove it here/,
    ],
    [
      "a collector no node can hold",
      (c: any) => {
        c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["t3.small"] } };
        c["flotilla:tracing"].collector = { resources: { requests: { memory: "4Gi" }, limits: { memory: "4Gi" } } };
      },
      /flotilla:tracing\.collector\.resources\.requests\.memory: must fit on a node: .*so the OpenTelemetry Collector would stay Pending/,
    ],
  ])("refuses %s, naming the key, before anything is registered", async (_name, change, message) => {
    await expect(runStack("dev", change)).rejects.toThrow(message);
    expect(registeredByLastRun()).toEqual([]);
  });
});
