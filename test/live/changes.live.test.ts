/** The engine's change summaries of the runs scripts/e2e made, and the preview comment made from the real preview. */
import * as fs from "node:fs";
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

describe("the pull-request comment of the real dev preview", () => {
  it("names the stack and the counts the engine planned, one line per resource", () => {
    const comment = fs.readFileSync(requiredEnv("FLOTILLA_E2E_COMMENT"), "utf8");
    const create = summary("FLOTILLA_E2E_PREVIEW").create;
    expect(comment.startsWith("<!-- flotilla-preview -->")).toBe(true);
    expect(comment).toContain(`### \`dev\`: ${create} to create`);
    expect(comment.split("\n").filter((line) => line.startsWith("+ ")).length).toBe(create);
  });
});
