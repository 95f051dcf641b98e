/**
 * What the real ECK operator (the chart's pod, on the real node: see ./operators.ts) made of the
 * stack's Elasticsearch and Kibana, its admission webhook as the API server calls it, and whether
 * every name the collector's configuration refers to exists as the operator made it.
 */
import { describe, expect, it } from "vitest";
import { eckNames } from "../../components/logging/logging";
import { eventually } from "./env";
import { dryRun, get, items, ready } from "./kube";
import { expectOperatorOnRealNode } from "./operators";

const names = eckNames("logs");
const fluentBitConfig = () => {
  const configMap = items("-n", "logging-agent", "configmaps").find((c) => c.data?.["fluent-bit.conf"] !== undefined);
  return String(configMap?.data["fluent-bit.conf"] ?? "");
};
const setting = (config: string, key: string) => new RegExp(`^\\s*${key}\\s+(\\S+)\\s*$`, "m").exec(config)?.[1];

describe("ECK's work", () => {
  it("runs as the chart's pod on the real node, from the mirror's image, under the chart's RBAC", async () => {
    await expectOperatorOnRealNode({ namespace: "elastic-system", selector: "app.kubernetes.io/name=elastic-operator", repository: "eck/eck-operator" });
  });

  it("refuses an invalid Elasticsearch through its admission webhook, which the API server calls at the operator's pod", async () => {
    const invalid = {
      apiVersion: "elasticsearch.k8s.elastic.co/v1",
      kind: "Elasticsearch",
      metadata: { name: "invalid", namespace: "logging" },
      spec: { version: "not-a-version", nodeSets: [{ name: "default", count: 1 }] },
    };
    // The operator writes the webhook's CA into its configuration once it has started, and the
    // webhook fails open until then. The CRD's schema takes any string as the version: the
    // message is the webhook's (ECK's pkg/controller/elasticsearch/validation).
    const refused = await eventually("the webhook to refuse", 60, async () => dryRun(invalid).refused);
    expect(refused).toMatch(/The Elasticsearch "invalid" is invalid: spec\.version: .*Cannot parse Elasticsearch version/);
  });

  it("reconciled Elasticsearch into a StatefulSet whose pods pass Pod Security restricted", async () => {
    expect(get("-n", "logging", "statefulset", "logs-es-default")).toBeDefined();
    const pods = await eventually("Elasticsearch's pod to be admitted and ready", 60, async () => {
      const all = items("-n", "logging", "pods", "-l", "elasticsearch.k8s.elastic.co/cluster-name=logs");
      return all.length === 1 && all.every(ready) ? all : undefined;
    });
    expect(pods[0].spec.securityContext.runAsNonRoot).toBe(true);
    expect(pods[0].spec.initContainers.every((c: any) => c.securityContext?.privileged !== true)).toBe(true);
  });

  it("made Kibana's Deployment and Services, and the elastic user's Secret", async () => {
    await eventually("Kibana's Deployment", 60, async () => get("-n", "logging", "deployment", "logs-kb"));
    for (const service of [names.httpService, names.kibanaService]) {
      expect(get("-n", "logging", "service", service), service).toBeDefined();
    }
    expect(get("-n", "logging", "secret", names.elasticUserSecret)?.data.elastic).toBeTruthy();
  });

  it("put the collector's user and role into Elasticsearch's file realm", () => {
    const realm = get("-n", "logging", "secret", "logs-es-xpack-file-realm")?.data;
    const decode = (key: string) => Buffer.from(realm?.[key] ?? "", "base64").toString();
    expect(decode("users")).toMatch(/^flotilla-collector:/m);
    expect(decode("users_roles")).toMatch(/^flotilla_log_writer:.*flotilla-collector/m);
    const roles = Buffer.from(get("-n", "logging", "secret", "logs-es-xpack-file-realm")?.data["roles.yml"] ?? "", "base64").toString();
    expect(roles).toContain("flotilla_log_writer");
  });
});

describe("the collector's configuration names what exists", () => {
  const config = fluentBitConfig();

  it("is the stack's configuration", () => {
    expect(setting(config, "Name")).toBeDefined();
    expect(config).toContain("Write_Operation create");
  });

  it("ships to ECK's HTTP Service in the logging namespace", () => {
    const [service, namespace, svc] = (setting(config, "Host") ?? "").split(".");
    expect(svc).toBe("svc");
    expect(get("-n", namespace!, "service", service!)?.spec.ports.map((p: any) => p.port)).toContain(Number(setting(config, "Port")));
  });

  it("verifies TLS against the CA ECK made, copied into its own namespace", () => {
    expect(setting(config, "tls.verify")).toBe("On");
    const daemonSet = items("-n", "logging-agent", "daemonsets")[0];
    const caVolume = daemonSet.spec.template.spec.volumes.find((v: any) => v.name === "elasticsearch-ca");
    const copied = get("-n", "logging-agent", "secret", caVolume.secret.secretName)?.data["ca.crt"];
    expect(copied).toBeTruthy();
    expect(copied).toBe(get("-n", "logging", "secret", names.caSecret)?.data["ca.crt"]);
  });

  it("writes as the collector user, whose password comes from a Secret that exists", () => {
    expect(setting(config, "HTTP_User")).toBe("flotilla-collector");
    const container = items("-n", "logging-agent", "daemonsets")[0].spec.template.spec.containers[0];
    const ref = container.env.find((e: any) => e.name === "COLLECTOR_PASSWORD").valueFrom.secretKeyRef;
    const secret = get("-n", "logging-agent", "secret", ref.name);
    const userSecret = items("-n", "logging", "secrets", "-l", "app.kubernetes.io/component=collector").find((s) => s.type === "kubernetes.io/basic-auth");
    expect(secret?.data[ref.key]).toBe(userSecret?.data.password);
  });

  it("runs on every node, admitted in its privileged namespace", () => {
    const daemonSet = items("-n", "logging-agent", "daemonsets")[0];
    expect(daemonSet.status.numberReady).toBe(daemonSet.status.desiredNumberScheduled);
  });
});

describe("the setup Job", () => {
  it("completed before up returned", () => {
    const jobs = items("-n", "logging", "jobs");
    expect(jobs).toHaveLength(1);
    expect(jobs[0].status.succeeded).toBe(1);
  });
});
