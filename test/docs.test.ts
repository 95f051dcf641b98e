/**
 * The documentation's links: every relative link in the README and docs/ names a file that
 * exists, and every anchor a heading of that file (GitHub's anchors: lower case, punctuation
 * dropped, spaces as hyphens).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.join(__dirname, "..");
const documents = ["README.md", ...fs.readdirSync(path.join(root, "docs")).map((file) => path.join("docs", file))].filter((f) => f.endsWith(".md"));

const anchorsOf = (file: string) =>
  new Set(
    [...fs.readFileSync(path.join(root, file), "utf8").matchAll(/^#+ (.+)$/gm)].map(([, heading]) =>
      (heading as string)
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, "")
        .replace(/ /g, "-"),
    ),
  );

/** Relative links outside code blocks: `[text](target)`, not URLs. */
function linksOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), "utf8").replace(/```[\s\S]*?```/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target as string).filter((target) => !/^[a-z]+:/.test(target));
}

/** The links of `file` that name a missing file or a missing heading. */
function brokenLinks(file: string): string[] {
  return linksOf(file).filter((link) => {
    const [target = "", anchor] = link.split("#");
    const resolved = target === "" ? file : path.normalize(path.join(path.dirname(file), target));
    return !fs.existsSync(path.join(root, resolved)) || (anchor !== undefined && !anchorsOf(resolved).has(anchor));
  });
}

describe("the documentation's relative links", () => {
  it.each(documents)("in %s all resolve", (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it("link the README to every page of docs/", () => {
    const linked = new Set(linksOf("README.md").map((link) => path.normalize(link.split("#")[0] ?? "")));
    expect(documents.filter((f) => f !== "README.md" && !linked.has(f))).toEqual([]);
  });
});

describe("the README", () => {
  it("stays a front page: at most about 250 lines, the rest in docs/", () => {
    expect(fs.readFileSync(path.join(root, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });
});
