/**
 * How a service's image is built from source: through a Docker engine's builder, BuildKit or the
 * classic one (engines without BuildKit, podman's Docker API among them); or `go`, with no engine,
 * by this machine's Go toolchain (goImage.ts), the fast inner loop of a Go module.
 */
export const imageBuilders = ["buildkit", "classic", "go"] as const;
export type ImageBuilder = (typeof imageBuilders)[number];

/** The Dockerfile a build context holds when none is named. */
export const defaultDockerfile = "Dockerfile";
