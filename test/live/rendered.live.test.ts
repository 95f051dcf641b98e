/**
 * Every object the real provider rendered for the dev stack (scripts/e2e's render pass, charts
 * included), validated: built-in kinds against the Kubernetes OpenAPI schema (kubernetes-models),
 * custom resources against the openAPIV3Schema of the CRD that the same render produced.
 */
import Ajv from "ajv";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { type KubernetesObject, modelModule } from "../manifests";
import { requiredEnv } from "./env";

const dir = requiredEnv("FLOTILLA_E2E_RENDER_DIR");

function yamlFiles(d: string): string[] {
  return fs
    .readdirSync(d, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(d, e.name)) : e.name.endsWith(".yaml") ? [path.join(d, e.name)] : []));
}

const objects = yamlFiles(dir).flatMap((file) =>
  parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((doc) => doc.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null),
);
const crds = objects.filter((o) => o.kind === "CustomResourceDefinition") as any[];
const crdSchemas = new Map<string, object>(
  crds.flatMap((crd) => crd.spec.versions.map((v: any) => [`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema])),
);
/**
 * CRD patterns are Go regular expressions (RE2); the one construct of theirs that JavaScript
 * lacks, the `(?i)` flag group, becomes the `i` flag.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) => (pattern.includes("(?i)") ? new RegExp(pattern.replaceAll("(?i)", ""), `${flags}i`) : new RegExp(pattern, flags)),
  { code: "goRegExp" },
);
// Kubernetes' structural schemas use x-kubernetes-* keywords and formats ajv does not know.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });

async function validate(object: KubernetesObject): Promise<void> {
  const schema = crdSchemas.get(`${object.apiVersion}/${object.kind}`);
  if (schema) {
    const check = ajv.compile(schema);
    if (!check(object)) {
      throw new Error(ajv.errorsText(check.errors));
    }
    return;
  }
  const module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[object.kind];
  if (!Model) {
    throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  }
  new Model(object).validate();
}

const own = (o: KubernetesObject) => o.metadata.labels?.["app.kubernetes.io/part-of"] === "flotilla";

describe("the rendered manifests", () => {
  it("hold the project's objects, the charts' objects and the CRDs they use", () => {
    expect(objects.filter(own).length).toBeGreaterThan(15);
    expect(objects.filter((o) => !own(o)).length).toBeGreaterThan(50);
    expect(crdSchemas.has("monitoring.coreos.com/v1/ServiceMonitor")).toBe(true);
  });

  it.each(objects.map((o) => [own(o) ? "own" : "chart", `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, o] as const))(
    "%s: %s matches its schema",
    async (_origin, _name, object) => {
      await expect(validate(object)).resolves.toBeUndefined();
    },
  );
});
