/**
 * The Kubernetes objects a program run registered, in the form `kubectl apply` takes: for
 * schema validation and for third-party linters.
 */
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
