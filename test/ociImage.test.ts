/**
 * The go builder's image parts (components/image/ociImage.ts): its tar layers read by GNU tar, and
 * its push's authentication against a registry's challenges. That the whole image equals the
 * Dockerfile's, pushed to a real registry and run on the real node, is the e2e's (images suite).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { configOf, layerOf, pushImage, sha256Digest, tarOf } from "../components/image/ociImage";

const binary = Buffer.from("\x7fELF not really, but any bytes");
const files = [
  { path: "/etc/ssl/certs/ca-certificates.crt", mode: 0o644, content: Buffer.from("-----BEGIN CERTIFICATE-----\n") },
  { path: "/service", mode: 0o755, content: binary },
];

describe("a layer's tar", () => {
  it("is what GNU tar reads: the files, their parent directories, modes and root ownership", () => {
    const listing = execFileSync("tar", ["-tvf", "-", "--numeric-owner"], { input: tarOf(files), encoding: "utf8" });
    expect(
      listing
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(/\s+/).filter((_, i) => i !== 2 && i !== 3 && i !== 4)),
    ).toEqual([
      ["drwxr-xr-x", "0/0", "etc/"],
      ["drwxr-xr-x", "0/0", "etc/ssl/"],
      ["drwxr-xr-x", "0/0", "etc/ssl/certs/"],
      ["-rw-r--r--", "0/0", "etc/ssl/certs/ca-certificates.crt"],
      ["-rwxr-xr-x", "0/0", "service"],
    ]);
    const dir = mkdtempSync(join(tmpdir(), "flotilla-tar-"));
    execFileSync("tar", ["-xf", "-", "-C", dir], { input: tarOf(files) });
    expect(readFileSync(join(dir, "service"))).toEqual(binary);
  });

  it("is the same bytes for the same files, so an unchanged layer keeps its digest", () => {
    const first = layerOf(files);
    expect(layerOf(files)).toEqual(first);
    expect(first.diffId).toBe(sha256Digest(gunzipSync(first.blob.data)));
    expect(first.blob.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
  });

  it("refuses a name a ustar header cannot hold, rather than cutting it", () => {
    expect(() => tarOf([{ path: `/${"x".repeat(101)}`, mode: 0o644, content: Buffer.alloc(0) }])).toThrow(/longer than 100 bytes/);
  });
});

it("an image config names its layers by their uncompressed digests", () => {
  const layer = layerOf(files);
  const config = configOf({ os: "linux", architecture: "arm64", user: "65532:65532", entrypoint: ["/service"], env: [], exposedPorts: [8080] }, [layer.diffId]);
  expect(JSON.parse(config.data.toString())).toEqual({
    architecture: "arm64",
    os: "linux",
    config: { User: "65532:65532", ExposedPorts: { "8080/tcp": {} }, Env: [], Entrypoint: ["/service"] },
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
  });
});

/** A registry that asks for `challenge` and takes `accepted` as the answer; records what it stored. */
async function withRegistry(
  challenge: (port: number) => string,
  accepted: string,
  run: (registry: string, stored: Map<string, Buffer>) => Promise<void>,
  token?: (request: IncomingMessage) => string | undefined,
): Promise<void> {
  const stored = new Map<string, Buffer>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://registry");
      if (url.pathname === "/token") {
        const issued = token?.(request);
        response.writeHead(issued ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify({ token: issued }));
        return;
      }
      if (request.headers.authorization !== accepted) {
        response.writeHead(401, { "www-authenticate": challenge((server.address() as AddressInfo).port) }).end();
        return;
      }
      if (request.method === "HEAD") {
        response.writeHead(stored.has(url.pathname.split("/").pop() ?? "") ? 200 : 404).end();
      } else if (request.method === "POST") {
        response.writeHead(202, { location: "/v2/team/users/blobs/uploads/1" }).end();
      } else if (url.pathname.includes("/blobs/uploads/")) {
        stored.set(url.searchParams.get("digest") ?? "", Buffer.concat(chunks));
        response.writeHead(201).end();
      } else {
        stored.set(url.pathname, Buffer.concat(chunks));
        response.writeHead(201, { "docker-content-digest": sha256Digest(Buffer.concat(chunks)) }).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await run(`127.0.0.1:${(server.address() as AddressInfo).port}`, stored);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("pushing", () => {
  const layer = layerOf(files);
  const config = configOf({ os: "linux", architecture: "amd64", user: "65532:65532", entrypoint: ["/service"], env: [], exposedPorts: [] }, [layer.diffId]);
  const login = { username: "ci", password: "hunter2" };
  const basic = `Basic ${Buffer.from("ci:hunter2").toString("base64")}`;

  it("answers a Basic challenge with the credentials, and pushes the blobs, then the manifest under the tag", async () => {
    await withRegistry(
      () => 'Basic realm="registry"',
      basic,
      async (registry, stored) => {
        const digest = await pushImage({ registry, repository: "team/users", tag: "src-1" }, config, [layer.blob], login);
        expect(stored.get(layer.blob.digest)).toEqual(layer.blob.data);
        expect(stored.get(config.digest)).toEqual(config.data);
        expect(digest).toBe(sha256Digest(stored.get("/v2/team/users/manifests/src-1") as Buffer));
      },
    );
  });

  it("answers a Bearer challenge with a token from the registry's realm, asked with the credentials", async () => {
    await withRegistry(
      (port) => `Bearer realm="http://127.0.0.1:${port}/token",service="registry",scope="repository:team/users:pull,push"`,
      "Bearer t0ken",
      async (registry, stored) => {
        await pushImage({ registry, repository: "team/users", tag: "src-1" }, config, [layer.blob], login);
        expect(stored.has("/v2/team/users/manifests/src-1")).toBe(true);
      },
      (request) => (request.headers.authorization === basic && request.url?.includes("scope=repository%3Ateam%2Fusers%3Apull%2Cpush") ? "t0ken" : undefined),
    );
  });

  it("fails naming the registry's answer when the credentials are refused, or missing", async () => {
    await withRegistry(
      () => 'Basic realm="registry"',
      "Basic something-else",
      async (registry) => {
        const target = { registry, repository: "team/users", tag: "src-1" };
        await expect(pushImage(target, config, [layer.blob], login)).rejects.toThrow(/starting the upload of sha256:[0-9a-f]{64} to .*: HTTP 401/);
        await expect(pushImage(target, config, [layer.blob])).rejects.toThrow(/asks for credentials \(Basic realm="registry"\), and none were given/);
      },
    );
  });
});
