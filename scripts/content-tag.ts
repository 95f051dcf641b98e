/**
 * Prints the content tag the stack gives a service's image (`src-<hash>`), so scripts that build
 * outside Pulumi name images exactly as `pulumi up` of the dev stack would (built for this machine): `tsx scripts/content-tag.ts <context> <dockerfile> <service>`.
 */
import { contentTag } from "../components/image/serviceImage";
import { hostPlatform } from "../stack";

const [context = "services", dockerfile = "Dockerfile", service = ""] = process.argv.slice(2);
console.log(contentTag({ context, dockerfile, args: { SERVICE: service }, platform: hostPlatform() }));
