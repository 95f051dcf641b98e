/**
 * Stages services' own build contexts exactly as `pulumi up` of the dev stack does
 * (<staging dir>/<service>: what its main package compiles from) and prints each one's content
 * tag and that directory, so scripts that build outside Pulumi name and build images as the stack
 * would: `tsx scripts/content-tag.ts <module dir> <staging dir> <service>...` prints one line
 * `<service> <tag> <context dir>` per service. One process for all: Node's start is most of the
 * cost of one.
 */
import * as path from "node:path";
import { goBuildFiles, stageContext } from "../components/image/goContext";
import { contentTag, hostPlatform } from "../components/image/contextHash";

const [moduleDir, stagingRoot, ...services] = process.argv.slice(2);
if (moduleDir === undefined || stagingRoot === undefined || services.length === 0) {
  console.error("usage: tsx scripts/content-tag.ts <module dir> <staging dir> <service>...");
  process.exit(2);
}
const context = path.resolve(moduleDir);
const platform = hostPlatform();
for (const service of services) {
  const staged = path.resolve(stagingRoot, service);
  stageContext(context, "Dockerfile", goBuildFiles(context, `./cmd/${service}`), staged);
  console.log(`${service} ${contentTag({ context: staged, dockerfile: "Dockerfile", args: { SERVICE: service }, platform })} ${staged}`);
}
