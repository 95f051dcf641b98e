import Ajv2020 from "ajv/dist/2020";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderSchema, schemaFile } from "../scripts/write-config-schema";
import { projectDir } from "./harness";

describe("config/flotilla.schema.json", () => {
  const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  const stackFile = (stack: string) => parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8"));

  it("is what the zod contract generates (run `npm run schema` after changing it)", () => {
    expect(fs.readFileSync(schemaFile, "utf8")).toBe(renderSchema());
  });

  it.each(["dev", "prod"])("accepts Pulumi.%s.yaml", (stack) => {
    expect(validate(stackFile(stack)), JSON.stringify(validate.errors)).toBe(true);
  });

  it("accepts a secret in its encrypted form", () => {
    const file = stackFile("dev");
    file.config["flotilla:registry"].password = { secure: "v1:abc" };
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ["a typo in a flotilla key", (c: any) => (c["flotilla:servics"] = {}), "additionalProperties"],
    ["a bad enum value", (c: any) => (c["flotilla:environment"] = "qa"), "enum"],
    ["a typo in a service field", (c: any) => (c["flotilla:services"].users.portt = 1), "additionalProperties"],
  ])("refuses %s", (_name, change, keyword) => {
    const file = stackFile("dev");
    change(file.config);
    expect(validate(file)).toBe(false);
    expect(validate.errors?.map((e) => e.keyword)).toContain(keyword);
  });
});
