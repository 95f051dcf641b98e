/**
 * The projects' runtime settings, which only the e2e's `pulumi up` would otherwise exercise: Node
 * stops before the program starts when an `--env-file` or `--import` file it is given is missing,
 * with a message that names neither Pulumi.yaml nor the setting.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compilerLoaded, projectDir, projectNodeArgs, runAsProgram } from "./programNode";

const projects = [".", "examples/consumer"];

describe.each(projects)("the project in %s", (dir) => {
  const nodeArgs = projectNodeArgs(dir);
  const envFile = nodeArgs.find((arg) => arg.startsWith("--env-file="))?.slice("--env-file=".length);
  const imports = nodeArgs.flatMap((arg, i) => (nodeArgs[i - 1] === "--import" ? [arg] : []));

  it("loads an env file and preloads that exist beside Pulumi.yaml", () => {
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
  it("starts Node with the compile cache on, TypeScript loading through tsx, and Node's source maps on for the program's modules alone", () => {
    // As the language host starts it, before the SDK: what the preloads leave set, read from inside.
    // errors.ts has parameter properties, which Node's own type stripping refuses: tsx loads it.
    const probe = `const m = require("node:module"); require("./config/errors.ts");
      console.log(JSON.stringify({ cache: m.getCompileCacheDir?.() !== undefined, sourceMaps: m.getSourceMapsSupport() }))`;
    expect(JSON.parse(runAsProgram(probe))).toEqual({ cache: true, sourceMaps: { enabled: true, nodeModules: false, generatedCode: false } });
    expect(projectNodeArgs(".").slice(0, 2)).toEqual(["--import", "./program-start.mjs"]);
  });

  it("loads the SDK and the stack without the TypeScript compiler, which the SDK's function serialiser still gets when it first runs", () => {
    const probe = `const pulumi = require("@pulumi/pulumi"); require("./stack.ts");
      const compilerLoaded = () => ${compilerLoaded};
      const atStart = compilerLoaded(); const factor = 6;
      pulumi.runtime.serializeFunction(() => factor * 7).then((f) =>
        console.log(JSON.stringify({ atStart, afterSerialising: compilerLoaded(), capturesFactor: f.text.includes("factor: 6") })));`;
    expect(JSON.parse(runAsProgram(probe))).toEqual({ atStart: false, afterSerialising: true, capturesFactor: true });
  });

  it("shows a program's stack trace at the TypeScript source's line and column, with the SDK's runner's source-map-support required first, as the runner does", () => {
    const source = fs.readFileSync(path.join(projectDir, "components/quantities.ts"), "utf8").split("\n");
    const line = source.findIndex((l) => l.includes("new Error(`not a Kubernetes quantity"));
    const probe = `try { require("./components/quantities.ts").quantityValue("lots") } catch (e) { console.log(e.stack.split("\\n").find((l) => l.includes("quantities.ts"))) }`;
    expect(line).toBeGreaterThan(0);
    expect(runAsProgram(probe)).toContain(`components/quantities.ts:${line + 1}:${(source[line] as string).indexOf("new Error") + 1})`);
  });
});
