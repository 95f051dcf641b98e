import { describe, expect, it } from "vitest";
import logContract from "../components/logging/logFields.json";
import { fluentBitConfig, indexTemplate, setupRequests } from "../components/logging/pipeline";
import { runStack, testCollectorPassword, testGrafanaPassword } from "./harness";
import { secretSignatureKey } from "./manifests";

const CHART = "kubernetes:helm.sh/v4:Chart";
const ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch";
const KIBANA = "kubernetes:kibana.k8s.elastic.co/v1:Kibana";
const SECRET = "kubernetes:core/v1:Secret";

describe.each(["dev", "prod"] as const)("logging in the %s stack", async (stack) => {
  const run = await runStack(stack);
  const es = run.one(ES, "logging-elasticsearch").inputs;
  const nodeSet = es.spec.nodeSets[0];
  const fluentBit = run.one(CHART, "logging-fluent-bit").inputs;

  it("installs the pinned ECK operator, acting in the logging namespace only", () => {
    expect(run.one(CHART, "logging-eck-operator").inputs).toMatchObject({
      chart: "eck-operator",
      version: "3.5.0",
      repositoryOpts: { repo: "https://helm.elastic.co" },
      namespace: "elastic-system",
      values: { installCRDs: true, managedNamespaces: ["logging"], webhook: { enabled: true } },
    });
  });

  it("runs Elasticsearch and Kibana 9.5.0 with TLS and authentication left on", () => {
    expect(es.spec.version).toBe("9.5.0");
    expect(es.spec.http).toBeUndefined();
    expect(es.spec.auth.disableElasticUser).toBeUndefined();
    expect(run.one(KIBANA, "logging-kibana").inputs.spec).toMatchObject({ version: "9.5.0", elasticsearchRef: { name: "logs" } });
  });

  it("admits Elasticsearch's pods under restricted: no mmap sysctl, no privilege", () => {
    expect(nodeSet.config["node.store.allow_mmap"]).toBe(false);
    const pod = nodeSet.podTemplate.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(Object.keys(pod.containers[0].resources).sort()).toEqual(["limits", "requests"]);
  });

  it("has the collector write as its own user, whose role may only create documents in the services' streams", () => {
    const user = run.one(SECRET, "logging-collector-user").inputs;
    expect(user.type).toBe("kubernetes.io/basic-auth");
    expect(user.stringData[secretSignatureKey]).toBeDefined();
    expect(user.stringData.value).toEqual({ username: "flotilla-collector", password: testCollectorPassword, roles: "flotilla_log_writer" });
    const roles = run.one(SECRET, "logging-collector-role").inputs.stringData.value["roles.yml"];
    expect(roles).toContain('names: ["logs-flotilla-*"]');
    expect(roles).toContain('privileges: ["create_doc", "auto_configure"]');
    expect(roles).toContain("cluster: []");
    // Beside it in the file realm, the users the features declare (Grafana's reader, tracing's Jaeger), each with its own role.
    const others = ["flotilla-grafana", "flotilla-jaeger"];
    expect(es.spec.auth).toEqual({
      fileRealm: ["collector", ...others].map((user) => ({ secretName: `logging-${user}-user-abc123` })),
      roles: ["collector", ...others].map((user) => ({ secretName: `logging-${user}-role-abc123` })),
    });
  });

  it("keeps every password out of plain inputs: no resource carries one outside a secret", () => {
    for (const { inputs, name } of run.resources) {
      const plain = JSON.stringify(inputs, (key, value) => (value && typeof value === "object" && secretSignatureKey in value ? "[secret]" : value));
      expect(plain, name).not.toContain(testCollectorPassword);
      expect(plain, name).not.toContain(testGrafanaPassword);
    }
  });

  it("gives Fluent Bit read-only host mounts but its buffer, and the CA copied from ECK", () => {
    const values = fluentBit.values;
    expect(fluentBit.namespace).toBe("logging-agent");
    expect(values.daemonSetVolumeMounts).toEqual([
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      { name: "buffer", mountPath: "/var/fluent-bit/buffer" },
      { name: "elasticsearch-ca", mountPath: "/fluent-bit/tls", readOnly: true },
    ]);
    expect(values.rbac).toEqual({ create: true, nodeAccess: false, eventsAccess: false });
    expect(values.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(values.env[0].valueFrom.secretKeyRef.key).toBe("password");
    const ca = run.resources.find((r) => r.type === SECRET && r.readId !== undefined);
    expect(ca?.readId).toBe("logging/logs-es-http-certs-public");
  });

  it("runs the setup Job restricted, with the elastic password as a file", () => {
    const job = run.one("kubernetes:batch/v1:Job", "logging-setup").inputs.spec.template.spec;
    expect(job.containers[0].image).toMatch(/logsetup(:src-[0-9a-f]{24})?@sha256:/);
    expect(job.containers[0].env.map((e: any) => e.name)).toContain("ELASTICSEARCH_PASSWORD_FILE");
    expect(JSON.stringify(job.containers[0].env)).not.toContain("secretKeyRef");
    expect(job.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
  });

  it("closes the logging namespace but for the pipeline's own paths", () => {
    const policies = run.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((p) => p.name.startsWith("logging-"));
    expect(policies.map((p) => p.inputs.metadata.name).sort()).toEqual(["default-deny", "elasticsearch", "index-expiry", "kibana", "logsetup"]);
  });

  if (stack === "dev") {
    it("fits a laptop: one node, a small heap, no volume, three days", () => {
      expect(nodeSet.count).toBe(1);
      expect(nodeSet.podTemplate.spec.containers[0].env).toEqual([{ name: "ES_JAVA_OPTS", value: "-Xms512m -Xmx512m" }]);
      expect(nodeSet.volumeClaimTemplates).toBeUndefined();
      expect(nodeSet.podTemplate.spec.volumes).toEqual([{ name: "elasticsearch-data", emptyDir: {} }]);
      const requests = JSON.parse(run.one("kubernetes:core/v1:ConfigMap", "logging-setup").inputs.data["requests.json"]);
      expect(requests[0].body.template.lifecycle).toEqual({ data_retention: "3d" });
      expect(requests[0].body.template.settings.number_of_replicas).toBe(0);
      expect(fluentBit.values.config.outputs).toContain("Index logs-flotilla-dev");
    });
  } else {
    it("spreads three nodes over zones, allocation-aware, on volumes, behind a disruption budget", () => {
      expect(nodeSet.count).toBe(3);
      expect(nodeSet.config).toMatchObject({ "node.attr.zone": "${ZONE}", "cluster.routing.allocation.awareness.attributes": "k8s_node_name,zone" });
      expect(es.metadata.annotations["eck.k8s.elastic.co/downward-node-labels"]).toBe("topology.kubernetes.io/zone");
      expect(nodeSet.podTemplate.spec.topologySpreadConstraints[0]).toMatchObject({
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
      });
      expect(nodeSet.volumeClaimTemplates[0].spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "100Gi" } } });
      expect(es.spec.podDisruptionBudget.spec.maxUnavailable).toBe(1);
      expect(nodeSet.podTemplate.spec.containers[0].env[0].value).toBe("-Xms2g -Xmx2g");
      const requests = JSON.parse(run.one("kubernetes:core/v1:ConfigMap", "logging-setup").inputs.data["requests.json"]);
      expect(requests[0].body.template.lifecycle).toEqual({ data_retention: "14d" });
      expect(requests[0].body.template.settings.number_of_replicas).toBe(1);
    });
  }
});

describe("logging switched off", async () => {
  // Tracing stores its traces in logging's Elasticsearch: it goes too (its own refusal is in tracing.test.ts).
  const run = await runStack("dev", (config) => Object.assign(config, { "flotilla:logging": { enabled: false }, "flotilla:tracing": { enabled: false } }));

  it("deploys none of it, builds no setup image and needs no collector password", () => {
    expect(run.resources.filter((r) => r.type.startsWith("flotilla:logging:"))).toEqual([]);
    expect(run.ofType(CHART).map((c) => c.inputs.chart)).toEqual(["kube-prometheus-stack"]);
    expect(run.ofType(ES)).toEqual([]);
    expect(run.ofType("pulumi-nodejs:dynamic/image:GoImage").map((i) => i.name)).toEqual(["users", "gateway"]);
  });
});

describe("the log pipeline", () => {
  const settings = {
    namespaces: ["flotilla"],
    environment: "dev",
    elasticsearchHost: "logs-es-http.logging.svc",
    collectorUser: "flotilla-collector",
    caFile: "/fluent-bit/tls/ca.crt",
    bufferSize: "512M",
    retentionDays: 3,
    indexReplicas: 0,
  };
  const config = fluentBitConfig(settings);

  it("tails the services' containers in CRI format, with positions kept on the node", () => {
    expect(config.inputs).toContain("Path /var/log/containers/*_flotilla_*.log");
    expect(config.inputs).toContain("multiline.parser cri");
    expect(config.inputs).toContain("DB /var/fluent-bit/buffer/tail.db");
    expect(config.inputs).toContain("storage.type filesystem");
  });

  it("parses the services' JSON with the time format of the log contract", () => {
    expect(config.filters).toContain("Merge_Parser flotilla_json");
    expect(config.customParsers).toContain(`Time_Key ${logContract.timeKey}`);
    expect(config.customParsers).toContain(`Time_Format ${logContract.timeFormat}`);
  });

  it("ships over verified TLS as its own user, retrying without limit into a bounded buffer", () => {
    for (const line of [
      "Host logs-es-http.logging.svc",
      "tls.verify On",
      "tls.ca_file /fluent-bit/tls/ca.crt",
      "HTTP_User flotilla-collector",
      "HTTP_Passwd ${COLLECTOR_PASSWORD}",
      "Write_Operation create",
      "Retry_Limit no_limits",
      "storage.total_limit_size 512M",
    ]) {
      expect(config.outputs).toContain(line);
    }
  });

  it("maps every field of the log contract explicitly", () => {
    const mappings = (indexTemplate(settings) as any).template.mappings.properties;
    for (const [field, mapping] of Object.entries(logContract.fields)) {
      expect(mappings[field]).toEqual(mapping);
    }
    expect(mappings.time.type).toBe("date");
    expect(["request_id", "trace_id", "level"].map((f) => mappings[f].type)).toEqual(["keyword", "keyword", "keyword"]);
  });

  it("applies the template before Kibana's data view, and no data view without Kibana", () => {
    expect(setupRequests(settings, true).map((r) => `${r.method} ${r.path}`)).toEqual(["PUT /_index_template/flotilla-logs", "POST /api/data_views/data_view"]);
    expect(setupRequests(settings, false)).toHaveLength(1);
  });
});
