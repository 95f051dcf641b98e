/**
 * The operators as the real node runs them: each chart's own pod, from its chart's image in the
 * mirror registry (`charts.imageRegistry`), on the real node (the features' `operatorScheduling`),
 * under its chart's ServiceAccount, with no binding of the cluster's superuser role. What each
 * reconciles is its suite's (operator, logging, databases): it reconciles under that account.
 */
import { expect } from "vitest";
import { eventually, requiredEnv } from "./env";
import { items, ready } from "./kube";

export interface OperatorPod {
  readonly namespace: string;
  /** A label selector that picks the operator's pods alone. */
  readonly selector: string;
  /** The image's repository under the mirror, as the chart names it upstream. */
  readonly repository: string;
}

/** The operator's one pod, once Ready; asserts where it runs, what it runs, and as whom. */
export async function expectOperatorOnRealNode(operator: OperatorPod): Promise<any> {
  const node = requiredEnv("FLOTILLA_E2E_NODE");
  const registry = requiredEnv("FLOTILLA_REGISTRY");
  const pod = await eventually(`${operator.repository}'s pod Ready`, 90, async () => {
    const pods = items("-n", operator.namespace, "pods", "-l", operator.selector);
    return pods.length === 1 && ready(pods[0]) ? pods[0] : undefined;
  });
  expect(pod.spec.nodeName).toBe(node);
  const [container] = pod.spec.containers;
  expect(container.image.startsWith(`${registry}/${operator.repository}:`), container.image).toBe(true);
  // A container the runtime started, not a pod marked running.
  const status = pod.status.containerStatuses.find((s: any) => s.name === container.name);
  expect(status.containerID).toMatch(/^containerd:\/\//);
  expect(status.state.running?.startedAt).toBeTruthy();
  expect(status.imageID).toContain("@sha256:");

  const account = pod.spec.serviceAccountName;
  expect(account).toBeTruthy();
  expect(account).not.toBe("default");
  const subjectIsOperator = (s: any) => s.kind === "ServiceAccount" && s.name === account && s.namespace === operator.namespace;
  // What it may do, it holds by its chart's bindings alone, none of them to the superuser role.
  const bound = [...items("clusterrolebindings"), ...items("rolebindings", "-A")].filter((b) => (b.subjects ?? []).some(subjectIsOperator));
  expect(bound.length, `${account}'s role bindings`).toBeGreaterThan(0);
  expect(bound.filter((b) => b.roleRef.name === "cluster-admin").map((b) => b.metadata.name)).toEqual([]);
  return pod;
}
