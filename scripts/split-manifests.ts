/**
 * Splits rendered manifests into the project's own objects (labelled part of flotilla) and the
 * third-party charts' objects, so the linters hold the first to zero unexplained findings and
 * report the second in a section of its own: `tsx scripts/split-manifests.ts DIR OUT`, which
 * writes OUT/own.yaml and OUT/third-party.yaml and prints the two counts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments, stringify } from "yaml";

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? yamlFiles(file) : file.endsWith(".yaml") ? [file] : [];
  });
}

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  throw new Error("usage: tsx scripts/split-manifests.ts DIR OUT");
}
const objects = yamlFiles(dir)
  .sort()
  .flatMap((file) => parseAllDocuments(fs.readFileSync(file, "utf8")).map((doc) => doc.toJS() as { metadata?: { labels?: Record<string, string> } } | null))
  .filter((object) => object !== null);
// Every string value quoted: the linters read YAML 1.1, where a bare `=` (in CRD enums) is a tag.
const write = (list: unknown[]) => list.map((o) => stringify(o, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" })).join("---\n");
const own = objects.filter((o) => o?.metadata?.labels?.["app.kubernetes.io/part-of"] === "flotilla");
const thirdParty = objects.filter((o) => !own.includes(o));
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "own.yaml"), write(own));
fs.writeFileSync(path.join(out, "third-party.yaml"), write(thirdParty));
console.log(`${own.length} ${thirdParty.length}`);
