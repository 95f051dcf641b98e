/**
 * Turns zod issues into one readable error: each problem on its own line, with the full config key
 * path (`flotilla:services.gateway.autoscaling.max`), what was given and what is allowed.
 */
import type { z } from "zod";

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** The error map used while parsing: says what is allowed, in words a config author knows. */
export const explainIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? `is required (${issue.expected})` : `must be a ${issue.expected}`;
    case "too_small":
      return issue.origin === "array" || issue.origin === "string"
        ? `must have at least ${String(issue.minimum)} ${issue.origin === "array" ? "entries" : "characters"}`
        : `must be ${issue.inclusive === false ? ">" : ">="} ${String(issue.minimum)}`;
    case "too_big":
      return `must be ${issue.inclusive === false ? "<" : "<="} ${String(issue.maximum)}`;
    case "invalid_value":
      return `${issue.input === undefined ? "is required, " : ""}must be one of: ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_union":
      return "does not match any allowed form";
    default:
      return undefined;
  }
};

/** Formats every issue against the raw input so the given value can be shown. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  namespace: string,
  schema: z.ZodType,
  input: unknown,
  secretPaths: readonly (readonly string[])[],
): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys(schema, issue.path, input);
      return issue.keys.map(
        (key) => `${keyPath(namespace, [...issue.path, key])}: unknown key${allowed.length ? `; allowed here: ${allowed.join(", ")}` : ""}`,
      );
    }
    if (issue.code === "invalid_union" && "discriminator" in issue && typeof issue.discriminator === "string") {
      // zod puts the discriminator at the end of the path; the union itself is one level up.
      const unionPath = issue.path.slice(0, -1);
      const options = discriminatorValues(schema, unionPath, issue.discriminator, input);
      return [`${keyPath(namespace, issue.path)}: must be one of: ${options.join(", ")}; given ${show(valueAt(input, issue.path))}`];
    }
    if (issue.code === "invalid_key") {
      return [`${keyPath(namespace, issue.path)}: the key must be ${issue.issues.map((inner) => inner.message).join("; ")}`];
    }
    const given = valueAt(input, issue.path);
    // A secret's value never appears in an error, however wrong it is.
    const secret = secretPaths.some((secretPath) => secretPath.every((key, i) => key === "*" || issue.path[i] === key));
    const suffix = given === undefined || secret ? "" : `; given ${show(given)}`;
    return [`${keyPath(namespace, issue.path)}: ${issue.message}${suffix}`];
  });
}

function keyPath(namespace: string, path: readonly PropertyKey[]): string {
  if (path.length === 0) {
    return `${namespace}:`;
  }
  const [head, ...rest] = path;
  return `${namespace}:${String(head)}${rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? "nothing";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") {
      return undefined;
    }
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Walks the schema down `path`, through wrappers, records and the union option the input chose. */
function schemaAt(schema: z.core.$ZodType, path: readonly PropertyKey[], input: unknown): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = unwrap(schema, input);
  let value = input;
  for (const key of path) {
    value = valueAt(value, [key]);
    const def: z.core.$ZodTypeDef | undefined = current?._zod.def;
    if (def?.type === "object") {
      current = (def as z.core.$ZodObjectDef).shape[String(key)];
    } else if (def?.type === "record") {
      current = (def as z.core.$ZodRecordDef).valueType;
    } else if (def?.type === "array") {
      current = (def as z.core.$ZodArrayDef).element;
    } else {
      return undefined;
    }
    current = current && unwrap(current, value);
  }
  return current;
}

function unwrap(schema: z.core.$ZodType, input: unknown): z.core.$ZodType {
  const def = schema._zod.def as z.core.$ZodTypeDef & { innerType?: z.core.$ZodType; in?: z.core.$ZodType; options?: z.core.$ZodType[] };
  if (def.innerType) {
    return unwrap(def.innerType, input);
  }
  if (def.type === "pipe" && def.in) {
    return unwrap(def.in, input);
  }
  if (def.type === "union" && def.options) {
    const chosen = def.options.find((option) => matchesDiscriminator(option, input));
    return chosen ? unwrap(chosen, input) : schema;
  }
  return schema;
}

/** Flotilla's unions are discriminated by `type`. */
function matchesDiscriminator(option: z.core.$ZodType, input: unknown): boolean {
  const shape = (option._zod.def as Partial<z.core.$ZodObjectDef>).shape;
  const type = shape?.type?._zod.def as Partial<z.core.$ZodLiteralDef<string>> | undefined;
  return type?.values?.includes(valueAt(input, ["type"]) as string) ?? false;
}

function allowedKeys(schema: z.core.$ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  const def = schemaAt(schema, path, input)?._zod.def;
  return def?.type === "object" ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
}

/** The values a discriminated union at `path` accepts; the input matched none of them. */
function discriminatorValues(schema: z.core.$ZodType, path: readonly PropertyKey[], discriminator: string, input: unknown): string[] {
  const def = schemaAt(schema, path, input)?._zod.def as { options?: z.core.$ZodType[] } | undefined;
  return (def?.options ?? []).flatMap((option) => {
    const literal = (option._zod.def as Partial<z.core.$ZodObjectDef>).shape?.[discriminator]?._zod.def as Partial<z.core.$ZodLiteralDef<string>> | undefined;
    return (literal?.values ?? []).map(String);
  });
}
