/**
 * The policy pack, rule by rule: each refuses a violating resource with its message and accepts a
 * compliant one; then the whole pack finds nothing in the dev and prod stacks under mocks.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { policies } from "../policy/policies";
import { type Registered, runStack } from "./harness";

interface Fake {
  type: string;
  props: Record<string, any>;
  name?: string;
  protect?: boolean;
  stack?: string;
}

const policy = (name: string) => {
  const found = policies.find((p) => p.name === name);
  if (found === undefined) {
    throw new Error(`no policy ${name}`);
  }
  return found;
};

/** A policy's config as the engine hands it over when none is given: its schema's defaults. */
function defaults(p: ResourceValidationPolicy | StackValidationPolicy): () => any {
  const properties = (p.configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
  return () => Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, schema.default]));
}

const asResource = (r: Fake) => {
  const name = r.name ?? "subject";
  const urn = `urn:pulumi:${r.stack ?? "prod"}::flotilla::${r.type}::${name}`;
  return { type: r.type, props: r.props, urn, name, opts: { protect: r.protect ?? false, ignoreChanges: [] }, dependencies: [], propertyDependencies: {} };
};

/** The violations a policy reports for some resources (one, for a resource policy). */
function violations(name: string, ...resources: Fake[]): string[] {
  const p = policy(name);
  const found: string[] = [];
  const report = (message: string) => found.push(message);
  if ("validateStack" in p) {
    (p.validateStack as any)({ resources: resources.map(asResource), getConfig: defaults(p) }, report);
  } else {
    for (const r of resources) {
      (p.validateResource as any)({ ...asResource(r), getConfig: defaults(p) }, report);
    }
  }
  return found;
}

const owned = { "app.kubernetes.io/managed-by": "pulumi" };
const goodContainer = {
  name: "app",
  image: "registry.example/app@sha256:" + "a".repeat(64),
  resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  },
};
const deployment = (container: object, extra: { namespace?: string; replicas?: number; labels?: object } = {}): Fake => ({
  type: "kubernetes:apps/v1:Deployment",
  name: "app",
  props: {
    metadata: { name: "app", namespace: extra.namespace ?? "apps", labels: extra.labels ?? owned },
    spec: { replicas: extra.replicas ?? 1, template: { metadata: { labels: { app: "app" } }, spec: { containers: [container] } } },
  },
});
const withSecurity = (change: object) => ({ ...goodContainer, securityContext: { ...goodContainer.securityContext, ...change } });

describe("policy pack", () => {
  it("has at least twelve policies, each named once, described, and mandatory or advisory", () => {
    expect(policies.length).toBeGreaterThanOrEqual(12);
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    for (const p of policies) {
      expect(p.description.length, p.name).toBeGreaterThan(20);
      expect(["mandatory", "advisory"]).toContain(p.enforcementLevel);
    }
  });

  const cases: [string, Fake[], Fake[], RegExp][] = [
    [
      "pod-security-restricted",
      [deployment(withSecurity({ allowPrivilegeEscalation: true, capabilities: { drop: [] }, runAsNonRoot: undefined, seccompProfile: undefined }))],
      [deployment(goodContainer), { ...deployment({ name: "agent", securityContext: { privileged: true } }, { namespace: "logging-agent" }) }],
      /app: container app does not set allowPrivilegeEscalation: false/,
    ],
    [
      "namespace-pod-security",
      [{ type: "kubernetes:core/v1:Namespace", props: { metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } } }],
      [
        { type: "kubernetes:core/v1:Namespace", props: { metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "restricted" } } } },
        {
          type: "kubernetes:core/v1:Namespace",
          props: { metadata: { name: "monitoring-node", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
        },
      ],
      /namespace apps is privileged; only monitoring-node and logging-agent may be/,
    ],
    [
      "read-only-root-filesystem",
      [deployment(withSecurity({ readOnlyRootFilesystem: false }))],
      [deployment(goodContainer), deployment(withSecurity({ readOnlyRootFilesystem: false }), { labels: { "app.kubernetes.io/managed-by": "Helm" } })],
      /container app has a writable root filesystem/,
    ],
    [
      "requests-and-limits",
      [deployment({ ...goodContainer, resources: { requests: { cpu: "1" } } })],
      [deployment(goodContainer)],
      /container app has no a memory request, a memory limit/,
    ],
    [
      "images-by-digest",
      [deployment({ ...goodContainer, image: "registry.example/app:v1" })],
      [deployment(goodContainer), { ...deployment({ ...goodContainer, image: "registry.example/app:v1" }), stack: "dev" }],
      /container app runs registry.example\/app:v1, a tag that can move/,
    ],
    [
      "no-credentials-in-plain-text",
      [
        { type: "kubernetes:core/v1:ConfigMap", props: { data: { STRIPE_KEY: "x" } } },
        deployment({ ...goodContainer, env: [{ name: "PAYMENT", value: "sk_live_0123456789abcdef" }] }),
      ],
      [
        { type: "kubernetes:core/v1:ConfigMap", props: { data: { LOG_LEVEL: "info", KEY_SPACE: "users" } } },
        deployment({ ...goodContainer, env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }] }),
        // ECK's chart names its webhook certificate's Secret in WEBHOOK_SECRET: a name, not a credential.
        deployment(
          { ...goodContainer, env: [{ name: "WEBHOOK_SECRET", value: "elastic-operator-webhook-cert" }] },
          { labels: { "app.kubernetes.io/managed-by": "Helm" } },
        ),
      ],
      /ConfigMap key STRIPE_KEY looks like a credential/,
    ],
    ["no-workloads-in-system-namespaces", [deployment(goodContainer, { namespace: "kube-system" })], [deployment(goodContainer)], /app runs in kube-system/],
    [
      "network-policy-per-namespace",
      [deployment(goodContainer)],
      [deployment(goodContainer), { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", props: { metadata: { namespace: "apps" } } }],
      /app runs in namespace apps, which has no NetworkPolicy/,
    ],
    [
      "disruption-budget-for-replicas",
      [deployment(goodContainer, { replicas: 2 })],
      [
        deployment(goodContainer, { replicas: 2 }),
        { type: "kubernetes:policy/v1:PodDisruptionBudget", props: { metadata: { namespace: "apps" }, spec: { selector: { matchLabels: { app: "app" } } } } },
      ],
      /Deployment app runs 2 replicas with no PodDisruptionBudget/,
    ],
    [
      "ecr-scan-and-immutable-tags",
      [{ type: "aws:ecr/repository:Repository", props: { imageTagMutability: "MUTABLE" } }],
      [{ type: "aws:ecr/repository:Repository", props: { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } } }],
      /images are not scanned on push/,
    ],
    [
      "eks-secrets-encryption-and-audit-logs",
      [{ type: "aws:eks/cluster:Cluster", props: { enabledClusterLogTypes: ["api"] } }],
      [{ type: "aws:eks/cluster:Cluster", props: { encryptionConfig: { resources: ["secrets"] }, enabledClusterLogTypes: ["api", "audit", "authenticator"] } }],
      /control-plane logs missing: audit, authenticator/,
    ],
    [
      "eks-public-endpoint-allowlist",
      [{ type: "aws:eks/cluster:Cluster", props: { vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] } } }],
      [{ type: "aws:eks/cluster:Cluster", props: { vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] } } }],
      /the public endpoint is open to everyone/,
    ],
    [
      "nodes-require-imdsv2",
      [{ type: "aws:ec2/launchTemplate:LaunchTemplate", props: { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 } } }],
      [{ type: "aws:ec2/launchTemplate:LaunchTemplate", props: { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } } }],
      /instance metadata accepts IMDSv1/,
    ],
    [
      "aws-resources-tagged",
      [{ type: "aws:ec2/vpc:Vpc", props: { tags: { Name: "x" } } }],
      [{ type: "aws:ec2/vpc:Vpc", props: { tags: { "flotilla:cluster": "prod" } } }],
      /no flotilla:\* tag \(tags: Name\)/,
    ],
    [
      "stateful-resources-protected-in-prod",
      [
        { type: "aws:kms/key:Key", props: {}, name: "secrets" },
        { type: "kubernetes:postgresql.cnpg.io/v1:Cluster", props: {}, name: "users-db" },
      ],
      [
        { type: "aws:kms/key:Key", props: {}, name: "secrets", protect: true },
        { type: "aws:kms/key:Key", props: {}, name: "secrets", stack: "dev" },
        { type: "aws:s3/bucket:Bucket", props: {}, name: "backups", protect: true },
      ],
      /secrets \(aws:kms\/key:Key\) is not protected in prod\n.*users-db \(kubernetes:postgresql\.cnpg\.io\/v1:Cluster\) is not protected/,
    ],
  ];

  it("tests every policy", () => {
    expect(cases.map(([name]) => name).sort()).toEqual(policies.map((p) => p.name).sort());
  });

  it.each(cases)("%s refuses the violating and accepts the compliant", (name, bad, good, message) => {
    const found = violations(name, ...bad);
    expect(found.length, name).toBeGreaterThan(0);
    expect(found.join("\n")).toMatch(message);
    expect(violations(name, ...good)).toEqual([]);
  });

  it("judges a chart pod's env by its values alone, and Flotilla's own by their names too", () => {
    const chart = { labels: { "app.kubernetes.io/managed-by": "Helm" } };
    const withEnv = (name: string, value: string) => ({ ...goodContainer, env: [{ name, value }] });
    const found = (d: Fake) => violations("no-credentials-in-plain-text", d);
    expect(found(deployment(withEnv("DB_PASSWORD", "hunter2hunter2")))).toEqual([
      "container app has env DB_PASSWORD in plain text: put it in a Secret (a service's secretEnv)",
    ]);
    expect(found(deployment(withEnv("DB_PASSWORD", "hunter2hunter2"), chart))).toEqual([]);
    expect(found(deployment(withEnv("PAYMENT", "sk_live_0123456789abcdef"), chart))).toHaveLength(1);
  });
});

/** Everything the pack reports for a stack's registered resources. */
function packViolations(stack: string, resources: readonly Registered[]): string[] {
  const fakes: Fake[] = resources.map((r) => ({ type: r.type, props: r.inputs, name: r.name, protect: r.protect, stack }));
  return policies.flatMap((p) => violations(p.name, ...fakes).map((v) => `${p.name}: ${v}`));
}

describe("the pack on Flotilla's own stacks", () => {
  it("finds nothing in the dev stack", async () => {
    const run = await runStack("dev");
    expect(packViolations("dev", run.resources)).toEqual([]);
  });

  it("finds nothing in the prod stack", async () => {
    const run = await runStack("prod");
    expect(packViolations("prod", run.resources)).toEqual([]);
  });
});
