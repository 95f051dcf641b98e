/**
 * The Kubernetes objects a program run registered, in the form `kubectl apply` takes: for
 * schema validation and for third-party linters.
 */
import type { ProgramRun } from "./harness";

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Objects of every `kubernetes:` resource; auto-named ones get the name the mocks gave them. */
export function kubernetesObjects(run: ProgramRun): KubernetesObject[] {
  return run.resources
    .filter((r) => r.type.startsWith("kubernetes:"))
    .map((r) => {
      const object = structuredClone(r.inputs) as KubernetesObject;
      object.metadata = { ...object.metadata, name: object.metadata?.name ?? `${r.name}-abc123` };
      return object;
    });
}

/** `apps/v1` + `Deployment` → the kubernetes-models module that validates it. */
export function modelModule(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}
