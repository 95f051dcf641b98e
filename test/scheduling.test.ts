/**
 * Where pods run: a node selector and tolerations per service and per feature, carried to every
 * pod each one makes (its own pod specs, the charts' values, the operators' custom resources),
 * and nothing at all when unset. The refusals are in the contract's suite (contract.test.ts).
 */
import { describe, expect, it } from "vitest";
import { runStack } from "./harness";

const CHART = "kubernetes:helm.sh/v4:Chart";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const pool = { "example.com/pool": "apps" };
const dedicated = [{ key: "dedicated", operator: "Equal", value: "observability", effect: "NoSchedule" }];
const observability = { "example.com/pool": "observability" };

describe("scheduling left unset", async () => {
  const run = await runStack("dev");

  it("leaves every pod spec and chart free to schedule anywhere", () => {
    for (const { inputs } of run.ofType(DEPLOYMENT)) {
      expect(inputs.spec.template.spec.nodeSelector).toBeUndefined();
      expect(inputs.spec.template.spec.tolerations).toBeUndefined();
    }
    const values = run.one(CHART, "monitoring").inputs.values;
    expect(values.prometheus.prometheusSpec.nodeSelector).toBeUndefined();
    expect(values["prometheus-node-exporter"].nodeSelector).toBeUndefined();
    expect(run.one(CHART, "logging-fluent-bit").inputs.values.nodeSelector).toBeUndefined();
  });
});

describe.each(["dev", "prod"] as const)("scheduling set on %s", async (stack) => {
  const run = await runStack(stack, (c) => {
    c["flotilla:services"].users.scheduling = { nodeSelector: pool };
    c["flotilla:monitoring"] = { ...c["flotilla:monitoring"], scheduling: { nodeSelector: observability, tolerations: dedicated } };
    c["flotilla:logging"] = { ...c["flotilla:logging"], scheduling: { nodeSelector: observability, tolerations: dedicated } };
  });
  const toleration = { ...dedicated[0] };

  it("puts a service's pods on its nodes, and only that service's", () => {
    expect(run.one(DEPLOYMENT, "users").inputs.spec.template.spec.nodeSelector).toEqual(pool);
    expect(run.one(DEPLOYMENT, "gateway").inputs.spec.template.spec.nodeSelector).toBeUndefined();
  });

  it("puts every monitoring pod on the feature's nodes, node-exporter keeping its Linux selector", () => {
    const values = run.one(CHART, "monitoring").inputs.values;
    for (const placed of [
      values.prometheusOperator,
      values.prometheus.prometheusSpec,
      values.alertmanager.alertmanagerSpec,
      values.grafana,
      values["kube-state-metrics"],
    ]) {
      expect(placed).toMatchObject({ nodeSelector: observability, tolerations: [toleration] });
    }
    expect(values["prometheus-node-exporter"]).toMatchObject({
      nodeSelector: { "kubernetes.io/os": "linux", ...observability },
      tolerations: [toleration],
    });
  });

  it("puts every logging pod on the feature's nodes: operator, Elasticsearch, Kibana, Fluent Bit, the setup Job", () => {
    expect(run.one(CHART, "logging-eck-operator").inputs.values).toMatchObject({ nodeSelector: observability, tolerations: [toleration] });
    const es = run.one("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "logging-elasticsearch").inputs;
    expect(es.spec.nodeSets[0].podTemplate.spec).toMatchObject({ nodeSelector: observability, tolerations: [toleration] });
    const kibana = run.one("kubernetes:kibana.k8s.elastic.co/v1:Kibana", "logging-kibana").inputs;
    expect(kibana.spec.podTemplate.spec).toMatchObject({ nodeSelector: observability, tolerations: [toleration] });
    // Fluent Bit tolerates every taint already, to collect from every node it may run on.
    expect(run.one(CHART, "logging-fluent-bit").inputs.values).toMatchObject({ nodeSelector: observability, tolerations: [{ operator: "Exists" }] });
    const job = run.ofType("kubernetes:batch/v1:Job")[0]?.inputs;
    expect(job?.spec.template.spec).toMatchObject({ nodeSelector: observability, tolerations: [toleration] });
  });
});

describe("operators placed apart from what they run", async () => {
  const system = { "example.com/pool": "system" };
  const run = await runStack("dev", (c) => {
    c["flotilla:services"].users.database = {};
    for (const feature of ["flotilla:monitoring", "flotilla:logging", "flotilla:databases"]) {
      c[feature] = { ...c[feature], scheduling: { nodeSelector: observability, tolerations: dedicated }, operatorScheduling: { nodeSelector: system } };
    }
  });
  const chart = (name: string) => run.ofType(CHART).find((c) => c.inputs.chart === name)?.inputs.values;

  it("runs each operator on its own nodes, with none of the feature's tolerations", () => {
    for (const values of [chart("kube-prometheus-stack").prometheusOperator, chart("eck-operator"), chart("cloudnative-pg")]) {
      expect(values.nodeSelector).toEqual(system);
      expect(values.tolerations).toBeUndefined();
    }
  });

  it("leaves the pods the operators make on the feature's nodes", () => {
    expect(chart("kube-prometheus-stack").prometheus.prometheusSpec).toMatchObject({ nodeSelector: observability });
    const es = run.one("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "logging-elasticsearch").inputs;
    expect(es.spec.nodeSets[0].podTemplate.spec).toMatchObject({ nodeSelector: observability });
    const cluster = run.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "users-db").inputs;
    expect(cluster.spec.affinity).toMatchObject({ nodeSelector: observability });
  });
});

describe("the trace collector placed apart from Jaeger", async () => {
  const near = { "example.com/pool": "apps" };
  const run = await runStack("dev", (c) => {
    c["flotilla:tracing"] = {
      ...c["flotilla:tracing"],
      scheduling: { nodeSelector: observability, tolerations: dedicated },
      collector: { scheduling: { nodeSelector: near } },
    };
  });
  const chart = (name: string) => run.ofType(CHART).find((c) => c.inputs.chart === name)?.inputs.values;

  it("runs the collector on its own nodes, with none of the feature's tolerations, and Jaeger on the feature's", () => {
    expect(chart("opentelemetry-collector").nodeSelector).toEqual(near);
    expect(chart("opentelemetry-collector").tolerations).toBeUndefined();
    expect(chart("jaeger").jaeger).toMatchObject({ nodeSelector: observability, tolerations: [{ ...dedicated[0] }] });
  });
});

describe("the trace collector with no scheduling of its own", async () => {
  const run = await runStack("dev", (c) => {
    c["flotilla:tracing"] = { ...c["flotilla:tracing"], scheduling: { nodeSelector: observability } };
  });

  it("follows the feature's scheduling, as Jaeger does", () => {
    const values = run.ofType(CHART).find((c) => c.inputs.chart === "opentelemetry-collector")?.inputs.values;
    expect(values.nodeSelector).toEqual(observability);
  });
});
