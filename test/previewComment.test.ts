/**
 * The pull-request comment script, fed previews shaped as `pulumi preview --json` writes them
 * (the e2e feeds it a real one): small ones whole, large ones summarised within GitHub's limit.
 */
import { describe, expect, it } from "vitest";
import { commentLimit, commentMarker, type PreviewJson, previewComment } from "../scripts/preview-comment";

const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::flotilla::flotilla:apps:GoService$${type}::${name}`;

function preview(stack: string, resources: number): PreviewJson {
  const steps = Array.from({ length: resources }, (_, i) => ({
    op: i % 3 === 0 ? "update" : "create",
    urn: urn(stack, "kubernetes:apps/v1:Deployment", `service-with-a-rather-long-name-${i}`),
    ...(i % 3 === 0 ? { diffReasons: ["spec"] } : {}),
  }));
  return {
    steps: [{ op: "same", urn: urn(stack, "pulumi:pulumi:Stack", "flotilla-dev") }, ...steps],
    changeSummary: { create: steps.filter((s) => s.op === "create").length, update: steps.filter((s) => s.op === "update").length, same: 1 },
    diagnostics: [{ severity: "warning", message: "warning: something to know\nsecond line" }],
  };
}

describe("preview comment", () => {
  it("shows a small preview whole, marked for editing in place", () => {
    const { comment, full } = previewComment([{ stack: "dev", preview: preview("dev", 3) }]);
    expect(comment).toBe(full);
    expect(comment.startsWith(commentMarker)).toBe(true);
    expect(comment).toContain("### `dev`: 2 to create, 1 to update");
    expect(comment).toContain("~ kubernetes:apps/v1:Deployment service-with-a-rather-long-name-0 (spec)");
    expect(comment).toContain("+ kubernetes:apps/v1:Deployment service-with-a-rather-long-name-1");
    expect(comment).toContain("warning: something to know");
    expect(comment).not.toContain("pulumi:pulumi:Stack");
  });

  it("summarises a preview beyond GitHub's limit, keeping whole lines and every stack's counts", () => {
    const stacks = [
      { stack: "dev", preview: preview("dev", 3000) },
      { stack: "prod", preview: preview("prod", 3000) },
    ];
    const { comment, full } = previewComment(stacks, { artifact: "https://example.invalid/run/1" });
    expect(full.length).toBeGreaterThan(commentLimit);
    expect(comment.length).toBeLessThanOrEqual(commentLimit);
    expect(comment).toContain("### `dev`: 2000 to create, 1000 to update");
    expect(comment).toContain("### `prod`: 2000 to create, 1000 to update");
    expect(comment).toMatch(/… \d+ more lines in the full preview/);
    expect(comment).toContain("The full text is attached to the workflow run: https://example.invalid/run/1");
    const fullLines = new Set(full.split("\n"));
    for (const line of comment.split("\n").filter((l) => /^[+~] /.test(l))) {
      expect(fullLines.has(line), line).toBe(true);
    }
  });

  it("says so when nothing changes", () => {
    const { comment } = previewComment([{ stack: "dev", preview: { steps: [], changeSummary: { same: 22 } } }]);
    expect(comment).toContain("### `dev`: no changes");
  });
});
