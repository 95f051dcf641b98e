/**
 * The consumer under Pulumi's mocks, importing @flotilla/stack as installed from its package:
 * what another team's stack gets from the public API.
 */
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);

const registered: { type: string; name: string; inputs: Record<string, any> }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any -- inputs are untyped JSON

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "flotilla-consumer",
    "test",
    false,
  );
});

/** The consumer deployed under the mocks with `settings` over a greeter's, once its resources are registered. */
async function deployed(settings: Record<string, unknown>): Promise<void> {
  const { deployGreeter } = await import("./greeter.js");
  deployGreeter({ image: "registry.example/greeter@sha256:" + "1".repeat(64), namespace: "greetings", replicas: 2, greeting: "hi", ...settings });
  await new Promise((resolve) => setTimeout(resolve, 100));
}

describe("the consumer's greeter", () => {
  it("importing the package registers nothing", async () => {
    await import("@flotilla/stack");
    expect(registered).toEqual([]);
  });

  it("deploys a restricted namespace and one service with its disruption budget and its secret", async () => {
    await deployed({ apiToken: pulumi.secret("t0k") });
    const types = registered.map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "flotilla:namespace:AppNamespace",
        "flotilla:apps:GoService",
        "kubernetes:apps/v1:Deployment",
        "kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:core/v1:Secret",
      ]),
    );
    const namespace = registered.find((r) => r.type === "kubernetes:core/v1:Namespace");
    expect(namespace?.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const deployment = registered.find((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(deployment?.inputs.spec.template.metadata.labels["app.kubernetes.io/part-of"]).toBe("greetings");
  });
});

describe("the consumer's frontend", () => {
  it("is the greeter's one caller, both selected by their own part-of", async () => {
    await deployed({ namespace: "greetings-with-frontend", replicas: 1, frontendImage: "registry.example/frontend@sha256:" + "2".repeat(64) });
    const policy = (name: string) =>
      registered.find(
        (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.name === name && r.inputs.metadata.namespace === "greetings-with-frontend",
      )?.inputs.spec;
    const greetings = (name: string) => ({ matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "greetings" } });
    expect(policy("greeter")?.ingress[0].from).toEqual([{ podSelector: greetings("frontend") }]);
    expect(policy("frontend")?.egress[1].to).toEqual([{ podSelector: greetings("greeter") }]);
  });
});

describe("the package's charts", () => {
  it("pipe their manifests through the package's post-renderer, which runs from the consumer's directory", async () => {
    const { Monitoring, monitoringDefaults } = await import("@flotilla/stack");
    new Monitoring("consumer-monitoring", { grafanaAdminPassword: pulumi.secret("an admin password") });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const chart = registered.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name === "consumer-monitoring");
    const { command, args } = chart?.inputs.postRenderer as { command: string; args: string[] };
    // The installed package's JavaScript, by a path relative to the project: the same on every
    // machine; then what Monitoring leaves out (prometheus-operator's kinds Flotilla does not use).
    expect(args).toEqual([
      "node_modules/@flotilla/stack/bin/components/charts/postRender.js",
      ...monitoringDefaults.optionalKinds.crds.flatMap((crd) => ["--drop", `apiextensions.k8s.io/CustomResourceDefinition/${crd}`]),
    ]);
    const service = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: grafana\n";
    const output = execFileSync(command, args, { input: service, encoding: "utf8" });
    expect(JSON.parse(output.replace(/^---\n/, ""))).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "grafana", annotations: { "pulumi.com/skipAwait": "true" } },
    });
  });
});

describe("the package's peer dependencies", () => {
  it("resolve to the consumer's own single copy of @pulumi/pulumi and @pulumi/kubernetes", () => {
    const fromStack = (pkg: string) => require.resolve(pkg, { paths: [require.resolve("@flotilla/stack")] });
    for (const pkg of ["@pulumi/pulumi", "@pulumi/kubernetes"]) {
      expect(fromStack(pkg)).toBe(require.resolve(pkg));
    }
  });
});
