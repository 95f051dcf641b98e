/**
 * Node as the language host starts the project's program: Pulumi.yaml's nodeargs, in the project's
 * directory, with the SDK's runner's source-map-support required first, as the runner requires it.
 * The project test and `npm run bench:program` run their probes this way. Light on purpose: it
 * loads neither the SDK nor the stack.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { parse } from "yaml";

export const projectDir = path.resolve(__dirname, "..");

/** The Node arguments a project's Pulumi.yaml gives its program (`dir` relative to the repository). */
export function projectNodeArgs(dir = "."): string[] {
  const project = parse(fs.readFileSync(path.join(projectDir, dir, "Pulumi.yaml"), "utf8")) as { runtime: { options: { nodeargs: string } } };
  return project.runtime.options.nodeargs.split(/\s+/);
}

/** The module the SDK's runner requires before the program, as the runner resolves it: source-map-support's register. */
export const runnerSourceMapSupport = (): string => createRequire(require.resolve("@pulumi/pulumi/cmd/run/index.js")).resolve("source-map-support/register");

/**
 * What `script` prints when Node runs it as the language host runs the program: from a file, as
 * the program is (under `-e` Node also puts its built-in modules on the global object, which changes
 * what Pulumi's function serialiser writes: `global.zlib` for a `require("zlib")`), with `require`
 * resolving from the project's directory.
 */
export function runAsProgram(script: string): string {
  const dir = fs.mkdtempSync(path.join(projectDir, ".flotilla", "probe-"));
  const file = path.join(dir, "probe.cjs");
  const preamble = [
    `require(${JSON.stringify(runnerSourceMapSupport())});`,
    `require = require("node:module").createRequire(${JSON.stringify(path.join(projectDir, "package.json"))});`,
  ];
  fs.writeFileSync(file, `${preamble.join("\n")}\n${script}\n`);
  try {
    return execFileSync(process.execPath, [...projectNodeArgs(), file], { cwd: projectDir, encoding: "utf8" }).trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A script expression: whether the TypeScript compiler is among the modules loaded so far. */
export const compilerLoaded = String.raw`Object.keys(require.cache).some((file) => /[\\/]node_modules[\\/]typescript[\\/]/.test(file))`;
