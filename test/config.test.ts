import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors";
import { engineProblems, parseConfig } from "../config/load";
import { stackConfigWithSecrets } from "./harness";

type Config = Record<string, any>;

/** The dev stack's config as Pulumi hands it to the program: one JSON text per top-level key. */
function raw(config: Config): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key.replace(/^flotilla:/, ""), typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

/** Top-level keys the stack's secrets live under (Grafana's and the collector's passwords), as Pulumi marks them. */
const secretKeys = ["monitoring", "logging", "tracing"];

function devConfig(): Config {
  const { values } = stackConfigWithSecrets("dev");
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key.replace(/^flotilla:/, ""), value]));
}

function problemsOf(change: (config: Config) => void, moreSecretKeys: string[] = []): string[] {
  const config = devConfig();
  change(config);
  try {
    parseConfig(raw(config), new Set([...secretKeys, ...moreSecretKeys]));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("the config was accepted");
}

describe("config contract", () => {
  it.each(["dev", "prod"] as const)("accepts Pulumi.%s.yaml", (stack) => {
    const { values } = stackConfigWithSecrets(stack);
    const { config } = parseConfig(raw(Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith("flotilla:")))), new Set(secretKeys));
    expect(config.environment).toBe(stack);
    expect(Object.keys(config.services)).toEqual(["users", "gateway"]);
  });

  it("fills in defaults", () => {
    const { config } = parseConfig(raw(devConfig()), new Set(secretKeys));
    const gateway = config.services.gateway!;
    expect(gateway.port).toBe(8080);
    expect(gateway.opsPort).toBe(8081);
    expect(gateway.resources.limits.memory).toBe("128Mi");
    expect(gateway.build).toEqual({ context: "services", dockerfile: "Dockerfile", args: {} });
    expect(config.monitoring.enabled).toBe(true);
    expect(config.logging.retentionDays).toBe(3);
    expect(config.namespace).toBe("flotilla");
  });

  it("lists every problem at once", () => {
    const problems = problemsOf((c) => {
      c.environment = "qa";
      c.services.gateway.port = 80;
      c.services.users.typo = true;
    });
    expect(problems).toHaveLength(3);
  });

  it("never shows a secret's value in an error", () => {
    const problems = problemsOf((c) => (c.registry.password = 42), ["registry"]);
    expect(problems.join("\n")).toContain("flotilla:registry.password: must be a string");
    expect(problems.join("\n")).not.toContain("42");
  });

  it("refuses as the README's Configuration section shows, word for word", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const shown = /```\n(invalid stack configuration[^`]*)```/.exec(readme.slice(readme.indexOf("## Configuration")))?.[1];
    const config = devConfig();
    config.namespace = "kube-system";
    config.services.gateway.resources = { limits: { memory: "128m" } };
    config.services.gateway.env.STRIPE_API_KEY = "sk_live_51H";
    let message = "";
    try {
      parseConfig(raw(config), new Set(secretKeys));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(shown?.trim()).toBe(message.trim());
  });

  it("never echoes a credential found in plain env", () => {
    const problems = problemsOf((c) => (c.services.users.env.PAYMENTS = "sk_live_0123456789abcdef"));
    expect(problems.join("\n")).toContain("flotilla:services.users.env.PAYMENTS: looks like a credential");
    expect(problems.join("\n")).not.toContain("sk_live");
  });

  it("hands secrets on only as secret Outputs", async () => {
    const config = devConfig();
    config.registry.username = "ci";
    config.registry.password = "hunter2";
    const loaded = parseConfig(raw(config), new Set(["registry", ...secretKeys]));
    expect(loaded.config.registry).not.toHaveProperty("password", "hunter2");
    expect(JSON.stringify(loaded.config)).not.toContain("hunter2");
    const password = loaded.secrets.registryPassword!;
    expect(await pulumi.isSecret(password)).toBe(true);
  });
});

describe("engine settings a stack refuses", () => {
  it.each([
    ["prod", "true", 1],
    ["prod", "1", 1],
    ["prod", "TRUE", 1],
    ["prod", "false", 0],
    ["prod", undefined, 0],
    ["dev", "true", 0],
    ["staging", "true", 0],
  ] as const)("%s with PULUMI_SKIP_CHECKPOINTS=%s: %i problem(s)", (environment, value, problems) => {
    const found = engineProblems(environment, { PULUMI_SKIP_CHECKPOINTS: value });
    expect(found).toHaveLength(problems);
    if (problems > 0) expect(found[0]).toMatch(/^PULUMI_SKIP_CHECKPOINTS=.*: a prod stack keeps its state checkpoints/);
  });
});
