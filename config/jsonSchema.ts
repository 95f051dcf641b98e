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
  const secure = { type: "object", properties: { secure: { type: "string" } }, required: ["secure"], additionalProperties: false };
  const patched = structuredClone(schema);
  for (const [top, ...rest] of Object.values(secretPaths)) {
    if (top === key && patchField(patched, rest, secure) === 0) {
      throw new Error(`secret path ${[top, ...rest].join(".")} is not in the contract`);
    }
  }
  return patched;
}

/** Lets the field at `path` below `node` be either form, through unions; returns how many it patched. */
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

function patchField(node: SchemaNode, path: readonly string[], secure: object): number {
  const options = [...(node.anyOf ?? []), ...(node.oneOf ?? [])];
  const inOptions = options.reduce((count, option) => count + patchField(option, path, secure), 0);
  const [field, ...rest] = path;
  const child = field === undefined ? undefined : node.properties?.[field];
  if (child === undefined) {
    return inOptions;
  }
  if (rest.length > 0) {
    return inOptions + patchField(child, rest, secure);
  }
  (node.properties as Record<string, SchemaNode>)[field as string] = { anyOf: [child, secure] } as SchemaNode;
  return inOptions + 1;
}
