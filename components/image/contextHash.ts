/**
 * A content hash of a Docker build context: the files Docker would send (after `.dockerignore`),
 * their paths, modes and bytes, plus everything else that changes the build's result. Equal
 * sources give equal hashes on any machine and checkout, so the image tag derived from it is
 * stable, and an unchanged service is neither rebuilt nor pushed nor rolled out.
 */
import dockerignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface BuildInputs {
  /** Directory sent to the builder. */
  readonly context: string;
  /** Dockerfile path, relative to the context. */
  readonly dockerfile: string;
  readonly target?: string;
  readonly args: Readonly<Record<string, string>>;
  readonly platform: string;
}

/** Hex SHA-256 over the context's files and the build settings. */
export function buildContextHash(inputs: BuildInputs): string {
  const dockerfilePath = path.resolve(inputs.context, inputs.dockerfile);
  if (!fs.existsSync(dockerfilePath) || !fs.statSync(dockerfilePath).isFile()) {
    throw new Error(`Dockerfile not found: ${dockerfilePath} (context ${inputs.context}, dockerfile ${inputs.dockerfile})`);
  }
  const ignorePath = path.join(inputs.context, ".dockerignore");
  const ignore = dockerignore({ ignorecase: false }).add(fs.existsSync(ignorePath) ? fs.readFileSync(ignorePath, "utf8").split(/\r?\n/) : []);
  const hash = createHash("sha256");
  const settings = { dockerfile: inputs.dockerfile, target: inputs.target ?? "", platform: inputs.platform, args: sortedEntries(inputs.args) };
  hash.update(JSON.stringify(settings));
  for (const file of listFiles(inputs.context).filter((f) => !ignore.ignores(f))) {
    const full = path.join(inputs.context, file);
    const executable = (fs.statSync(full).mode & 0o111) !== 0;
    hash.update(`\0${file}\0${executable ? "x" : "-"}\0`);
    hash.update(fs.readFileSync(full));
  }
  // The Dockerfile always reaches the builder, even when .dockerignore names it.
  hash.update(fs.readFileSync(dockerfilePath));
  return hash.digest("hex");
}

/** Files below `dir`, as sorted POSIX paths relative to it; symbolic links are not followed. */
function listFiles(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        return listFiles(dir, relative);
      }
      return entry.isFile() ? [relative] : [];
    });
}

function sortedEntries(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A tag that names the build's content: the same sources and settings give the same tag anywhere. */
export function contentTag(inputs: BuildInputs): string {
  return `src-${buildContextHash(inputs).slice(0, 24)}`;
}

/** The image platform of the machine the program runs on, which is all the classic builder makes. */
export function hostPlatform(): string {
  return `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
}
