/**
 * The go builder's binary (goImage.ts): `go build` with the flags of services/Dockerfile's build
 * stage, run once per service and tag by whichever process asks first, the program or the
 * provider, and kept for the next `up`. Part of the provider's serialised text, so it uses Node's
 * built-ins alone.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

/** What a build of the binary depends on. */
export interface BinaryInputs {
  /** The Go module directory to build in: the service's staged context. */
  readonly context: string;
  /** The main package, such as `./cmd/users`. */
  readonly mainPackage: string;
  /** `os/arch`, such as `linux/amd64`. */
  readonly platform: string;
  /** The image's content tag, which names the sources built. */
  readonly tag: string;
}

/** Where the binary of these inputs is kept: beside the staged context, one per tag and platform. */
export function binaryPath(inputs: BinaryInputs): string {
  return join(`${inputs.context}.builds`, `${inputs.tag}${platformSuffix(inputs.platform)}`);
}

/** How a binary's name ends for its platform, which removeOlderBuilds also matches on. */
const platformSuffix = (platform: string) => `-${platform.replaceAll("/", "-")}`;

/** The binary's path and its lock's, with their directory made. */
async function place(inputs: BinaryInputs): Promise<{ binary: string; lock: string }> {
  const binary = binaryPath(inputs);
  await mkdir(dirname(binary), { recursive: true });
  return { binary, lock: `${binary}.lock` };
}

/** How long a process waits for another's build of the same binary before giving up on it. */
const buildWaitMs = 10 * 60 * 1000;

/**
 * The service's binary for these inputs, built once by whichever process asks first: the provider's
 * `create` calls this, and waits for a build another process holds (the program's, startBuild).
 * A lock file holding the builder's pid marks a build under way; one whose process is gone is
 * taken over. The binary is kept after the push, so the program does not build an unchanged
 * service again at the next `up`; the same service's older binaries are removed.
 */
export async function ensureBinary(inputs: BinaryInputs): Promise<string> {
  const { binary, lock } = await place(inputs);
  const deadline = Date.now() + buildWaitMs;
  while (Date.now() < deadline) {
    if ((await exists(binary)) || (await buildUnderLock(inputs, binary, lock))) {
      return binary;
    }
    await releaseIfDead(lock);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`waited ${buildWaitMs / 60000} minutes for the build that holds ${lock}; remove that file if no build is running`);
}

/**
 * For the program, in `up`: builds the binary as soon as the tag is known, so the build runs while
 * the engine starts the provider and checks and diffs the image. It never waits: a binary kept, or
 * a lock another process holds, returns at once (a waiting program would hold `up` open).
 */
export async function startBuild(inputs: BinaryInputs): Promise<void> {
  const { binary, lock } = await place(inputs);
  if ((await exists(binary)) || (await buildUnderLock(inputs, binary, lock))) {
    return;
  }
  // The lock of an `up` killed mid-build is taken over, once; a running holder's is left alone.
  if (await releaseIfDead(lock)) {
    await buildUnderLock(inputs, binary, lock);
  }
}

/** Builds the binary if this process takes the lock; says whether it did (or found it built). */
async function buildUnderLock(inputs: BinaryInputs, binary: string, lock: string): Promise<boolean> {
  if (!(await takeLock(lock))) {
    return false;
  }
  try {
    // Another build may have finished between the caller's look and the lock.
    if (!(await exists(binary))) {
      await goBuild(inputs, binary);
      await removeOlderBuilds(binary, inputs.platform);
    }
    return true;
  } finally {
    await rm(lock, { force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Takes the lock, or says another process holds it. Linked whole, so a lock always names its holder. */
async function takeLock(lock: string): Promise<boolean> {
  // A name of this attempt's own: two callers in one process must not share, or remove, one file.
  const mine = `${lock}.${process.pid}-${randomUUID()}`;
  await writeFile(mine, String(process.pid));
  try {
    await link(mine, lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      return false;
    }
    throw error;
  } finally {
    await rm(mine, { force: true });
  }
}

/** Removes the lock if the process named in it is gone; says whether it did. */
async function releaseIfDead(lock: string): Promise<boolean> {
  if (await holderAlive(lock)) {
    return false;
  }
  await rm(lock, { force: true });
  return true;
}

/** Whether the process named in the lock still runs; a lock already gone counts as alive, to look again. */
async function holderAlive(lock: string): Promise<boolean> {
  const pid = Number(await readFile(lock, "utf8").catch(() => ""));
  if (!Number.isInteger(pid) || pid <= 0) {
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** The Dockerfile's build, flag for flag, written whole and then renamed into place. */
async function goBuild(inputs: BinaryInputs, binary: string): Promise<void> {
  const [os, architecture] = inputs.platform.split("/") as [string, string];
  const partial = `${binary}.tmp-${process.pid}`;
  try {
    // VCS stamping off, as the Dockerfile's context (no .git) has it, so both builders make the
    // same binary from the same sources.
    await promisify(execFile)("go", ["build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", partial, inputs.mainPackage], {
      cwd: inputs.context,
      env: { ...process.env, CGO_ENABLED: "0", GOOS: os, GOARCH: architecture },
      maxBuffer: 16 * 2 ** 20,
    });
    await rename(partial, binary);
  } catch (error) {
    await rm(partial, { force: true });
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new Error(`go build ${inputs.mainPackage} in ${inputs.context} failed: ${stderr}`, { cause: error });
  }
}

/** Removes the binaries of this service's earlier tags for the same platform; locks and partial files stay. */
async function removeOlderBuilds(binary: string, platform: string): Promise<void> {
  const suffix = platformSuffix(platform);
  const dir = dirname(binary);
  for (const entry of await readdir(dir)) {
    if (entry.endsWith(suffix) && join(dir, entry) !== binary) {
      await rm(join(dir, entry), { force: true });
    }
  }
}
