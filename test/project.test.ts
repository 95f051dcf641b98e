/**
 * The projects' runtime settings, which only the e2e's `pulumi up` would otherwise exercise: Node
 * stops before the program starts when an `--env-file` or `--import` file it is given is missing,
 * with a message that names neither Pulumi.yaml nor the setting.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectDir } from "./harness";

const projects = [".", "examples/consumer"];

/** The Node arguments a project's Pulumi.yaml gives its program. */
function nodeArgsOf(dir: string): string[] {
  const project = parse(fs.readFileSync(path.join(projectDir, dir, "Pulumi.yaml"), "utf8")) as { runtime: { options: { nodeargs: string } } };
  return project.runtime.options.nodeargs.split(/\s+/);
}

describe.each(projects)("the project in %s", (dir) => {
  const nodeArgs = nodeArgsOf(dir);
  const envFile = nodeArgs.find((arg) => arg.startsWith("--env-file="))?.slice("--env-file=".length);
  const imports = nodeArgs.flatMap((arg, i) => (nodeArgs[i - 1] === "--import" ? [arg] : []));

  it("runs its TypeScript through tsx and loads an env file and preloads that exist beside Pulumi.yaml", () => {
    expect(imports).toContain("tsx");
    expect(envFile).toBeDefined();
    for (const file of [envFile as string, ...imports.filter((i) => i.startsWith("./"))]) {
      expect(fs.existsSync(path.join(projectDir, dir, file)), file).toBe(true);
    }
  });

  it("has the SDK take no resource references, so charts' objects are not read back one by one", () => {
    const lines = fs
      .readFileSync(path.join(projectDir, dir, envFile as string), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(lines).toEqual(["PULUMI_DISABLE_RESOURCE_REFERENCES=true"]);
  });
});

describe("the stack's own project", () => {
  it("turns on Node's compile cache before the SDK loads: its preload comes first", () => {
    expect(nodeArgsOf(".").slice(0, 2)).toEqual(["--import", "./program-start.mjs"]);
    expect(fs.readFileSync(path.join(projectDir, "program-start.mjs"), "utf8")).toMatch(/^nodeModule\.enableCompileCache\?\.\(\);$/m);
  });
});
