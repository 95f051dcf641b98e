/**
 * Reads the `flotilla:` keys of the stack's config, validates them against the contract and hands
 * back typed values with defaults filled in. Nothing is registered before this returns, so a bad
 * value stops `pulumi preview` and `pulumi up` with no change made.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError, describeIssues, explainIssue } from "./errors";
import { secretPaths, stackConfigSchema, type StackConfig } from "./schema";

/** The config namespace: the project's name in Pulumi.yaml. */
export const configNamespace = "flotilla";

/** Validated config; sensitive values are removed from it and handed on only as secret Outputs. */
export interface LoadedConfig {
  readonly config: StackConfig;
  /** Every value of `secretPaths` that is set, as a secret Output, by the name `secretPaths` gives it. */
  readonly secrets: { readonly [name in keyof typeof secretPaths]?: pulumi.Output<string> };
}

/** Reads the running stack's config. */
export function loadConfig(): LoadedConfig {
  const raw: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const misspelt: string[] = [];
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    const separator = fullKey.indexOf(":");
    const namespace = fullKey.slice(0, separator);
    if (namespace !== configNamespace && editDistance(namespace.toLowerCase(), configNamespace) <= 2) {
      // Pulumi hands keys of any namespace to the program and ignores them: a typo would silently drop the setting.
      misspelt.push(`${fullKey}: unknown config namespace "${namespace}"; did you mean ${configNamespace}:${fullKey.slice(separator + 1)}?`);
    }
    if (namespace === configNamespace) {
      const key = fullKey.slice(separator + 1);
      raw[key] = value;
      if (isSecretKey(fullKey)) {
        secretKeys.add(key);
      }
    }
  }
  if (misspelt.length > 0) {
    throw new ConfigError(misspelt);
  }
  return parseConfig(raw, secretKeys);
}

/** Levenshtein distance, for names a typo away from each other. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Validates raw config values, as Pulumi hands them over (structured values as JSON text), and
 * separates the secrets. `secretKeys` names the top-level keys that Pulumi holds encrypted.
 */
export function parseConfig(raw: Readonly<Record<string, string>>, secretKeys: ReadonlySet<string> = new Set()): LoadedConfig {
  const input: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, text] of Object.entries(raw)) {
    try {
      input[key] = JSON.parse(text);
    } catch {
      // Pulumi passes plain strings unquoted; anything that is not JSON is one.
      input[key] = text;
    }
  }
  const result = stackConfigSchema.safeParse(input, { error: explainIssue, reportInput: true });
  if (!result.success) {
    problems.push(...describeIssues(result.error.issues, configNamespace, stackConfigSchema, input, Object.values(secretPaths)));
  }
  for (const path of Object.values(secretPaths)) {
    if (valueAt(input, path) !== undefined && !secretKeys.has(path[0])) {
      problems.push(`${configNamespace}:${path.join(".")}: must be set as a secret: pulumi config set --secret --path ${path.join(".")} <value>`);
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(problems);
  }
  return separateSecrets(result.data);
}

/** Takes every secret out of the validated config and hands it back as a secret Output. */
function separateSecrets(config: StackConfig): LoadedConfig {
  const plain = structuredClone(config);
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const [name, path] of Object.entries(secretPaths)) {
    const parent = valueAt(plain, path.slice(0, -1)) as Record<string, unknown> | undefined;
    const value = parent?.[path[path.length - 1] as string];
    if (typeof value === "string") {
      secrets[name] = pulumi.secret(value);
      delete parent?.[path[path.length - 1] as string];
    }
  }
  return { config: plain, secrets };
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), value);
}

/** `isConfigSecret` is internal to the SDK, so it is looked up and checked rather than trusted. */
function isSecretKey(fullKey: string): boolean {
  const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  if (typeof isConfigSecret !== "function") {
    throw new Error("this @pulumi/pulumi version has no runtime isConfigSecret; Flotilla cannot tell secret config from plain");
  }
  return isConfigSecret(fullKey);
}
