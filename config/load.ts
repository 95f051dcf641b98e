/**
 * Reads the `flotilla:` keys of the stack's config, validates them against the contract and hands
 * back typed values with defaults filled in. Nothing is registered before this returns, so a bad
 * value stops `pulumi preview` and `pulumi up` with no change made.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { isCredentialName, isCredentialValue } from "../components/apps/credentials";
import { ConfigError, describeIssues, explainIssue } from "./errors";
import { type Contract, stackContract, type StackConfig } from "./schema";

/** The config namespace: the project's name in Pulumi.yaml. */
export const configNamespace = "flotilla";

/** Validated config; sensitive values are removed from it and handed on only as secret Outputs. */
export interface LoadedConfig {
  readonly config: StackConfig;
  /** Every value of the contract's `secretPaths` that is set, as a secret Output, by the name it gives it. */
  readonly secrets: Readonly<Record<string, pulumi.Output<string> | undefined>>;
  /** Each service's `secretEnv`, its values as secret Outputs; taken out of `config`. */
  readonly secretEnv: Readonly<Record<string, Record<string, pulumi.Output<string>>>>;
}

/** Reads the running stack's config, against the stack's contract or, in tests, another. */
export function loadConfig(contract: Contract = stackContract): LoadedConfig {
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
  const loaded = parseConfig(raw, secretKeys, contract);
  const engine = engineProblems(loaded.config.environment, process.env);
  if (engine.length > 0) {
    throw new ConfigError(engine);
  }
  return loaded;
}

/**
 * Engine settings a stack refuses, read from the environment the CLI hands the program. A prod
 * stack keeps its state checkpoints: without them an update cut short leaves objects in the
 * cluster and in AWS that the state does not know. scripts/dev-up skips them for dev, where the
 * cost is measured (docs/benchmarks.md) and the cluster is disposable.
 */
export function engineProblems(environment: string, env: Readonly<Record<string, string | undefined>>): string[] {
  // The CLI's own reading of a boolean variable: 1 or true, in any case.
  const skipsCheckpoints = /^(1|true)$/i.test(env.PULUMI_SKIP_CHECKPOINTS ?? "");
  return environment === "prod" && skipsCheckpoints
    ? [
        `PULUMI_SKIP_CHECKPOINTS=${env.PULUMI_SKIP_CHECKPOINTS}: a prod stack keeps its state checkpoints, so that an update cut short leaves nothing the state does not know; unset it for this stack`,
      ]
    : [];
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
export function parseConfig(
  raw: Readonly<Record<string, string>>,
  secretKeys: ReadonlySet<string> = new Set(),
  contract: Contract = stackContract,
): LoadedConfig {
  const { schema, secretPaths } = contract;
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
  const result = schema.safeParse(input, { error: explainIssue, reportInput: true });
  if (!result.success) {
    // Secrets, and whatever looks like one in plain env, never appear in an error (nor in CI logs).
    const hidden = [...Object.values(secretPaths), ["services", "*", "secretEnv", "*"], ...credentialEnvPaths(input)];
    problems.push(...describeIssues(result.error.issues, configNamespace, schema, input, hidden));
  }
  const setPaths = [...Object.values(secretPaths).filter((path) => valueAt(input, path) !== undefined), ...secretEnvPaths(input)];
  for (const path of setPaths.filter((p) => !secretKeys.has(p[0] as string))) {
    problems.push(`${configNamespace}:${path.join(".")}: must be set as a secret: pulumi config set --secret --path ${path.join(".")} <value>`);
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(problems);
  }
  return separateSecrets(result.data as StackConfig, secretPaths);
}

/** Takes every secret out of the validated config and hands it back as a secret Output. */
function separateSecrets(config: StackConfig, secretPaths: Contract["secretPaths"]): LoadedConfig {
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
  const secretEnv = Object.fromEntries(
    Object.entries(plain.services).map(([name, service]) => {
      const values = Object.fromEntries(Object.entries(service.secretEnv).map(([key, value]) => [key, pulumi.secret(value)]));
      service.secretEnv = {};
      return [name, values];
    }),
  );
  return { config: plain, secrets, secretEnv };
}

/** The path of every plain `services.<name>.env.<NAME>` whose name or value looks like a credential. */
function credentialEnvPaths(input: Record<string, unknown>): string[][] {
  return serviceEntries(input, "env")
    .filter(([, key, value]) => isCredentialName(key) || (typeof value === "string" && isCredentialValue(value)))
    .map(([name, key]) => ["services", name, "env", key]);
}

/** The path of every `services.<name>.secretEnv.<NAME>` given, whatever else is wrong with it. */
function secretEnvPaths(input: Record<string, unknown>): string[][] {
  return serviceEntries(input, "secretEnv").map(([name, key]) => ["services", name, "secretEnv", key]);
}

/** Every entry of each service's map `field` in the raw input, before validation: [service, key, value]. */
function serviceEntries(input: Record<string, unknown>, field: "env" | "secretEnv"): [string, string, unknown][] {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;
  const services = isObject(input.services) ? input.services : {};
  return Object.entries(services).flatMap(([name, service]) =>
    isObject(service) && isObject(service[field]) ? Object.entries(service[field]).map(([key, value]): [string, string, unknown] => [name, key, value]) : [],
  );
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
