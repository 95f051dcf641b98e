/**
 * The Kubernetes objects a program run registered, in the form `kubectl apply` takes: for
 * schema validation and for third-party linters.
 */
import Ajv from "ajv";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import type { ProgramRun } from "./harness";

/** The key by which Pulumi's wire form marks a secret value (`{[key]: signature, value}`). */
export const secretSignatureKey = "4dabf18193072939515e22adb298388d";

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * Objects of every `kubernetes:` resource that is one object (a Helm chart is a component, not an
 * object); auto-named ones get the name the mocks gave them. Secret values are replaced by a
 * placeholder, so they never reach a file or a linter's report.
 */
export function kubernetesObjects(run: ProgramRun): KubernetesObject[] {
  return run.resources
    .filter((r) => r.type.startsWith("kubernetes:") && r.readId === undefined && typeof r.inputs.apiVersion === "string" && typeof r.inputs.kind === "string")
    .map((r) => {
      const object = withoutSecrets(structuredClone(r.inputs)) as KubernetesObject;
      object.metadata = { ...object.metadata, name: object.metadata?.name ?? `${r.name}-abc123` };
      return object;
    });
}

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutSecrets);
  }
  if (value !== null && typeof value === "object") {
    if (secretSignatureKey in value) {
      return redacted((value as unknown as { value: unknown }).value);
    }
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutSecrets(inner)]));
  }
  return value;
}

/** The same shape with every leaf replaced, so the object stays valid and says nothing. */
function redacted(value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    return Array.isArray(value) ? value.map(redacted) : Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redacted(inner)]));
  }
  // Base64 of "[secret]": valid where the schema wants bytes (a Secret's data) and where it wants text.
  return "W3NlY3JldF0=";
}

/** Packages of kubernetes-models that hold the schemas of custom resources, by API group. */
const crdModels: Record<string, string> = { "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" };

/** `apps/v1` + `Deployment` → the kubernetes-models module that validates it. */
export function modelModule(apiVersion: string, kind: string): string {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return `${crdModels[group] ?? "kubernetes-models"}/${apiVersion}/${kind}`;
}

/**
 * Validators of custom resources that no kubernetes-models package describes, built from the CRDs
 * the pinned charts ship (read from the chart mirror, `FLOTILLA_CHART_MIRROR` or ../shared/charts):
 * `group/version/Kind` → a function that returns the schema's complaints, none when valid.
 */
export function chartCrdValidators(refs: readonly { chart: string; version: string }[]): Map<string, (object: unknown) => string[]> {
  const mirror = process.env.FLOTILLA_CHART_MIRROR ?? path.join(__dirname, "..", "..", "shared", "charts");
  // The schemas' Kubernetes extensions (x-kubernetes-*) and formats (int32, date-time) are the API server's to check.
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const validators = new Map<string, (object: unknown) => string[]>();
  for (const ref of refs) {
    const archive = path.join(mirror, `${ref.chart}-${ref.version}.tgz`);
    const files = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" })
      .split("\n")
      .filter((name) => /\/crds\/[^/]+\.yaml$/.test(name));
    for (const file of files) {
      // A chart's templates/crds file is plain YAML between an `if` and its `end`.
      const text = execFileSync("tar", ["-xzOf", archive, file], { maxBuffer: 64 * 2 ** 20 })
        .toString()
        .replace(/^\{\{.*\}\}$/gm, "");
      for (const document of parseAllDocuments(text)) {
        const crd = document.toJS() as CustomResourceDefinition | null;
        if (crd?.kind !== "CustomResourceDefinition") continue;
        for (const version of crd.spec.versions) {
          const validate = ajv.compile(version.schema.openAPIV3Schema);
          validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, (object) =>
            validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`),
          );
        }
      }
    }
  }
  return validators;
}

interface CustomResourceDefinition {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] };
}
