/**
 * The Go builder (`images.builder: go`): a service's image made without a container engine, as ko
 * makes one. `go build` on this machine, with the flags the Dockerfile's build stage uses, and the
 * binary laid over an empty base with the CA certificates, the Dockerfile's user, ports and
 * entrypoint; pushed through the registry's API. The inner loop's one-line change then costs an
 * incremental compile and one layer's upload, where the Dockerfile's path runs a container per
 * step and commits each layer (docs/images.md has the figures, and what proves the two images
 * hold the same files and settings).
 *
 * A dynamic resource, so that the build happens in `up` (never in a preview) and the engine
 * records the digest: its provider is serialised into the state with what it calls, so it,
 * goBinary.ts and ociImage.ts use Node's built-ins alone.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as SerializeClosure from "@pulumi/pulumi/runtime/closure/serializeClosure";
import { version as sdkVersion } from "@pulumi/pulumi/version";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import platform from "../apps/platform.json";
import { nonRootId } from "../apps/podSpec";
import type { RegistryCredentials } from "../registry/credentials";
import { ensureBinary, startBuild } from "./goBinary";
import { configOf, layerOf, pushImage, type ImageSettings } from "./ociImage";

/**
 * What services/Dockerfile's last stage sets, from where the rest of the stack reads it: the pods'
 * user, the platform's ports. The PATH is what BuildKit and buildah give an image from scratch.
 * The e2e's images suite holds the two builders' images to the same files and settings.
 */
export const goImageSettings: GoImageArgs["settings"] = {
  user: `${nonRootId}:${nonRootId}`,
  entrypoint: ["/service"],
  env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  exposedPorts: [platform.defaults.port, platform.defaults.opsPort],
};

export interface GoImageArgs {
  /** The Go module directory to build in: the service's staged context. */
  readonly context: string;
  /** The main package, such as `./cmd/users`. */
  readonly mainPackage: string;
  /** `os/arch`, such as `linux/amd64`. */
  readonly platform: pulumi.Input<string>;
  /** Repository to push to, without tag, such as `localhost:5001/flotilla/users`. */
  readonly repository: pulumi.Input<string>;
  /** Tag to push under: the content tag. */
  readonly tag: pulumi.Input<string>;
  /** What the image runs as and with, less the platform. */
  readonly settings: Omit<ImageSettings, "os" | "architecture">;
  /**
   * Credentials to push with.
   * @default none: a registry that asks for them refuses the push
   */
  readonly credentials?: pulumi.Input<RegistryCredentials>;
  /**
   * Where the provider's serialised text is kept between runs (providerText).
   * @default nowhere: serialised at every run
   */
  readonly providerCacheDir?: string;
}

/** The state the provider keeps: what `diff` compares, and the digest pushed. */
interface GoImageState {
  readonly context: string;
  readonly mainPackage: string;
  readonly platform: string;
  readonly repository: string;
  readonly tag: string;
  readonly settings: GoImageArgs["settings"];
  readonly repoDigest: string;
}

type GoImageInputs = Omit<GoImageState, "repoDigest"> & { readonly credentials?: { username: string; password: string } };

/** Builds the binary, assembles the image and pushes it; returns `repository@sha256:…`. */
async function buildAndPush(inputs: GoImageInputs): Promise<string> {
  const [os, architecture] = inputs.platform.split("/") as [string, string];
  const slash = inputs.repository.indexOf("/");
  if (slash <= 0) {
    throw new Error(`repository ${inputs.repository} names no registry: give it as host[:port]/path, such as localhost:5001/flotilla/users`);
  }
  const target = { registry: inputs.repository.slice(0, slash), repository: inputs.repository.slice(slash + 1), tag: inputs.tag };
  const binary = await ensureBinary(inputs);
  const certificates = { path: "/etc/ssl/certs/ca-certificates.crt", mode: 0o644, content: await readCertificates() };
  const layers = [layerOf([certificates]), layerOf([{ path: inputs.settings.entrypoint[0] as string, mode: 0o755, content: await readFile(binary) }])];
  const config = configOf(
    { ...inputs.settings, os, architecture },
    layers.map((l) => l.diffId),
  );
  const digest = await pushImage(
    target,
    config,
    layers.map((l) => l.blob),
    inputs.credentials,
  );
  return `${inputs.repository}@${digest}`;
}

/** This machine's CA bundle, wherever its system keeps it (Debian, Fedora, Alpine, macOS). */
async function readCertificates(): Promise<Buffer> {
  const places = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];
  for (const place of places) {
    try {
      return await readFile(place);
    } catch {
      // the next place
    }
  }
  throw new Error(`no CA certificate bundle on this machine (looked in ${places.join(", ")}); the image needs one for TLS`);
}

function stateOf(inputs: GoImageInputs, repoDigest: string): GoImageState {
  const { context, mainPackage, platform, repository, tag, settings } = inputs;
  return { context, mainPackage, platform, repository, tag, settings, repoDigest };
}

const provider: pulumi.dynamic.ResourceProvider<GoImageInputs, GoImageState> = {
  // The tag names the sources and the toolchain; a new one, a new repository or new settings is a new image.
  async diff(_id, olds, news) {
    const keys = ["repository", "tag", "platform", "settings"] as const;
    const changed = keys.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
    return { changes: changed.length > 0 };
  },
  async create(inputs) {
    const repoDigest = await buildAndPush(inputs);
    return { id: `${inputs.repository}:${inputs.tag}`, outs: stateOf(inputs, repoDigest) };
  },
  async update(_id, _olds, news) {
    return { outs: stateOf(news, await buildAndPush(news)) };
  },
  // Nothing to delete: like the Docker builder's images, pushed images stay in the registry.
};

/**
 * The SDK's function serialiser, as its dynamic resources require it: when first needed, and from
 * its own module, whose export is what a test's stand-in replaces (test/harness.ts).
 */
function serialiser(): typeof SerializeClosure {
  return createRequire(__filename)("@pulumi/pulumi/runtime/closure/serializeClosure") as typeof SerializeClosure;
}

/** The provider's text, once per run. */
let serialised: Promise<string> | undefined;

/**
 * The provider as the engine stores and runs it, serialised by the SDK's function serialiser,
 * which loads the TypeScript compiler to do it: 0.9-1.3 s of every run, on the inner loop's path.
 * The text changes only with this code, the two modules it calls, the serialiser and Node, so it
 * is kept in `cacheDir` under a key of those and read back on the next run.
 */
function providerText(cacheDir: string | undefined): Promise<string> {
  serialised ??= (async () => {
    const key = createHash("sha256")
      .update(await readFile(__filename))
      .update(await readFile(join(dirname(__filename), `ociImage${extname(__filename)}`)))
      .update(await readFile(join(dirname(__filename), `goBinary${extname(__filename)}`)))
      .update(`${sdkVersion} ${process.version}`)
      // The serialiser's own code too: a stand-in for it (the unit tests') never meets the real text.
      .update(String(serialiser().serializeFunction))
      .digest("hex")
      .slice(0, 24);
    const cached = cacheDir === undefined ? undefined : join(cacheDir, `go-image-provider-${key}.js`);
    if (cached !== undefined) {
      const text = await readFile(cached, "utf8").catch(() => undefined);
      if (text !== undefined) {
        return text;
      }
    }
    const { text } = await serialiser().serializeFunction(() => provider);
    if (cached !== undefined) {
      // Written whole, then renamed: a run that stops halfway leaves no half a provider. A cache
      // that cannot be written costs the next run the serialiser's time, nothing else.
      const partial = `${cached}.tmp-${process.pid}`;
      await mkdir(dirname(cached), { recursive: true })
        .then(() => writeFile(partial, text))
        .then(() => rename(partial, cached))
        .catch(() => rm(partial, { force: true }));
    }
    return text;
  })();
  return serialised;
}

/**
 * A Go service's image, built by this machine's Go toolchain and pushed without a container
 * engine. A dynamic resource, registered as `pulumi.dynamic.Resource` registers one, with the
 * provider's text from providerText.
 */
export class GoImage extends pulumi.CustomResource {
  /** `repository@sha256:<digest>`: what the Deployment runs. */
  declare readonly repoDigest: pulumi.Output<string>;

  constructor(name: string, args: GoImageArgs, opts?: pulumi.CustomResourceOptions) {
    const { providerCacheDir, ...inputs } = args;
    const credentials =
      inputs.credentials === undefined
        ? undefined
        : pulumi.secret(pulumi.output(inputs.credentials).apply((c) => ({ username: c.username, password: c.password })));
    // Every dynamic resource is of the SDK's package, whose provider runs the __provider text; a
    // module and type of its own name it in `up`.
    super("pulumi-nodejs:dynamic/image:GoImage", name, { ...inputs, credentials, repoDigest: undefined, __provider: providerText(providerCacheDir) }, opts);
    // In `up` (never in a preview, nor under a test's mocks, which have no engine), the build starts
    // here, while the engine starts the provider; the provider's `create` waits for it (goBinary.ts).
    // A failed build here is left to the provider, which builds again and reports the compiler.
    if (!pulumi.runtime.isDryRun() && pulumi.runtime.getEngine() !== undefined) {
      pulumi.all([inputs.tag, inputs.platform]).apply(([tag, platform]) => {
        startBuild({ context: inputs.context, mainPackage: inputs.mainPackage, tag, platform }).catch(() => undefined);
      });
    }
  }
}
