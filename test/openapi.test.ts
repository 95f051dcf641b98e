import { describe, expect, it } from "vitest";
import { charts } from "../components/charts/charts";
import { runStack } from "./harness";
import { chartCrdValidators, type KubernetesObject, kubernetesObjects, modelModule } from "./manifests";

/** Validates with the Kubernetes OpenAPI schema, as compiled by kubernetes-models; throws on a violation. */
async function validate(object: KubernetesObject): Promise<void> {
  const module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[object.kind];
  if (!Model) {
    throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  }
  new Model(object).validate();
}

/**
 * Kinds no kubernetes-models package describes (ECK's): test/live/rendered.live.test.ts validates
 * them against the CRDs the eck-operator chart installs, in scripts/e2e's render pass.
 */
const validatedInRenderPass = ["Elasticsearch", "Kibana"];

/** CloudNativePG's and its Barman Cloud plugin's kinds, validated against the CRDs their pinned charts ship. */
const crdValidators = chartCrdValidators([charts.cloudnativePg, charts.barmanCloud]);
const byChartCrd = (o: KubernetesObject) => crdValidators.get(`${o.apiVersion}/${o.kind}`);

describe.each(["dev", "prod"] as const)("%s stack's Kubernetes objects", async (stack) => {
  const objects = kubernetesObjects(await runStack(stack));

  it("include every kind the stack deploys", () => {
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ["Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service", "NetworkPolicy"]) {
      expect(kinds).toContain(kind);
    }
    if (stack === "prod") {
      expect(kinds).toContain("HorizontalPodAutoscaler");
      expect(kinds).toContain("PodDisruptionBudget");
    }
  });

  const withCrd = objects.filter((o) => byChartCrd(o) !== undefined);
  const withModel = objects.filter((o) => !validatedInRenderPass.includes(o.kind) && !withCrd.includes(o));
  it.each(withModel.map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))("%s matches the OpenAPI schema", async (_name, object) => {
    await expect(validate(object)).resolves.toBeUndefined();
  });

  it.each(withCrd.map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))("%s matches its chart's CRD", (_name, object) => {
    expect(byChartCrd(object)?.(object)).toEqual([]);
  });

  it("leaves only ECK's custom resources to the render pass, which validates them against ECK's own CRDs", () => {
    expect([...new Set(objects.filter((o) => !withModel.includes(o) && !withCrd.includes(o)).map((o) => o.kind))].sort()).toEqual(
      [...validatedInRenderPass].sort(),
    );
    if (stack === "prod") {
      expect(withCrd.map((o) => o.kind).sort()).toEqual(["Cluster", "ObjectStore", "ScheduledBackup"]);
    }
  });
});

describe("the schema validation itself", async () => {
  it("fails a custom resource against its chart's CRD", () => {
    const validate = crdValidators.get("postgresql.cnpg.io/v1/ScheduledBackup");
    expect(validate?.({ apiVersion: "postgresql.cnpg.io/v1", kind: "ScheduledBackup", metadata: { name: "x" }, spec: { method: "tape" } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/spec must have required property 'cluster'/),
        expect.stringMatching(/\/spec\/method must be equal to one of/),
      ]),
    );
  });

  const deployment = kubernetesObjects(await runStack("dev")).find((o) => o.kind === "Deployment") as KubernetesObject;

  it("fails on a field of the wrong type", async () => {
    const broken = structuredClone(deployment) as any;
    broken.spec.template.spec.containers[0].ports[0].containerPort = "http";
    await expect(validate(broken)).rejects.toThrow(/containerPort/);
  });

  it("fails on a missing required field", async () => {
    const broken = structuredClone(deployment) as any;
    delete broken.spec.selector;
    await expect(validate(broken)).rejects.toThrow(/selector/);
  });

  it("fails on a value outside an enum", async () => {
    const broken = structuredClone(deployment) as any;
    broken.spec.template.spec.containers[0].imagePullPolicy = "Sometimes";
    await expect(validate(broken)).rejects.toThrow(/imagePullPolicy/);
  });
  // Unknown fields are not in this schema's reach (Kubernetes' OpenAPI allows them); TypeScript's
  // excess-property checks on @pulumi/kubernetes' input types refuse them at compile time instead.
});
