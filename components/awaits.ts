/**
 * How `pulumi up` waits for Flotilla's objects, where it departs from the Kubernetes provider's
 * built-in awaits, and why, in one place.
 *
 * The provider's Service await (pulumi-kubernetes pkg/await/service.go) returns once the Service's
 * Endpoints have not changed for 10 s and hold no not-ready address; an Endpoints with no address
 * at all passes too. It proves nothing the await of the Deployment behind the Service does not,
 * which still waits until every pod is ready, and it cost every Service of an `up` at least 10 s
 * (bench/engine; docs/benchmarks.md). Headless Services were never awaited.
 *
 * The provider's Deployment await (pkg/await/deployment.go, provider v4.x) can return before a
 * rollout has finished, or even begun. Its informers are shared by every await in a namespace; when two Deployments
 * change in one `up`, the second await may be handed the informer's cached copy from before the
 * update, and then the update itself, whose revision annotation and conditions are still the old
 * ReplicaSet's, fully available: it takes that for the finished rollout. Seen on the real node (suite
 * "images", users 2 of 3 pods updated when `up` had returned), reproduced under CPU load. The
 * provider's `pulumi.com/waitFor` conditions instead ignore any copy older than the update and any
 * status the Deployment controller wrote before it saw the update (`observedGeneration`), so every
 * Deployment of the stack, Flotilla's and the charts' (charts/postRender.ts), is awaited by those.
 */

/** Tells the Kubernetes provider to return as soon as the API server has taken the object. */
export const skipAwaitAnnotation = "pulumi.com/skipAwait";

/**
 * The annotations of a Service that the provider does not await: Flotilla's own, and every chart's
 * (charts/postRender.ts).
 */
export const serviceAwaitSkipped: Readonly<Record<string, string>> = { [skipAwaitAnnotation]: "true" };

/** The provider's annotation of conditions that replace its built-in await, all of which must hold. */
export const waitForAnnotation = "pulumi.com/waitFor";

/**
 * The annotations that make `up` wait for a Deployment's rollout to finish. With a replica count,
 * the counts `kubectl rollout status` reads: every pod runs the current template, none of an older
 * one is left, and all are available. Without one (an autoscaler's Deployment, or a chart's that
 * leaves it to the default), the controller's own word: Progressing's reason NewReplicaSetAvailable.
 * Zero replicas take the latter too, as the status leaves zero counts out. On a rollout that never
 * finishes, `up` fails at the provider's timeout (10 min), naming the condition still unmet and
 * what it found; the pods' own errors are then in `kubectl describe`, as the built-in await's log
 * no longer has them.
 */
export function rolloutAwait(replicas: number | undefined): Record<string, string> {
  const conditions = replicas
    ? ["updatedReplicas", "replicas", "availableReplicas"].map((field) => `jsonpath={.status.${field}}=${replicas}`)
    : ['jsonpath={.status.conditions[?(@.type=="Progressing")].reason}=NewReplicaSetAvailable'];
  return { [waitForAnnotation]: JSON.stringify(conditions) };
}
