/** After `pulumi destroy` (scripts/e2e): nothing of the stack is left, as each feature declares its teardown. */
import { describe, expect, it } from "vitest";
import { features } from "../../features";
import { featureNamespaces } from "../../features/feature";
import { eventually, requiredEnv } from "./env";
import { get, items } from "./kube";
import { featuresWithCharts } from "./stackFile";

const teardowns = features.map((f) => f.teardown ?? {});
/** The features whose charts the stack installed: their CRDs were made. */
const charted = featuresWithCharts();

describe("after destroy", () => {
  it.each(["flotilla", ...featureNamespaces(features).map((n) => n.name)])("namespace %s is gone", async (namespace) => {
    await eventually(`namespace ${namespace} to be deleted`, 90, async () => (get("namespace", namespace) === undefined ? true : undefined));
  });

  it("leaves no object labelled part of flotilla, and no CRD of the groups the features remove", () => {
    expect(items("deployments,networkpolicies,services,configmaps,secrets,jobs", "-A", "-l", "app.kubernetes.io/part-of=flotilla")).toEqual([]);
    const removed = teardowns.flatMap((t) => t.removedCrdGroups ?? []);
    expect(removed.length).toBeGreaterThan(0);
    expect(items("crds").filter((crd) => removed.includes(crd.spec.group))).toEqual([]);
  });

  it("leaves no pod on the real node but the cluster's own DNS", async () => {
    const node = requiredEnv("FLOTILLA_E2E_NODE");
    await eventually("the stack's pods to leave the real node", 90, async () => {
      const left = items("pods", "-A", "--field-selector", `spec.nodeName=${node}`).filter((p) => p.metadata.namespace !== "kube-system");
      return left.length === 0 ? true : undefined;
    });
  });

  const kept = features.flatMap((f) => (f.teardown?.keptCrds ?? []).map((crds) => [crds.groupSuffix, crds, charted.has(f.key)] as const));
  it.each(kept)(
    "keeps only the %s CRDs its chart marks to outlive an uninstall (none when it was not installed), and nothing of their kinds",
    (_suffix, kept, installed) => {
      const crds = items("crds").filter((crd) => crd.spec.group.endsWith(kept.groupSuffix));
      // A chart the stack did not install made none: none may be there.
      expect(crds.length > 0).toBe(installed);
      expect(crds.filter((crd) => crd.metadata.annotations?.["helm.sh/resource-policy"] !== "keep").map((crd) => crd.metadata.name)).toEqual([]);
      if (installed) {
        expect(items(kept.kinds.join(","), "-A")).toEqual([]);
      }
    },
  );
});
