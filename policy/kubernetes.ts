/**
 * Policies on the Kubernetes objects of a stack: what GoService, the namespaces and the charts'
 * values promise, checked on what the engine is about to apply.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { isCredentialName, isCredentialValue } from "../components/apps/credentials";
import { features } from "../features";
import { privilegedNamespacesOf } from "../features/feature";
import { containersOf, flotillaPodSpecOf, metadataOf, podSpecOf, stackOf, type PodSpec } from "./workloads";

/** Namespaces allowed host access, as the features declare them: the node agents' (node-exporter, Fluent Bit), apart from everything else. */
export const privilegedNamespaces: readonly string[] = privilegedNamespacesOf(features);

const enforceLabel = "pod-security.kubernetes.io/enforce";

/** What the Pod Security Standard "restricted" forbids in a pod, as readable problems. */
export function restrictedProblems(pod: PodSpec): string[] {
  const problems: string[] = [];
  for (const host of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (pod[host] === true) {
      problems.push(`${host} is set`);
    }
  }
  for (const volume of pod.volumes ?? []) {
    if (volume.hostPath !== undefined) {
      problems.push(`volume ${volume.name} is a hostPath`);
    }
  }
  for (const c of containersOf(pod)) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    if (sc.privileged === true) {
      problems.push(`${at} is privileged`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      problems.push(`${at} does not set allowPrivilegeEscalation: false`);
    }
    if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) {
      problems.push(`${at} may run as root (runAsNonRoot is not true)`);
    }
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) {
      problems.push(`${at} does not drop ALL capabilities`);
    }
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
    if (added.length > 0) {
      problems.push(`${at} adds ${added.join(", ")}`);
    }
    const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      problems.push(`${at} has no RuntimeDefault or Localhost seccomp profile`);
    }
  }
  return problems;
}

/** "restricted" for every pod outside `privileged`, the namespaces the features declare privileged. */
export const podSecurityRestrictedExcept = (privileged: readonly string[]): StackValidationPolicy => ({
  name: "pod-security-restricted",
  description: "Pods meet the Pod Security Standard 'restricted', except in the node agents' namespaces.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const resource of args.resources) {
      const pod = podSpecOf(resource.type, resource.props);
      const namespace = metadataOf(resource.props).namespace;
      if (pod === undefined || (namespace !== undefined && privileged.includes(namespace))) {
        continue;
      }
      for (const problem of restrictedProblems(pod)) {
        reportViolation(`${resource.name}: ${problem}; restricted pods are the default (see README, Security)`, resource.urn);
      }
    }
  },
});
export const podSecurityRestricted = podSecurityRestrictedExcept(privilegedNamespaces);

/** Every namespace labelled with a level, "privileged" only for those in `privileged`. */
export const namespacePodSecurityExcept = (privileged: readonly string[]): ResourceValidationPolicy => ({
  name: "namespace-pod-security",
  description: "Every namespace enforces a Pod Security level; only the node agents' namespaces are privileged.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:core/v1:Namespace") {
      return;
    }
    const { name, labels = {} } = metadataOf(args.props);
    const level = labels[enforceLabel];
    if (level === undefined) {
      reportViolation(`namespace ${name} enforces no Pod Security level (label ${enforceLabel})`);
    } else if (level === "privileged" && !privileged.includes(name ?? "")) {
      reportViolation(`namespace ${name} is privileged; only ${privileged.join(" and ")} may be`);
    }
  },
});
export const namespacePodSecurity = namespacePodSecurityExcept(privilegedNamespaces);

export const readOnlyRootFilesystem: ResourceValidationPolicy = {
  name: "read-only-root-filesystem",
  description: "Flotilla's own containers run with a read-only root filesystem (writable paths are emptyDir volumes).",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const pod = flotillaPodSpecOf(args.type, args.props);
    if (pod === undefined) {
      return;
    }
    for (const c of containersOf(pod).filter((c) => c.securityContext?.readOnlyRootFilesystem !== true)) {
      reportViolation(`container ${c.name} has a writable root filesystem`);
    }
  },
};

export const requestsAndLimits: ResourceValidationPolicy = {
  name: "requests-and-limits",
  description: "Every container requests CPU and memory and is limited in memory, so the scheduler and the OOM killer know it.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.props);
    for (const c of pod === undefined ? [] : containersOf(pod)) {
      const missing = [
        ...["cpu", "memory"].filter((r) => c.resources?.requests?.[r] === undefined).map((r) => `a ${r} request`),
        ...(c.resources?.limits?.memory === undefined ? ["a memory limit"] : []),
      ];
      if (missing.length > 0) {
        reportViolation(`container ${c.name} has no ${missing.join(", ")}`);
      }
    }
  },
};

export const imagesByDigest: ResourceValidationPolicy = {
  name: "images-by-digest",
  description: "Outside dev, Flotilla's containers run an image by digest, so what was previewed is what runs.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { tagsAllowedInStacks: { type: "array", items: { type: "string" }, default: ["dev"] } },
  },
  validateResource: (args, reportViolation) => {
    const pod = flotillaPodSpecOf(args.type, args.props);
    const { tagsAllowedInStacks } = args.getConfig<{ tagsAllowedInStacks: string[] }>();
    if (pod === undefined || tagsAllowedInStacks.includes(stackOf(args.urn))) {
      return;
    }
    for (const c of containersOf(pod).filter((c) => c.image !== undefined && !c.image.includes("@sha256:"))) {
      reportViolation(`container ${c.name} runs ${c.image}, a tag that can move: deploy by digest (repository@sha256:…)`);
    }
  },
};

export const noCredentialsInPlainText: ResourceValidationPolicy = {
  name: "no-credentials-in-plain-text",
  description:
    "No credential-looking names or values in container env or ConfigMaps: they belong in Secrets. A chart's own variable names are upstream's (ECK's WEBHOOK_SECRET names a Secret): in charts' pods only values are judged.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const advice = "put it in a Secret (a service's secretEnv)";
    if (args.type === "kubernetes:core/v1:ConfigMap") {
      for (const [key, value] of Object.entries((args.props.data ?? {}) as Record<string, string>)) {
        if (isCredentialName(key) || (typeof value === "string" && isCredentialValue(value))) {
          reportViolation(`ConfigMap key ${key} looks like a credential: ${advice}`);
        }
      }
      return;
    }
    const pod = podSpecOf(args.type, args.props);
    const own = flotillaPodSpecOf(args.type, args.props) !== undefined;
    for (const c of pod === undefined ? [] : containersOf(pod)) {
      for (const e of c.env ?? []) {
        if (e.value !== undefined && ((own && isCredentialName(e.name ?? "")) || isCredentialValue(e.value))) {
          reportViolation(`container ${c.name} has env ${e.name} in plain text: ${advice}`);
        }
      }
    }
  },
};

export const noSystemNamespaces: ResourceValidationPolicy = {
  name: "no-workloads-in-system-namespaces",
  description: "Flotilla's workloads stay out of default and the kube-* namespaces, which the cluster owns.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const namespace = metadataOf(args.props).namespace;
    if (flotillaPodSpecOf(args.type, args.props) !== undefined && (namespace === "default" || namespace?.startsWith("kube-"))) {
      reportViolation(`${args.name} runs in ${namespace}, which the cluster owns`);
    }
  },
};

const networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

export const networkPolicyPerNamespace: StackValidationPolicy = {
  name: "network-policy-per-namespace",
  description: "Every namespace that runs Flotilla's workloads has a NetworkPolicy, so no pod is open by accident.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const covered = new Set(args.resources.filter((r) => r.type === networkPolicyType).map((r) => metadataOf(r.props).namespace));
    for (const resource of args.resources) {
      const namespace = metadataOf(resource.props).namespace;
      if (flotillaPodSpecOf(resource.type, resource.props) !== undefined && namespace !== undefined && !covered.has(namespace)) {
        reportViolation(`${resource.name} runs in namespace ${namespace}, which has no NetworkPolicy`, resource.urn);
      }
    }
  },
};

const pdbType = "kubernetes:policy/v1:PodDisruptionBudget";
const hpaType = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";

export const disruptionBudgetForReplicas: StackValidationPolicy = {
  name: "disruption-budget-for-replicas",
  description: "A Deployment of more than one replica has a PodDisruptionBudget, so a node drain keeps it serving.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const budgets = args.resources.filter((r) => r.type === pdbType);
    const autoscalers = args.resources.filter((r) => r.type === hpaType);
    for (const deployment of args.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")) {
      const { name, namespace } = metadataOf(deployment.props);
      const scaler = autoscalers.find((h) => metadataOf(h.props).namespace === namespace && h.props.spec?.scaleTargetRef?.name === name);
      const replicas = Math.max(Number(deployment.props.spec?.replicas ?? 1), Number(scaler?.props.spec?.minReplicas ?? 0));
      if (replicas <= 1) {
        continue;
      }
      const podLabels: Record<string, string> = deployment.props.spec?.template?.metadata?.labels ?? {};
      const selects = (budget: (typeof budgets)[number]) =>
        metadataOf(budget.props).namespace === namespace &&
        Object.entries((budget.props.spec?.selector?.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => podLabels[k] === v);
      if (!budgets.some(selects)) {
        reportViolation(`Deployment ${name} runs ${replicas} replicas with no PodDisruptionBudget selecting its pods`, deployment.urn);
      }
    }
  },
};
