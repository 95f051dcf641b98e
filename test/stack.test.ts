import { describe, expect, it } from "vitest";
import { runStack } from "./harness";

describe("dev stack", () => {
  it("registers", async () => {
    const run = await runStack("dev");
    console.log(run.resources.map((r) => `${r.type} ${r.name}`).join("\n"));
    console.log(JSON.stringify(run.values, null, 1));
    console.log(JSON.stringify(run.one("kubernetes:apps/v1:Deployment", "gateway").inputs, null, 1));
    expect(run.resources.length).toBeGreaterThan(5);
  });
});
