/** The engine's change summaries of the runs scripts/e2e made, as the driver printed them. */
import { describe, expect, it } from "vitest";
import { requiredEnv } from "./env";

const summary = (name: string) => JSON.parse(requiredEnv(name)) as Record<string, number>;

describe("the engine's summaries", () => {
  it("planned creations in the first preview", () => {
    expect(summary("FLOTILLA_E2E_PREVIEW").create).toBeGreaterThan(0);
  });

  it("changed nothing in the second up: every chart value is stable", () => {
    const second = summary("FLOTILLA_E2E_SECOND_UP");
    // A read (ECK's CA Secret, fetched again at each up) looks at the cluster and changes nothing.
    expect(Object.keys(second).filter((op) => op !== "same" && op !== "read")).toEqual([]);
    expect(second.same).toBe(summary("FLOTILLA_E2E_UP").create);
  });
});
