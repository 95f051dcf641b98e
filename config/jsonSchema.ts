/**
 * JSON Schema of a whole `Pulumi.<stack>.yaml`, generated from the zod contract, so editors can
 * validate and complete stack files. Keys of other namespaces (`aws:region`…) pass through.
 */
import { z } from "zod";
import { configNamespace } from "./load";
import { secretPaths, stackConfigObject } from "./schema";

export function stackFileJsonSchema(): Record<string, unknown> {
  const contract = z.toJSONSchema(stackConfigObject, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const properties = Object.fromEntries(Object.entries(contract.properties).map(([key, schema]) => [`${configNamespace}:${key}`, allowSecrets(key, schema)]));
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Flotilla stack file (Pulumi.<stack>.yaml)",
    type: "object",
    properties: {
      config: {
        type: "object",
        properties,
        required: (contract.required ?? []).map((key) => `${configNamespace}:${key}`),
        // Only the flotilla: namespace is Flotilla's to police; a typo in it is an error.
        patternProperties: { [`^(?!${configNamespace}:)[^:]+:.+$`]: {} },
        additionalProperties: false,
      },
      secretsprovider: { type: "string" },
      encryptedkey: { type: "string" },
      encryptionsalt: { type: "string" },
      environment: {},
    },
  };
}

/** Where a value is a secret, the stack file holds `{secure: <ciphertext>}` instead. */
function allowSecrets(key: string, schema: Record<string, unknown>): Record<string, unknown> {
  const fields = secretPaths.filter(([top]) => top === key).map(([, field]) => field);
  if (fields.length === 0) {
    return schema;
  }
  const secure = { type: "object", properties: { secure: { type: "string" } }, required: ["secure"], additionalProperties: false };
  const patch = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      return node.map(patch);
    }
    if (node && typeof node === "object") {
      const entries = Object.entries(node as Record<string, unknown>).map(([k, v]) => {
        if (k === "properties" && v && typeof v === "object") {
          return [
            k,
            Object.fromEntries(
              Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, fields.includes(p as never) ? { anyOf: [s, secure] } : patch(s)]),
            ),
          ];
        }
        return [k, patch(v)];
      });
      return Object.fromEntries(entries);
    }
    return node;
  };
  return patch(schema) as Record<string, unknown>;
}
