/** Writes config/flotilla.schema.json from the zod contract: `npm run schema`. */
import * as fs from "node:fs";
import * as path from "node:path";
import { stackFileJsonSchema } from "../config/jsonSchema";

export const schemaFile = path.resolve(__dirname, "..", "config", "flotilla.schema.json");

export function renderSchema(): string {
  return `${JSON.stringify(stackFileJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  fs.writeFileSync(schemaFile, renderSchema());
  console.log(`wrote ${path.relative(process.cwd(), schemaFile)}`);
}
