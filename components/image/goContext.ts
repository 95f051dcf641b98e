/**
 * A Go service's own build context: the files its main package compiles from (its packages and
 * the module's packages they import, transitively, as `go list` reports them) with go.mod, go.sum,
 * the Dockerfile and .dockerignore, staged into a directory of its own. The image's tag and the
 * Docker provider's own context digest then change only when that service's build input does:
 * a change to the gateway leaves the users image alone, a change to shared code rebuilds both.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

interface GoPackage {
  readonly ImportPath: string;
  readonly Dir: string;
  readonly GoFiles?: readonly string[];
  readonly CgoFiles?: readonly string[];
  readonly EmbedFiles?: readonly string[];
  readonly Imports?: readonly string[];
}

/** The module's packages, read once per module directory and program run. */
const modules = new Map<string, Map<string, GoPackage>>();

/** Forgets what `go list` said, for a caller that changes the sources within one run (tests). */
export function forgetGoModules(): void {
  modules.clear();
}

function modulePackages(moduleDir: string): Map<string, GoPackage> {
  const cached = modules.get(moduleDir);
  if (cached) {
    return cached;
  }
  const out = goOutput(
    ["list", "-json=ImportPath,Dir,GoFiles,CgoFiles,EmbedFiles,Imports", "./..."],
    moduleDir,
    "the Go toolchain lists what each service's image is built from",
  );
  // `go list -json` prints one object after another, each closing with a "}" line of its own.
  const packages = out
    .split(/^}$/m)
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => JSON.parse(`${chunk}}`) as GoPackage);
  const byPath = new Map(packages.map((p) => [p.ImportPath, p]));
  modules.set(moduleDir, byPath);
  return byPath;
}

/**
 * The files, relative to the module directory and sorted, that the main package `mainPackage`
 * (such as `./cmd/users`) is built from: its own and its in-module imports' Go and embedded files,
 * go.mod and go.sum. Tests are not among them.
 */
export function goBuildFiles(moduleDir: string, mainPackage: string): string[] {
  const packages = modulePackages(moduleDir);
  const mainDir = path.resolve(moduleDir, mainPackage);
  const main = [...packages.values()].find((p) => p.Dir === mainDir);
  if (main === undefined) {
    throw new Error(`${mainPackage} is not a package of the Go module in ${moduleDir}`);
  }
  const seen = new Set<string>();
  const queue = [main.ImportPath];
  while (queue.length > 0) {
    const importPath = queue.pop() as string;
    const pkg = packages.get(importPath);
    if (pkg === undefined || seen.has(importPath)) {
      continue; // the standard library and other modules: pinned by go.mod and go.sum
    }
    seen.add(importPath);
    queue.push(...(pkg.Imports ?? []));
  }
  const files = [...seen].flatMap((importPath) => {
    const pkg = packages.get(importPath) as GoPackage;
    const dir = path.relative(moduleDir, pkg.Dir).split(path.sep).join("/");
    return [...(pkg.GoFiles ?? []), ...(pkg.CgoFiles ?? []), ...(pkg.EmbedFiles ?? [])].map((file) => (dir ? `${dir}/${file}` : file));
  });
  return ["go.mod", "go.sum", ...files].filter((file) => fs.existsSync(path.join(moduleDir, file))).sort();
}

/** What `go ARGS` prints in `moduleDir`; a failure names the command, the directory, `why` and Go's own message. */
function goOutput(args: readonly string[], moduleDir: string, why: string): string {
  try {
    return execFileSync("go", args, { cwd: moduleDir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 2 ** 20 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new Error(`go ${args[0]} in ${moduleDir} failed (${why}): ${stderr}`, { cause: error });
  }
}

const goVersions = new Map<string, string>();

/** The Go toolchain that builds in `moduleDir` (its go.mod may select another), such as `go1.26.8`; asked once per module. */
export function goVersion(moduleDir: string): string {
  let version = goVersions.get(moduleDir);
  if (version === undefined) {
    version = goOutput(["env", "GOVERSION"], moduleDir, "the go builder needs the Go toolchain").trim();
    goVersions.set(moduleDir, version);
  }
  return version;
}

/**
 * Copies `files` (relative to `context`), the Dockerfile and .dockerignore into `stagedDir`,
 * replacing what was there, unless it already holds exactly those bytes (so neither the files'
 * times nor anything else changes for an unchanged service). Returns the Dockerfile's path there.
 */
export function stageContext(context: string, dockerfile: string, files: readonly string[], stagedDir: string): string {
  const extras = [dockerfile, ".dockerignore"].filter((file) => fs.existsSync(path.join(context, file)));
  const all = [...new Set([...files, ...extras])].sort();
  const digest = createHash("sha256");
  const modes = new Map<string, number>();
  for (const file of all) {
    // The mode too: the content tag counts the executable bit, so a chmod must restage.
    const source = path.join(context, file);
    modes.set(file, fs.statSync(source).mode);
    digest.update(`\0${file}\0${modes.get(file)}\0`).update(fs.readFileSync(source));
  }
  const marker = `${stagedDir}.sha256`;
  const want = digest.digest("hex");
  const stagedDockerfile = path.join(stagedDir, dockerfile);
  if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === want && fs.existsSync(stagedDockerfile)) {
    return stagedDockerfile;
  }
  const fresh = `${stagedDir}.tmp-${process.pid}`;
  fs.rmSync(fresh, { recursive: true, force: true });
  for (const file of all) {
    fs.mkdirSync(path.dirname(path.join(fresh, file)), { recursive: true });
    fs.copyFileSync(path.join(context, file), path.join(fresh, file));
    fs.chmodSync(path.join(fresh, file), modes.get(file) as number);
  }
  fs.rmSync(stagedDir, { recursive: true, force: true });
  fs.renameSync(fresh, stagedDir);
  fs.writeFileSync(marker, want);
  return stagedDockerfile;
}
