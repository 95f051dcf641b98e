/**
 * Flotilla's image builds: `import { ServiceImage } from "@flotilla/stack/image"`. They need
 * @pulumi/docker beside @pulumi/pulumi. Importing registers nothing.
 */
export { buildContextHash } from "./image/contextHash";
export { contentTag } from "./image/contextHash";
export { type ImageBuilder, imageBuilders } from "./image/builders";
export { GoImage, type GoImageArgs, goImageSettings } from "./image/goImage";
export { type ImageBuild, parseImageReference, ServiceImage, type ServiceImageArgs } from "./image/serviceImage";
export type { RegistryCredentials } from "./registry/credentials";
