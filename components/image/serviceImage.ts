import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { RegistryCredentials } from "../registry/credentials";
import { contentTag } from "./contextHash";
import { goBuildFiles, goVersion, stageContext } from "./goContext";
import { defaultDockerfile, type ImageBuilder } from "./builders";
import { GoImage, goImageSettings } from "./goImage";

export interface ImageBuild {
  /** Build context directory, relative to the working directory or absolute. */
  readonly context: string;
  /**
   * Dockerfile, relative to the context.
   * @default "Dockerfile"
   */
  readonly dockerfile?: string;
  /**
   * Stage to build.
   * @default the last stage
   */
  readonly target?: string;
  /**
   * Build arguments; base images among them, so an air-gapped registry can stand in.
   * @default {}
   */
  readonly args?: Record<string, string>;
  /**
   * Platform to build for; an output where it comes from elsewhere, such as a cluster stack's nodes.
   * @default "linux/amd64"
   */
  readonly platform?: pulumi.Input<string>;
  /**
   * Builder (builders.ts): BuildKit, the classic builder, or `go`, which needs `goMainPackage`.
   * @default "buildkit"
   */
  readonly builder?: ImageBuilder;
  /**
   * For a Go module context: the main package the image builds, such as `./cmd/users`. The build
   * then gets a context of its own, holding only what that package compiles from (see
   * goContext.ts), so the tag, and any rebuild, follow that service's sources alone.
   * @default the whole context
   */
  readonly goMainPackage?: string;
  /**
   * Where that context is staged; a stable path, since the Docker provider records it.
   * @default `.flotilla/contexts/<context's name>/<image name>` beside the context
   */
  readonly stagingDir?: string;
}

export interface ServiceImageArgs {
  /** For `build`: the repository to push to, without tag or digest, such as `localhost:5001/flotilla/users`. */
  readonly repository?: pulumi.Input<string>;
  /** Build the image from source. Exactly one of `build` and `prebuilt` is set. */
  readonly build?: ImageBuild;
  /** Deploy an image built elsewhere: a reference with a digest, or with a tag that is resolved to one. */
  readonly prebuilt?: string;
  /**
   * Credentials to push with.
   * @default the Docker client's own
   */
  readonly credentials?: pulumi.Input<RegistryCredentials>;
  /**
   * Refuse a prebuilt reference without a digest instead of resolving its tag, as prod does.
   * @default false
   */
  readonly requireDigest?: boolean;
}

/**
 * A service's container image, named by content and deployed by digest: built from its
 * multi-stage Dockerfile by a Docker builder, or by the go builder (goImage.ts), and pushed; or
 * taken prebuilt. An unchanged source gives the same tag, so nothing is rebuilt, pushed or rolled
 * out.
 */
export class ServiceImage extends pulumi.ComponentResource {
  /** `repository@sha256:<digest>`: what Deployments run. */
  readonly imageRef: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:image:ServiceImage", name, {}, opts);
    if ((args.build === undefined) === (args.prebuilt === undefined)) {
      throw new pulumi.ResourceError(`${name}: set exactly one of build and prebuilt`, this);
    }
    if (args.prebuilt !== undefined) {
      this.imageRef = resolvePrebuilt(name, args.prebuilt, args.requireDigest ?? false, this);
    } else {
      if (args.repository === undefined) {
        throw new pulumi.ResourceError(`${name}: building an image needs a repository to push it to`, this);
      }
      this.imageRef = buildImage(name, args.build as ImageBuild, args.repository, args.credentials, this);
    }
    this.registerOutputs({ imageRef: this.imageRef });
  }
}

/** Builds and pushes the image by the chosen builder; returns `repository@sha256:<digest>`. */
function buildImage(
  name: string,
  build: ImageBuild,
  repository: pulumi.Input<string>,
  credentials: pulumi.Input<RegistryCredentials> | undefined,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const platform = pulumi.output(build.platform ?? "linux/amd64");
  const dockerfile = build.dockerfile ?? defaultDockerfile;
  const context = build.goMainPackage === undefined ? build.context : stageGoContext(name, build, dockerfile);
  if (build.builder === "go") {
    if (build.goMainPackage === undefined) {
      throw new pulumi.ResourceError(`${name}: the go builder builds a Go main package; set goMainPackage`, parent);
    }
    // The Go toolchain's version is in the tag, as the builder image is in a Dockerfile build's, and
    // so is the builder: the two builders' images never share a tag (ECR's tags are immutable).
    const settings = { builder: "go", go: goVersion(path.resolve(build.context)) }; // the module's, asked once for all its services
    const tag = platform.apply((p) => contentTag({ context, dockerfile, target: build.target, args: { ...build.args, ...settings }, platform: p }));
    const mainPackage = build.goMainPackage;
    // Beside the staged contexts: the project's own, as trusted as the sources built there.
    const providerCacheDir = path.dirname(context);
    return new GoImage(name, { context, mainPackage, platform, repository, tag, settings: goImageSettings, credentials, providerCacheDir }, { parent })
      .repoDigest;
  }
  const tag = platform.apply((p) => contentTag({ context, dockerfile, target: build.target, args: build.args ?? {}, platform: p }));
  const image = new docker.Image(
    name,
    {
      imageName: pulumi.interpolate`${repository}:${tag}`,
      build: {
        context,
        dockerfile: path.join(context, dockerfile),
        target: build.target,
        args: build.args,
        platform,
        builderVersion: build.builder === "classic" ? "BuilderV1" : "BuilderBuildKit",
      },
      registry: credentials,
      skipPush: false,
    },
    { parent },
  );
  return image.repoDigest;
}

/** Stages a Go service's own context (goContext.ts) and returns its directory. */
function stageGoContext(name: string, build: ImageBuild, dockerfile: string): string {
  const context = path.resolve(build.context);
  const stagingDir = build.stagingDir ?? path.join(path.dirname(context), ".flotilla", "contexts", path.basename(context), name);
  stageContext(context, dockerfile, goBuildFiles(context, build.goMainPackage as string), stagingDir);
  return stagingDir;
}

/** Splits `repo[:tag][@sha256:…]` at its tag and digest; a port in the host is not a tag. */
export function parseImageReference(reference: string): { repository: string; tag?: string; digest?: string } {
  const [nameAndTag = "", digest] = reference.split("@", 2);
  const lastSlash = nameAndTag.lastIndexOf("/");
  const colon = nameAndTag.indexOf(":", lastSlash + 1);
  return {
    repository: colon === -1 ? nameAndTag : nameAndTag.slice(0, colon),
    ...(colon === -1 ? {} : { tag: nameAndTag.slice(colon + 1) }),
    ...(digest === undefined ? {} : { digest }),
  };
}

function resolvePrebuilt(name: string, reference: string, requireDigest: boolean, parent: pulumi.Resource): pulumi.Output<string> {
  const parsed = parseImageReference(reference);
  if (parsed.digest !== undefined) {
    return pulumi.output(`${parsed.repository}@${parsed.digest}`);
  }
  if (requireDigest) {
    throw new pulumi.ResourceError(`${name}: prebuilt image ${reference} has no digest; this stack deploys by digest only (add @sha256:<digest>)`, parent);
  }
  // A tag can move; the digest it names now is what gets deployed, so later moves change nothing.
  // The lookup authenticates with the Docker provider's registry settings.
  const found = docker.getRegistryImageOutput({ name: reference }, { parent });
  return pulumi.interpolate`${parsed.repository}@${found.sha256Digest}`;
}
