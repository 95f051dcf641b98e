/**
 * Stages a service's own build context exactly as `pulumi up` of the dev stack does
 * (.flotilla/contexts/<service>: what its main package compiles from) and prints its content tag
 * and that directory, so scripts that build outside Pulumi name and build images as the stack
 * would: `tsx scripts/content-tag.ts <service> [module dir] [staging dir]` prints `<tag> <context
 * dir>` (defaults: services/ and .flotilla/contexts/).
 */
import * as path from "node:path";
import { goBuildFiles, stageContext } from "../components/image/goContext";
import { contentTag } from "../components/image/serviceImage";
import { hostPlatform } from "../stack";

const projectDir = path.resolve(__dirname, "..");
const [service = "", moduleDir = path.join(projectDir, "services"), stagingRoot = path.join(projectDir, ".flotilla", "contexts")] = process.argv.slice(2);
const context = path.resolve(moduleDir);
const staged = path.resolve(stagingRoot, service);
stageContext(context, "Dockerfile", goBuildFiles(context, `./cmd/${service}`), staged);
console.log(`${contentTag({ context: staged, dockerfile: "Dockerfile", args: { SERVICE: service }, platform: hostPlatform() })} ${staged}`);
