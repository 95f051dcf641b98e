/**
 * What the policies read from Kubernetes objects as the engine hands them over: plain JSON, with
 * unknown values absent during a preview.
 */

/** Kubernetes kinds that hold a pod template, by Pulumi type token. */
const podTemplatePaths: Record<string, readonly string[]> = {
  "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
  "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
  "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
  "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
  "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
  "kubernetes:core/v1:Pod": ["spec"],
};

export interface Container {
  name?: string;
  image?: string;
  env?: { name?: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: SecurityContext;
}

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  volumes?: { name?: string; hostPath?: unknown }[];
  containers?: Container[];
  initContainers?: Container[];
}

/** The pod spec of a workload, or undefined for anything that runs no pods. */
export function podSpecOf(type: string, props: Record<string, unknown>): PodSpec | undefined {
  const path = podTemplatePaths[type];
  if (path === undefined) {
    return undefined;
  }
  let node: unknown = props;
  for (const key of path) {
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return (node ?? {}) as PodSpec;
}

/** Every container of a pod, init containers included. */
export const containersOf = (pod: PodSpec): Container[] => [...(pod.initContainers ?? []), ...(pod.containers ?? [])];

export function metadataOf(props: Record<string, unknown>): { name?: string; namespace?: string; labels?: Record<string, string> } {
  return (props.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
}

/** Objects Flotilla's components declare themselves, as opposed to a third-party chart's. */
const isFlotillaOwned = (props: Record<string, unknown>) => metadataOf(props).labels?.["app.kubernetes.io/managed-by"] === "pulumi";

/** The pod spec of a workload Flotilla deploys itself (not a chart's), or undefined. */
export const flotillaPodSpecOf = (type: string, props: Record<string, unknown>): PodSpec | undefined =>
  isFlotillaOwned(props) ? podSpecOf(type, props) : undefined;

/** The stack a resource belongs to, from its URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackOf(urn: string): string {
  return (urn.split("::")[0] ?? "").replace(/^urn:pulumi:/, "");
}
