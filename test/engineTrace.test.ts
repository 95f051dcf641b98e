/** bench/engineTrace.ts's critical path: what the last registration of an `up` waited on. */
import { describe, expect, it } from "vitest";
import { criticalPath } from "../bench/engineTrace";

const urn = (name: string) => `urn:pulumi:dev::flotilla::kubernetes:core/v1:Secret::${name}`;
const registration = (name: string, start: number, end: number, dependencies: string[] = []) => ({
  urn: urn(name),
  dependencies: dependencies.map(urn),
  start,
  end,
});

describe("criticalPath", () => {
  it("follows the dependency that finished last before each link began, back to one the program sent", () => {
    const path = criticalPath([
      registration("ca", 1, 4),
      registration("early", 1, 2),
      registration("copy", 4, 5, ["early", "ca"]),
      registration("chart", 5, 7, ["copy"]),
      registration("unrelated", 0, 6),
    ]);
    expect(path.map((r) => r.urn)).toEqual([urn("ca"), urn("copy"), urn("chart")]);
  });

  it("stops at a dependency that had finished well before the link began: it was not waited on", () => {
    const path = criticalPath([registration("namespace", 0, 1), registration("late", 3, 4, ["namespace"])]);
    expect(path.map((r) => r.urn)).toEqual([urn("late")]);
  });

  it("is empty for a trace without registrations", () => {
    expect(criticalPath([])).toEqual([]);
  });
});
