import { describe, expect, it } from "vitest";
import { runStack } from "./harness";
import { type KubernetesObject, kubernetesObjects, modelModule } from "./manifests";

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

  const withModel = objects.filter((o) => !validatedInRenderPass.includes(o.kind));
  it.each(withModel.map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))("%s matches the OpenAPI schema", async (_name, object) => {
    await expect(validate(object)).resolves.toBeUndefined();
  });

  it("leaves only ECK's custom resources to the render pass, which validates them against ECK's own CRDs", () => {
    expect([...new Set(objects.filter((o) => !withModel.includes(o)).map((o) => o.kind))].sort()).toEqual([...validatedInRenderPass].sort());
  });
});

describe("the schema validation itself", async () => {
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
