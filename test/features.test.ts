/**
 * Features as modules: a throwaway feature, declared here and nowhere else, added to the stack's
 * list, gets its namespaces reserved, its privileged namespace excepted by the policy pack, its
 * paths opened in every service's NetworkPolicy, its pods held against the nodes, its secret kept
 * secret, its per-service additions and its outputs, without any other file naming it.
 */
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../config/load";
import { contractOf, stackContract } from "../config/schema";
import { features } from "../features";
import { defineFeature, privilegedNamespacesOf } from "../features/feature";
import { namespacePodSecurityExcept, podSecurityRestrictedExcept, privilegedNamespaces } from "../policy/kubernetes";
import { registeredByLastRun, runProgram, stackConfigWithSecrets } from "./harness";
import { secretSignatureKey } from "./manifests";

const audit = defineFeature({
  key: "audit",
  schema: z
    .strictObject({
      enabled: z.boolean().default(true),
      token: z.string().min(8).optional(),
      requests: z.strictObject({ cpu: z.string().default("100m"), memory: z.string().default("64Mi") }).prefault({}),
    })
    .prefault({}),
  namespaces: [
    { name: "audit", podSecurity: "restricted", why: "the audit collector" },
    { name: "audit-node", podSecurity: "privileged", why: "its node agent reads the host's audit log" },
  ],
  secrets: { auditToken: ["token"] },
  enabled: (slice) => slice.enabled,
  check(slice, _stack, report) {
    if (slice.enabled && slice.token === undefined) {
      report(["token"], undefined, "is required while audit is enabled");
    }
  },
  pods: (slice) => [{ pod: "the audit collector", key: ["requests"], requests: slice.requests }],
  servicePaths: () => ({ opsIngressFrom: ["audit"], egress: [{ namespace: "audit", podLabels: { app: "collector" }, port: 4317 }] }),
  deploy(slice, context) {
    const secret = new k8s.core.v1.Secret(
      "audit-token",
      { metadata: { namespace: "audit" }, stringData: { token: context.secret("auditToken") } },
      context.opts,
    );
    return {
      outputs: { secretName: secret.metadata.name },
      addToService(service) {
        new k8s.core.v1.ConfigMap(`${service.name}-audit`, { metadata: { namespace: service.namespace }, data: { protocol: service.protocol } }, context.opts);
      },
    };
  },
});
const withAudit = [...features, audit] as const;

/** The dev stack's config and secrets, with the audit feature's slice and its token (a secret). */
function devWithAudit(slice: object = { token: "audit-token-1234" }) {
  const { values, secretKeys } = stackConfigWithSecrets("dev");
  return { values: { ...values, "flotilla:audit": slice }, secretKeys: [...secretKeys, "flotilla:audit"] };
}
const raw = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key.replace(/^flotilla:/, ""), typeof value === "string" ? value : JSON.stringify(value)]));
const rawSecretKeys = (keys: string[]) => new Set(keys.map((key) => key.replace(/^flotilla:/, "")));

describe("a feature declared in one place", () => {
  it("has its namespaces reserved for the stack, and only in a stack that has it", () => {
    const { values, secretKeys } = devWithAudit();
    const taking = raw({ ...values, "flotilla:namespace": "audit-node" });
    expect(() => parseConfig(taking, rawSecretKeys(secretKeys), contractOf(withAudit))).toThrow(
      /flotilla:namespace: must not be a namespace the cluster or the stack's features own \(.*audit, audit-node\)/,
    );
    const { values: plain, secretKeys: plainKeys } = stackConfigWithSecrets("dev");
    expect(() => parseConfig(raw({ ...plain, "flotilla:namespace": "audit-node" }), rawSecretKeys(plainKeys), stackContract)).not.toThrow();
  });

  it("has its privileged namespace excepted by the policy pack", () => {
    const privileged = privilegedNamespacesOf(withAudit);
    expect(privileged).toEqual([...privilegedNamespaces, "audit-node"]);
    const namespace = { metadata: { name: "audit-node", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } };
    const hostPod = {
      metadata: { name: "agent", namespace: "audit-node" },
      spec: { hostPID: true, containers: [{ name: "agent", image: "agent@sha256:" + "a".repeat(64) }] },
    };
    const found = (privilegedList: readonly string[]) => {
      const violations: string[] = [];
      const report = (message: string) => violations.push(message);
      (namespacePodSecurityExcept(privilegedList).validateResource as any)(
        { type: "kubernetes:core/v1:Namespace", props: namespace, name: "audit-node" },
        report,
      );
      (podSecurityRestrictedExcept(privilegedList).validateStack as any)(
        { resources: [{ type: "kubernetes:core/v1:Pod", props: hostPod, name: "agent", urn: "urn:agent" }] },
        report,
      );
      return violations;
    };
    expect(found(privileged)).toEqual([]);
    // The stack's own pack, without the feature, refuses both.
    expect(found(privilegedNamespaces)).toEqual([
      expect.stringMatching(/^namespace audit-node is privileged; only/),
      expect.stringMatching(/^agent: hostPID is set/),
      expect.stringMatching(/^agent: container agent/),
      expect.stringMatching(/^agent: container agent/),
      expect.stringMatching(/^agent: container agent/),
      expect.stringMatching(/^agent: container agent/),
    ]);
  });

  it("opens its paths in every service's NetworkPolicy, adds its part per service, and exports its outputs", async () => {
    const { values, secretKeys } = devWithAudit();
    const run = await runProgram("dev", values, secretKeys, withAudit);
    for (const service of ["users", "gateway"]) {
      const spec = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", service).inputs.spec;
      expect(spec.egress).toContainEqual({
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "audit" } }, podSelector: { matchLabels: { app: "collector" } } }],
        ports: [{ protocol: "TCP", port: 4317 }],
      });
      const opsIngress = spec.ingress.find((rule: any) => rule.ports[0].port === 8081);
      expect(opsIngress.from).toEqual([
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "audit" } } },
      ]);
      expect(run.one("kubernetes:core/v1:ConfigMap", `${service}-audit`).inputs.data).toEqual({ protocol: service === "users" ? "grpc" : "http" });
    }
    expect(run.values.audit).toEqual({ secretName: "audit-token-abc123" });
    // Its secret stays a secret: in no input but inside a secret value.
    expect(run.one("kubernetes:core/v1:Secret", "audit-token").inputs.stringData[secretSignatureKey]).toBeDefined();
    const plain = JSON.stringify(
      run.resources.map((r) => r.inputs),
      (_key, value) => (value && typeof value === "object" && secretSignatureKey in value ? "[secret]" : value),
    );
    expect(plain).not.toContain("audit-token-1234");
  });

  it("holds its pods against the nodes, naming its own key", async () => {
    const { values, secretKeys } = stackConfigWithSecrets("prod");
    const config = { ...values, "flotilla:audit": { token: "audit-token-1234", requests: { memory: "64Gi" } } };
    await expect(runProgram("prod", config, [...secretKeys, "flotilla:audit"], withAudit)).rejects.toThrow(
      /flotilla:audit\.requests\.memory: must fit on a node: .*so the audit collector would stay Pending/,
    );
    expect(registeredByLastRun()).toEqual([]);
  });

  it("checks its own rules and secrets, and deploys nothing of itself when disabled", async () => {
    const { values, secretKeys } = devWithAudit({});
    await expect(runProgram("dev", values, secretKeys, withAudit)).rejects.toThrow(/flotilla:audit\.token: is required while audit is enabled/);
    expect(registeredByLastRun()).toEqual([]);
    const plain = devWithAudit({ token: "audit-token-1234" });
    await expect(runProgram("dev", plain.values, plain.secretKeys.slice(0, -1), withAudit)).rejects.toThrow(/flotilla:audit\.token: must be set as a secret/);
    const off = devWithAudit({ enabled: false });
    const run = await runProgram("dev", off.values, off.secretKeys, withAudit);
    expect(run.resources.filter((r) => r.name.includes("audit"))).toEqual([]);
    const spec = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "users").inputs.spec;
    expect(JSON.stringify(spec)).not.toContain("audit");
  });
});
