/**
 * The two image builders make the same image (scripts/e2e, part "figures"): users built from
 * services/Dockerfile (scripts/images-local, podman's builder) and the same sources built by the go
 * builder inside `pulumi up` (components/image/goImage.ts), which the users Deployment now runs on
 * the real node; both read back from the e2e's registry. The same files, byte for byte, with the
 * same modes, and the same settings the kubelet acts on.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseImageReference } from "../../components/image/serviceImage";
import { requiredEnv } from "./env";
import { get, rolloutShortfall } from "./kube";

interface Entry {
  readonly type: "file" | "directory";
  readonly mode: number;
  readonly sha256?: string;
}

interface Image {
  readonly config: { os: string; architecture: string; config: Record<string, unknown> };
  readonly layerMediaTypes: string[];
  readonly files: Map<string, Entry>;
}

const manifestTypes = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(",");

async function readImage(reference: string): Promise<Image> {
  const { repository, digest } = parseImageReference(reference);
  const slash = repository.indexOf("/");
  const base = `http://${repository.slice(0, slash)}/v2/${repository.slice(slash + 1)}`;
  const get = async (url: string, accept?: string) => {
    const response = await fetch(url, accept ? { headers: { accept } } : {});
    expect(response.status, url).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };
  const manifest = JSON.parse((await get(`${base}/manifests/${digest}`, manifestTypes)).toString()) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  const config = JSON.parse((await get(`${base}/blobs/${manifest.config.digest}`)).toString()) as Image["config"];
  const files = new Map<string, Entry>();
  for (const layer of manifest.layers) {
    for (const [path, entry] of tarEntries(gunzipSync(await get(`${base}/blobs/${layer.digest}`)))) {
      files.set(path, entry);
    }
  }
  return { config, layerMediaTypes: manifest.layers.map((l) => l.mediaType), files };
}

/** A tar's entries by path (without a leading `./` or `/`, directories without their trailing `/`). */
function tarEntries(tar: Buffer): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  let longName: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) {
      break;
    }
    const text = (start: number, length: number) => header.toString("utf8", start, start + length).replace(/\0.*$/s, "");
    const size = parseInt(text(124, 12).trim() || "0", 8);
    const type = text(156, 1) || "0";
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      longName = /\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1] ?? longName; // a PAX header names the next entry
      continue;
    }
    if (type === "L") {
      longName = body.toString("utf8").replace(/\0.*$/s, ""); // a GNU long name, likewise
      continue;
    }
    const prefix = text(345, 155);
    const name = (longName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100))).replace(/^\.?\/+/, "").replace(/\/+$/, "");
    longName = undefined;
    if (name === "" || name === ".") {
      continue;
    }
    const mode = parseInt(text(100, 8).trim(), 8) & 0o7777;
    if (type === "5") {
      entries.set(name, { type: "directory", mode });
    } else if (type === "0") {
      entries.set(name, { type: "file", mode, sha256: createHash("sha256").update(body).digest("hex") });
    } else {
      throw new Error(`tar entry ${name} of type ${type}: neither builder makes one`);
    }
  }
  return entries;
}

describe("the go builder's image and the Dockerfile's", async () => {
  const dockerfileImage = requiredEnv("FLOTILLA_E2E_DOCKERFILE_IMAGE");
  const users = get("deployment", "users", "-n", "flotilla");
  const goImage = users.spec.template.spec.containers[0].image as string;
  const dockerfile = await readImage(dockerfileImage);
  const go = await readImage(goImage);

  it("is what users runs now, rolled out on the real node, and is another image than the Dockerfile's", () => {
    expect(goImage).toMatch(/\/users@sha256:[0-9a-f]{64}$/);
    expect(parseImageReference(goImage).digest).not.toBe(parseImageReference(dockerfileImage).digest);
    expect(rolloutShortfall("flotilla", "users")).toBeUndefined();
  });

  it("hold the same files, byte for byte, with the same modes", () => {
    expect(Object.fromEntries(go.files)).toEqual(Object.fromEntries(dockerfile.files));
    expect([...go.files.keys()].sort()).toEqual(["etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt", "service"]);
  });

  it("run as the same user with the same entrypoint, environment and ports, for the same platform", () => {
    const settings = ({ config, os, architecture }: Image["config"]) => ({
      os,
      architecture,
      user: config.User,
      entrypoint: config.Entrypoint,
      command: config.Cmd ?? [], // an empty Cmd and none both mean no arguments
      workingDir: config.WorkingDir ?? "",
      env: config.Env,
      ports: config.ExposedPorts,
    });
    expect(settings(go.config)).toEqual(settings(dockerfile.config));
    expect(go.config.config.User).toMatch(/^[1-9][0-9]*:[1-9][0-9]*$/);
  });
});
