/**
 * Pure builders for the parts of a Go service's pod that carry policy: labels, the "restricted"
 * security contexts, probes and spreading. Kept apart from the component so they can be tested
 * and reused (the monitoring and logging components run their pods under the same rules).
 */
import type * as Inputs from "@pulumi/kubernetes/types/input";

/**
 * The non-root user and group every Flotilla container runs as: distroless' `nonroot`, above the
 * 10000 that linters ask for so it never collides with a node's own users.
 */
export const nonRootId = 65532;

/** Resource requests and limits in the form the config contract uses. */
export interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string; readonly ephemeralStorage: string };
  readonly limits: { readonly cpu: string; readonly memory: string; readonly ephemeralStorage: string };
}

/** The application a workload is part of when its declaration names none. */
export const defaultPartOf = "flotilla";

/** `app.kubernetes.io` labels of one component of the stack; the first two also select its pods. */
export function standardLabels(name: string, component: string, partOf = defaultPartOf): Record<string, string> {
  return {
    ...selectorLabels(name, partOf),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The labels that select a workload's pods; they never change, since selectors are immutable. */
export function selectorLabels(name: string, partOf = defaultPartOf): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": partOf };
}

/** Pod-level settings required by the Pod Security Standard "restricted". */
export function restrictedPodSecurityContext(): Inputs.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: nonRootId,
    runAsGroup: nonRootId,
    fsGroup: nonRootId,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level settings required by "restricted", plus a read-only root filesystem. */
export function restrictedContainerSecurityContext(): Inputs.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: nonRootId,
    runAsGroup: nonRootId,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Requests and limits, ephemeral storage included, in the Kubernetes spelling. */
export function resourceRequirements(resources: Resources): Inputs.core.v1.ResourceRequirements {
  const list = (r: Resources["requests"]) => ({ cpu: r.cpu, memory: r.memory, "ephemeral-storage": r.ephemeralStorage });
  return { requests: list(resources.requests), limits: list(resources.limits) };
}

/**
 * Probes on the operations port. Liveness asks only "is the process alive" (`/healthz`), so a slow
 * dependency never restarts a healthy pod; readiness (`/readyz`) drops first when draining.
 */
export function httpProbes(opsPort: number): Pick<Inputs.core.v1.Container, "startupProbe" | "livenessProbe" | "readinessProbe"> {
  const get = (path: string) => ({ path, port: opsPort, scheme: "HTTP" });
  return {
    startupProbe: { httpGet: get("/healthz"), periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 1 },
    livenessProbe: { httpGet: get("/healthz"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
    readinessProbe: { httpGet: get("/readyz"), periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 1 },
  };
}

/** Spreads replicas over nodes and zones, preferring balance without blocking scheduling. */
export function spreadConstraints(selector: Record<string, string>): Inputs.core.v1.TopologySpreadConstraint[] {
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    topologyKey,
    maxSkew: 1,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  }));
}

/**
 * Seconds Kubernetes waits before killing the pod: the service's drain, then its shutdown
 * timeout, plus a margin for the process to exit after it.
 */
export function terminationGracePeriod(drainSeconds: number, shutdownTimeoutSeconds: number): number {
  return drainSeconds + shutdownTimeoutSeconds + 5;
}
