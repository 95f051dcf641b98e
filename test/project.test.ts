/**
 * The projects' runtime settings, which only the e2e's `pulumi up` would otherwise exercise: Node
 * stops before the program starts when an `--env-file` it is given is missing, with a message that
 * names neither Pulumi.yaml nor the setting.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectDir } from "./harness";

const projects = [".", "examples/consumer"];

describe.each(projects)("the project in %s", (dir) => {
  const project = parse(fs.readFileSync(path.join(projectDir, dir, "Pulumi.yaml"), "utf8")) as { runtime: { options: { nodeargs: string } } };
  const nodeArgs = project.runtime.options.nodeargs.split(/\s+/);
  const envFile = nodeArgs.find((arg) => arg.startsWith("--env-file="))?.slice("--env-file=".length);

  it("runs its TypeScript through tsx and loads an env file that exists beside Pulumi.yaml", () => {
    expect(nodeArgs.slice(0, 2)).toEqual(["--import", "tsx"]);
    expect(envFile).toBeDefined();
    expect(fs.existsSync(path.join(projectDir, dir, envFile as string))).toBe(true);
  });

  it("has the SDK take no resource references, so charts' objects are not read back one by one", () => {
    const lines = fs
      .readFileSync(path.join(projectDir, dir, envFile as string), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(lines).toEqual(["PULUMI_DISABLE_RESOURCE_REFERENCES=true"]);
  });
});
