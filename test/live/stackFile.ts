/**
 * The stack file the e2e deployed (a copy of Pulumi.dev.yaml with its `pulumi config set`
 * overrides), read through the contract with every default filled in, so the live suites derive
 * their cases from what was deployed. Encrypted values stand in as placeholders: no suite reads one.
 */
import * as fs from "node:fs";
import { parse } from "yaml";
import { features } from "../../features";
import { type AnyFeature, enabledFeatures, sliceOf } from "../../features/feature";
import { type StackConfig, stackConfigSchema } from "../../config/schema";
import { requiredEnv } from "./env";

const withoutCiphertext = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(withoutCiphertext)
    : typeof value === "object" && value !== null
      ? "secure" in value && Object.keys(value).length === 1
        ? "encrypted-in-the-stack-file"
        : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutCiphertext(v)]))
      : value;

/** The deployed stack's configuration, as `pulumi up` validated it. */
export function deployedConfig(): StackConfig {
  const file = parse(fs.readFileSync(requiredEnv("FLOTILLA_E2E_STACK_FILE"), "utf8")) as { config: Record<string, unknown> };
  const keys = Object.entries(file.config)
    .filter(([key]) => key.startsWith("flotilla:"))
    .map(([key, value]) => [key.slice("flotilla:".length), withoutCiphertext(value)]);
  return stackConfigSchema.parse(Object.fromEntries(keys)) as StackConfig;
}

/** The features the deployed stack enabled. */
export function deployedFeatures(config: StackConfig = deployedConfig()): AnyFeature[] {
  return enabledFeatures(features, config);
}

/** The keys of the deployed stack's features that installed a chart of theirs. */
export function featuresWithCharts(config: StackConfig = deployedConfig()): Set<string> {
  return new Set(deployedFeatures(config).flatMap((feature) => ((feature.charts?.(sliceOf(config, feature), config) ?? []).length > 0 ? [feature.key] : [])));
}
