/**
 * Writes the Kubernetes objects the dev and prod stacks register (run under Pulumi's mocks) as
 * YAML, one file per stack, for the linters: `tsx scripts/render-manifests.ts <out-dir>`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { runStack } from "../test/harness";
import { kubernetesObjects } from "../test/manifests";

async function main(outDir: string): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  for (const stack of ["dev", "prod"] as const) {
    const objects = kubernetesObjects(await runStack(stack));
    const file = path.join(outDir, `${stack}.yaml`);
    fs.writeFileSync(file, objects.map((o) => stringify(o)).join("---\n"));
    console.log(`${file}: ${objects.length} objects`);
  }
}

main(process.argv[2] ?? "build/manifests").catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
