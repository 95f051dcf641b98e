/**
 * The one await of the Kubernetes provider that Flotilla skips, and why, in one place.
 *
 * The provider's Service await (pulumi-kubernetes pkg/await/service.go) returns once the Service's
 * Endpoints have not changed for 10 s and hold no not-ready address; an Endpoints with no address
 * at all passes too. It proves nothing the await of the Deployment behind the Service does not,
 * which still waits until every pod is ready, and it cost every Service of an `up` at least 10 s
 * (bench/engine; docs/benchmarks.md). Headless Services were never awaited.
 */

/** Tells the Kubernetes provider to return as soon as the API server has taken the object. */
export const skipAwaitAnnotation = "pulumi.com/skipAwait";

/**
 * The annotations of a Service that the provider does not await: Flotilla's own, and every chart's
 * (charts/postRender.ts), whose Deployments' awaits are left as the chart rendered them.
 */
export const serviceAwaitSkipped: Readonly<Record<string, string>> = { [skipAwaitAnnotation]: "true" };
