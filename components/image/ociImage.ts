/**
 * An OCI image assembled without a container engine, the way ko assembles one: files laid out as
 * tar layers, an image config and a manifest, pushed through the registry's HTTP API. The Go
 * builder (goImage.ts) puts a service's binary and the CA certificates into such an image.
 *
 * Only Node's built-in modules, imported by name: the Go builder's provider is serialised with
 * these functions into the state (a dynamic provider), and a built-in is what the serialiser
 * can name as a `require` in the provider's own process.
 */
import { createHash } from "node:crypto";
import { constants, gzipSync } from "node:zlib";

/** A file in a layer; its parent directories are added to the layer. */
export interface ImageFile {
  /** Absolute path in the image, such as `/service`. */
  readonly path: string;
  readonly mode: number;
  readonly content: Buffer;
}

/** What the image runs as and with: the image config's `config` object. */
export interface ImageSettings {
  readonly os: string;
  readonly architecture: string;
  /** `uid:gid`, numeric, so the kubelet can check runAsNonRoot without a passwd file. */
  readonly user: string;
  readonly entrypoint: readonly string[];
  readonly env: readonly string[];
  readonly exposedPorts: readonly number[];
}

/** A blob for the registry: its bytes, their digest and media type. */
export interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly data: Buffer;
}

const layerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
const configMediaType = "application/vnd.oci.image.config.v1+json";
const manifestMediaType = "application/vnd.oci.image.manifest.v1+json";

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/**
 * A POSIX tar of `files` and their parent directories, every entry owned by root with time 0, so
 * the same files give the same bytes, hence the same layer digest, on any machine.
 */
export function tarOf(files: readonly ImageFile[]): Buffer {
  const entries: Buffer[] = [];
  const directories = new Set<string>();
  for (const file of files) {
    const parts = file.path.replace(/^\/+/, "").split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const directory = `${parts.slice(0, depth).join("/")}/`;
      if (!directories.has(directory)) {
        directories.add(directory);
        entries.push(tarHeader(directory, 0o755, 0, "5"));
      }
    }
    entries.push(tarHeader(parts.join("/"), file.mode, file.content.length, "0"), file.content);
    const padding = (512 - (file.content.length % 512)) % 512;
    entries.push(Buffer.alloc(padding));
  }
  entries.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(entries);
}

/** A ustar header block; names up to 100 bytes, which is all an image of a few files needs. */
function tarHeader(name: string, mode: number, size: number, type: "0" | "5"): Buffer {
  if (Buffer.byteLength(name) > 100) {
    throw new Error(`tar entry name longer than 100 bytes: ${name}`);
  }
  const header = Buffer.alloc(512);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0") + "\0";
  header.write(name, 0, 100, "utf8");
  header.write(octal(mode, 8), 100, "ascii");
  header.write(octal(0, 8), 108, "ascii"); // uid
  header.write(octal(0, 8), 116, "ascii"); // gid
  header.write(octal(size, 12), 124, "ascii");
  header.write(octal(0, 12), 136, "ascii"); // mtime
  header.write("        ", 148, "ascii"); // the checksum counts its own field as spaces
  header.write(type, 156, "ascii");
  header.write("ustar\u000000", 257, "ascii");
  let checksum = 0;
  for (const byte of header) {
    checksum += byte;
  }
  header.write(`${checksum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return header;
}

/** A layer of `files`: the gzipped tar for the registry and the uncompressed tar's digest for the config. */
export function layerOf(files: readonly ImageFile[]): { blob: Blob; diffId: string } {
  const tar = tarOf(files);
  // The fastest level: a binary compresses to about 40% at any level, and level 6 took three times as long.
  const data = gzipSync(tar, { level: constants.Z_BEST_SPEED });
  return { blob: { mediaType: layerMediaType, digest: sha256Digest(data), data }, diffId: sha256Digest(tar) };
}

/** The image config blob for layers with these uncompressed digests. */
export function configOf(settings: ImageSettings, diffIds: readonly string[]): Blob {
  const config = {
    architecture: settings.architecture,
    os: settings.os,
    config: {
      User: settings.user,
      ExposedPorts: Object.fromEntries(settings.exposedPorts.map((port) => [`${port}/tcp`, {}])),
      Env: settings.env,
      Entrypoint: settings.entrypoint,
    },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const data = Buffer.from(JSON.stringify(config));
  return { mediaType: configMediaType, digest: sha256Digest(data), data };
}

/** The image manifest naming a config and its layers. */
export function manifestOf(config: Blob, layers: readonly Blob[]): Blob {
  const descriptor = (blob: Blob) => ({ mediaType: blob.mediaType, digest: blob.digest, size: blob.data.length });
  const data = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: manifestMediaType, config: descriptor(config), layers: layers.map(descriptor) }));
  return { mediaType: manifestMediaType, digest: sha256Digest(data), data };
}

/** Where an image goes: `host[:port]/path:tag`, split. */
export interface ImageTarget {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
}

export interface RegistryLogin {
  readonly username: string;
  readonly password: string;
}

/**
 * Pushes the blobs the registry lacks, then the manifest under the target's tag; returns the
 * manifest's digest as the registry reports it. A loopback registry is spoken to over plain HTTP,
 * as Docker does; any other over HTTPS.
 */
export async function pushImage(target: ImageTarget, config: Blob, layers: readonly Blob[], login?: RegistryLogin): Promise<string> {
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(target.registry);
  const base = `${loopback ? "http" : "https"}://${target.registry}/v2/${target.repository}`;
  const session = registrySession(login);
  for (const blob of [...layers, config]) {
    const present = await session.fetch(`${base}/blobs/${blob.digest}`, { method: "HEAD" });
    if (present.ok) {
      continue;
    }
    const started = await session.fetch(`${base}/blobs/uploads/`, { method: "POST" });
    await expectStatus(started, 202, `starting the upload of ${blob.digest} to ${target.registry}/${target.repository}`);
    const location = new URL(started.headers.get("location") ?? "", `${base}/`);
    location.searchParams.set("digest", blob.digest);
    const uploaded = await session.fetch(location.toString(), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: blob.data,
    });
    await expectStatus(uploaded, 201, `uploading ${blob.digest} to ${target.registry}/${target.repository}`);
  }
  const manifest = manifestOf(config, layers);
  const put = await session.fetch(`${base}/manifests/${target.tag}`, {
    method: "PUT",
    headers: { "content-type": manifest.mediaType },
    body: manifest.data,
  });
  await expectStatus(put, 201, `pushing the manifest of ${target.registry}/${target.repository}:${target.tag}`);
  const reported = put.headers.get("docker-content-digest");
  if (reported !== null && reported !== manifest.digest) {
    throw new Error(`${target.registry}/${target.repository}:${target.tag}: the registry stored manifest ${reported}, not the ${manifest.digest} pushed`);
  }
  return manifest.digest;
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status !== status) {
    const body = (await response.text()).slice(0, 500);
    throw new Error(`${what}: HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ""}`);
  }
}

/**
 * fetch with the registry's authentication: anonymous until the registry answers 401, then what its
 * challenge asks for, Basic (ECR, a plain registry) or a Bearer token from its realm (most hosted
 * registries), kept for the requests that follow.
 */
function registrySession(login: RegistryLogin | undefined) {
  let authorization: string | undefined;
  let answered: string | undefined;
  const basic = login && `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`;
  const send = (url: string, init: RequestInit) =>
    fetch(url, { ...init, redirect: "follow", headers: { ...(init.headers as Record<string, string>), ...(authorization ? { authorization } : {}) } });
  return {
    async fetch(url: string, init: RequestInit): Promise<Response> {
      const response = await send(url, init);
      const challenge = response.headers.get("www-authenticate");
      // A challenge already answered was refused: the credentials are wrong. A new one (a token
      // for pulls asked again for a push) is answered.
      if (response.status !== 401 || challenge === null || challenge === answered) {
        return response;
      }
      answered = challenge;
      authorization = undefined;
      if (/^basic/i.test(challenge)) {
        authorization = basic;
      } else if (/^bearer/i.test(challenge)) {
        const parameters = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
        const tokenUrl = new URL(parameters.realm ?? "");
        for (const key of ["service", "scope"]) {
          if (parameters[key]) {
            tokenUrl.searchParams.set(key, parameters[key]);
          }
        }
        const token = await fetch(tokenUrl, { headers: basic ? { authorization: basic } : {} });
        await expectStatus(token, 200, `getting a token from ${tokenUrl.origin}`);
        const body = (await token.json()) as { token?: string; access_token?: string };
        authorization = `Bearer ${body.token ?? body.access_token}`;
      }
      if (authorization === undefined) {
        throw new Error(`${url}: the registry asks for credentials (${challenge}), and none were given`);
      }
      return send(url, init);
    },
  };
}
