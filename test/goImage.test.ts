/**
 * The go builder's dynamic provider as the engine gets it: serialised by the SDK as the language
 * host runs the program (not under vitest's module runner, test/harness.ts says why), then loaded
 * from that text alone by a plain Node in an empty directory, as the SDK's dynamic-provider process
 * loads it. Building and pushing for real, and the image equal to the Dockerfile's, are the e2e's.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { binaryPath, ensureBinary, startBuild } from "../components/image/goBinary";
import { compilerLoaded, runAsProgram } from "./programNode";

describe("the go builder's provider", () => {
  /** The provider's text as the program registers it, and whether the TypeScript compiler was loaded by then. */
  const registered = (providerCacheDir?: string) =>
    JSON.parse(
      runAsProgram(`const pulumi = require("@pulumi/pulumi");
        pulumi.runtime.setMocks({
          newResource: (a) => {
            if (a.inputs.__provider) console.log(JSON.stringify({ text: a.inputs.__provider, compiler: ${compilerLoaded} }));
            return { id: a.name, state: a.inputs };
          },
          call: (a) => a.inputs,
        }, "project", "stack", false).then(() => {
          const { GoImage, goImageSettings } = require("./components/image/goImage.ts");
          new GoImage("users", { context: "/src", mainPackage: "./cmd/users", platform: "linux/amd64", repository: "r/users", tag: "src-1",
            settings: goImageSettings, providerCacheDir: ${JSON.stringify(providerCacheDir)} });
        });`),
    ) as { text: string; compiler: boolean };
  const { text } = registered();

  /** What `script` prints with `provider` loaded from the text alone, by a plain Node in an empty directory, from a file as the SDK's dynamic-provider process loads it (not -e, where Node's built-ins are globals the text might lean on). */
  const inPlainNode = (script: string): string => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-provider-"));
    writeFileSync(
      join(dir, "loader.cjs"),
      `const m = new (require("node:module"))("provider"); m._compile(require("node:fs").readFileSync(0, "utf8"), "provider.js");
      const provider = m.exports.handler();
      ${script}`,
    );
    return execFileSync(process.execPath, ["loader.cjs"], { cwd: dir, input: text, encoding: "utf8" });
  };

  it("is read back from its cache on the next run, without the serialiser's TypeScript compiler", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "flotilla-provider-cache-"));
    expect(registered(cacheDir)).toEqual({ text, compiler: true });
    expect(readdirSync(cacheDir)).toEqual([expect.stringMatching(/^go-image-provider-[0-9a-f]{24}\.js$/)]);
    expect(registered(cacheDir)).toEqual({ text, compiler: false });
  });

  it("names only Node's built-in modules, so it loads without the project's packages", () => {
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] as string);
    // What the build and push use, each by a require rather than a global only some Node processes have.
    // path/posix is path, on the systems the stack builds on.
    expect(new Set(required.map((name) => name.replace(/^node:/, "").replace(/^path\/posix$/, "path")))).toEqual(
      new Set(["child_process", "crypto", "fs/promises", "path", "util", "zlib"]),
    );
    for (const name of required) {
      expect(builtinModules).toContain(name.replace(/^node:/, ""));
    }
  });

  it("loads from its text in a plain Node and diffs: a new tag is a change, the same inputs none", () => {
    const out = inPlainNode(`const olds = { repository: "r/users", tag: "src-1", platform: "linux/amd64", settings: {} };
      Promise.all([provider.diff("id", olds, { ...olds, tag: "src-2" }), provider.diff("id", olds, { ...olds })]).then(([changed, same]) =>
        console.log(JSON.stringify({ methods: Object.keys(provider).sort(), changed: changed.changes, same: same.changes })));`);
    expect(JSON.parse(out)).toEqual({ methods: ["create", "diff", "update"], changed: true, same: false });
  });

  /** What the provider's `create` says, in a plain Node. */
  const createSays = (inputs: Record<string, unknown>): string =>
    inPlainNode(`const inputs = { platform: "linux/amd64", tag: "src-1", settings: { user: "65532:65532", entrypoint: ["/service"], env: [], exposedPorts: [] }, ...${JSON.stringify(inputs)} };
      provider.create(inputs).then(() => console.log("created"), (error) => console.log(error.message));`);

  it("fails a build that does not compile with the compiler's own message, before it reaches any registry", () => {
    const module = mkdtempSync(join(tmpdir(), "flotilla-broken-"));
    mkdirSync(join(module, "cmd", "broken"), { recursive: true });
    writeFileSync(join(module, "go.mod"), "module example.com/broken\n\ngo 1.26\n");
    writeFileSync(join(module, "cmd", "broken", "main.go"), "package main\n\nfunc main() { undefinedCall() }\n");
    // A registry nothing listens on: the build must fail first.
    const out = createSays({ context: module, mainPackage: "./cmd/broken", repository: "127.0.0.1:9/x/broken" });
    expect(out).toMatch(/^go build \.\/cmd\/broken in .*flotilla-broken-.* failed: .*cmd[/\\]broken[/\\]main\.go:3:15: undefined: undefinedCall/s);
  });

  it("refuses a repository that names no registry before building anything", () => {
    const out = createSays({ context: "/nonexistent", mainPackage: "./cmd/users", repository: "flotilla-users" });
    expect(out.trim()).toBe("repository flotilla-users names no registry: give it as host[:port]/path, such as localhost:5001/flotilla/users");
  });
});

describe("the go builder's binary, shared by the program and the provider", () => {
  let dir: string;
  let path: string | undefined;
  const inputs = () => ({ context: join(dir, "users"), mainPackage: "./cmd/users", platform: "linux/amd64", tag: "src-2" });
  /** The `go` commands run, one line each, by a stand-in that takes 0.3 s and writes its arguments as the binary. */
  const builds = () => (existsSync(join(dir, "go.log")) ? readFileSync(join(dir, "go.log"), "utf8").trim().split("\n") : []);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-go-binary-"));
    mkdirSync(join(dir, "users"));
    mkdirSync(join(dir, "bin"));
    writeFileSync(
      join(dir, "bin", "go"),
      `#!/bin/sh\nif [ "$FAIL" = 1 ]; then echo "main.go:3:15: undefined: undefinedCall" >&2; exit 1; fi\necho "$*" >> ${join(dir, "go.log")}\nsleep 0.3\necho "$*" > "$6"\n`,
    );
    chmodSync(join(dir, "bin", "go"), 0o755);
    path = process.env.PATH;
    process.env.PATH = `${join(dir, "bin")}:${path}`;
  });
  afterEach(() => {
    process.env.PATH = path;
    delete process.env.FAIL;
  });

  it("is built once for callers at once, and not again while it is kept", async () => {
    const [first, second] = await Promise.all([ensureBinary(inputs()), ensureBinary(inputs())]);
    expect(first).toBe(binaryPath(inputs()));
    expect(second).toBe(first);
    expect(await ensureBinary(inputs())).toBe(first);
    expect(builds()).toEqual([`build -trimpath -buildvcs=false -ldflags=-s -w -o ${first}.tmp-${process.pid} ./cmd/users`]);
    expect(readdirSync(join(dir, "users.builds"))).toEqual(["src-2-linux-amd64"]);
  });

  it("waits for the build another running process holds, and takes over one whose process is gone", async () => {
    const binary = binaryPath(inputs());
    mkdirSync(join(dir, "users.builds"));
    const holder = spawn("sleep", ["30"]);
    try {
      writeFileSync(`${binary}.lock`, String(holder.pid));
      const waiting = ensureBinary(inputs());
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(binary, "the holder's binary");
      rmSync(`${binary}.lock`); // as the holder does once its binary is in place
      expect(await waiting).toBe(binary);
      expect(readFileSync(binary, "utf8")).toBe("the holder's binary");
      expect(builds()).toEqual([]);
    } finally {
      holder.kill();
    }
    const next = { ...inputs(), tag: "src-3" };
    writeFileSync(`${binaryPath(next)}.lock`, String(spawnSync("true").pid)); // a process that is gone
    expect(await ensureBinary(next)).toBe(binaryPath(next));
    expect(builds()).toHaveLength(1);
    expect(readdirSync(join(dir, "users.builds"))).toEqual(["src-3-linux-amd64"]);
  });

  it("is started by the program without waiting: a running holder's lock returns at once, a dead one's is taken over, and the provider finds what the program built", async () => {
    const binary = binaryPath(inputs());
    mkdirSync(join(dir, "users.builds"));
    // A running process holds the lock and never lets go: had startBuild waited, it would not return.
    writeFileSync(`${binary}.lock`, String(process.ppid));
    await startBuild(inputs());
    expect(builds()).toEqual([]);
    expect(existsSync(binary)).toBe(false);
    writeFileSync(`${binary}.lock`, String(spawnSync("true").pid)); // an `up` killed mid-build
    await startBuild(inputs());
    expect(builds()).toHaveLength(1);
    expect(await ensureBinary(inputs())).toBe(binary);
    expect(builds()).toHaveLength(1);
    expect(readdirSync(join(dir, "users.builds"))).toEqual(["src-2-linux-amd64"]);
  });

  it("keeps one binary per service and platform: a new tag's build removes the older ones for its platform", async () => {
    mkdirSync(join(dir, "users.builds"));
    for (const old of ["src-1-linux-amd64", "src-1-linux-arm64"]) {
      writeFileSync(join(dir, "users.builds", old), "old");
    }
    await ensureBinary(inputs());
    expect(readdirSync(join(dir, "users.builds")).sort()).toEqual(["src-1-linux-arm64", "src-2-linux-amd64"]);
  });

  it("fails with the compiler's message and leaves neither binary nor lock", async () => {
    process.env.FAIL = "1";
    await expect(ensureBinary(inputs())).rejects.toThrow(/^go build \.\/cmd\/users in .*users failed: main\.go:3:15: undefined: undefinedCall$/);
    expect(readdirSync(join(dir, "users.builds"))).toEqual([]);
  });
});
