/** After `pulumi destroy` (scripts/e2e): nothing of the stack is left, CRDs included. */
import { describe, expect, it } from "vitest";
import { eventually, requiredEnv } from "./env";
import { get, items } from "./kube";

describe("after destroy", () => {
  it.each(["flotilla", "monitoring", "monitoring-node", "logging", "logging-agent", "elastic-system"])("namespace %s is gone", async (namespace) => {
    await eventually(`namespace ${namespace} to be deleted`, 90, async () => (get("namespace", namespace) === undefined ? true : undefined));
  });

  it("leaves no object labelled part of flotilla, and no prometheus-operator CRD", () => {
    expect(items("deployments,networkpolicies,services,configmaps,secrets,jobs", "-A", "-l", "app.kubernetes.io/part-of=flotilla")).toEqual([]);
    expect(items("crds").filter((crd) => crd.spec.group === "monitoring.coreos.com")).toEqual([]);
  });

  it("leaves no pod on the real node but the cluster's own DNS", async () => {
    const node = requiredEnv("FLOTILLA_E2E_NODE");
    await eventually("the stack's pods to leave the real node", 90, async () => {
      const left = items("pods", "-A", "--field-selector", `spec.nodeName=${node}`).filter((p) => p.metadata.namespace !== "kube-system");
      return left.length === 0 ? true : undefined;
    });
  });

  it("keeps only ECK's CRDs, which the chart marks to outlive an uninstall, and nothing of their kinds", () => {
    const eck = items("crds").filter((crd) => crd.spec.group.endsWith(".k8s.elastic.co"));
    expect(eck.length).toBeGreaterThan(0);
    expect(eck.filter((crd) => crd.metadata.annotations?.["helm.sh/resource-policy"] !== "keep").map((crd) => crd.metadata.name)).toEqual([]);
    expect(items("elasticsearches,kibanas", "-A")).toEqual([]);
  });
});
