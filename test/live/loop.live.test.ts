/**
 * The developer's inner loop (scripts/e2e, part "figures"): one line of the gateway changed,
 * images built and pushed, up. Only the gateway is rebuilt, and only its Deployment changes.
 */
import { describe, expect, it } from "vitest";
import { requiredEnv } from "./env";
import { get } from "./kube";

describe("one line of the gateway changed", () => {
  it("rebuilds the gateway's image alone: the users and logsetup tags did not move", () => {
    expect(requiredEnv("FLOTILLA_E2E_LOOP_REBUILT")).toBe("gateway");
  });

  it("changes only the gateway's Deployment", () => {
    const changes = JSON.parse(requiredEnv("FLOTILLA_E2E_LOOP_CHANGES")) as Record<string, number>;
    expect(changes.update).toBe(1);
    expect(Object.keys(changes).filter((op) => op !== "same" && op !== "update")).toEqual([]);
  });

  it("runs the new image, rolled out", () => {
    const deployment = get("deployment", "gateway", "-n", "flotilla");
    expect(deployment.spec.template.spec.containers[0].image).toBe(requiredEnv("FLOTILLA_E2E_LOOP_IMAGE"));
    expect(deployment.status.updatedReplicas).toBe(deployment.spec.replicas);
    expect(deployment.status.availableReplicas).toBe(deployment.spec.replicas);
  });
});
