/**
 * The go builder's dynamic provider as the engine gets it: serialised by the SDK as the language
 * host runs the program (not under vitest's module runner, test/harness.ts says why), then loaded
 * from that text alone by a plain Node in an empty directory, as the SDK's dynamic-provider process
 * loads it. Building and pushing for real, and the image equal to the Dockerfile's, are the e2e's.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
      new Set(["child_process", "crypto", "fs/promises", "os", "path", "util", "zlib"]),
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
