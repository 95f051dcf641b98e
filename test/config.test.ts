import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors";
import { parseConfig } from "../config/load";
import { stackConfigWithSecrets } from "./harness";

type Config = Record<string, any>;

/** The dev stack's config as Pulumi hands it to the program: one JSON text per top-level key. */
function raw(config: Config): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key.replace(/^flotilla:/, ""), typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

/** Top-level keys the stack's secrets live under (Grafana's and the collector's passwords), as Pulumi marks them. */
const secretKeys = ["monitoring", "logging"];

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

  const cases: [string, (c: Config) => void, string][] = [
    ["an unknown top-level key", (c) => (c.servics = {}), "flotilla:servics: unknown key; allowed here: environment, namespace, cluster"],
    ["an unknown service field", (c) => (c.services.gateway.portt = 1), "flotilla:services.gateway.portt: unknown key; allowed here: main, build, image"],
    ["an unknown environment", (c) => (c.environment = "qa"), 'flotilla:environment: must be one of: dev, staging, prod; given "qa"'],
    ["a missing environment", (c) => delete c.environment, "flotilla:environment: is required, must be one of: dev, staging, prod"],
    ["an unknown cluster type", (c) => (c.cluster = { type: "kind" }), 'flotilla:cluster.type: must be one of: existing, eks, stackReference; given "kind"'],
    [
      "autoscaling max below min",
      (c) => (c.services.gateway.autoscaling = { min: 4, max: 2 }),
      "flotilla:services.gateway.autoscaling.max: min must not exceed max",
    ],
    ["autoscaling max of zero", (c) => (c.services.gateway.autoscaling = { max: 0 }), "flotilla:services.gateway.autoscaling.max: must be >= 1; given 0"],
    [
      "replicas and autoscaling together",
      (c) => Object.assign(c.services.gateway, { replicas: 2, autoscaling: {} }),
      "flotilla:services.gateway.replicas: set replicas or autoscaling, not both",
    ],
    ["a privileged port", (c) => (c.services.gateway.port = 80), "flotilla:services.gateway.port: an unprivileged port, 1024 to 65535; given 80"],
    ["a port as text", (c) => (c.services.gateway.port = "8080"), 'flotilla:services.gateway.port: must be a number; given "8080"'],
    ["two ports the same", (c) => (c.services.gateway.opsPort = 8080), "flotilla:services.gateway.opsPort: must differ from port (8080)"],
    [
      "a malformed CPU quantity",
      (c) => (c.services.users.resources = { limits: { cpu: "1 core" } }),
      "flotilla:services.users.resources.limits.cpu: a CPU quantity such as 100m, 0.5 or 2",
    ],
    [
      "a request above its limit",
      (c) => (c.services.users.resources = { requests: { memory: "1Gi" } }),
      "flotilla:services.users.resources.requests.memory: must not exceed limits.memory (128Mi)",
    ],
    [
      "a call to an unknown service",
      (c) => (c.services.gateway.calls = ["userz"]),
      'flotilla:services.gateway.calls[0]: must name a configured service (users, gateway); given "userz"',
    ],
    ["a service calling itself", (c) => (c.services.gateway.calls = ["gateway"]), "flotilla:services.gateway.calls[0]: a service does not call itself"],
    ["a service name that is no DNS label", (c) => (c.services.Users_V2 = {}), "flotilla:services.Users_V2: the key must be a DNS label"],
    ["a reserved env name", (c) => (c.services.gateway.env = { LISTEN_ADDR: ":1" }), "flotilla:services.gateway.env.LISTEN_ADDR: is set by the platform"],
    [
      "a lower-case env name",
      (c) => (c.services.gateway.env = { log_level: "x" }),
      "flotilla:services.gateway.env.log_level: the key must be an environment variable name in upper case",
    ],
    ["no services", (c) => (c.services = {}), "flotilla:services: at least one service"],
    [
      "a malformed registry server",
      (c) => (c.registry.server = "http://localhost:5001"),
      "flotilla:registry.server: a registry address such as localhost:5001",
    ],
    ["ecr without eks", (c) => (c.registry = { type: "ecr" }), "flotilla:registry.type: ecr needs cluster.type eks"],
    [
      "an Elasticsearch heap above half its memory limit",
      (c) => (c.logging = { ...c.logging, elasticsearch: { heap: "1g" } }),
      "flotilla:logging.elasticsearch.heap: must be at most half of resources.limits.memory (1Gi)",
    ],
    [
      "logging without a collector password",
      (c) => delete c.logging.collectorPassword,
      "flotilla:logging.collectorPassword: is required while logging is enabled",
    ],
    [
      "monitoring without a Grafana password",
      (c) => delete c.monitoring.grafana,
      "flotilla:monitoring.grafana.adminPassword: is required while monitoring is enabled",
    ],
    [
      "a malformed retention",
      (c) => (c.monitoring = { retention: "15 days" }),
      'flotilla:monitoring.retention: a duration such as 30s, 15d or 4w; given "15 days"',
    ],
    [
      "eks nodes outside their bounds",
      (c) => (c.cluster = { type: "eks", nodes: { min: 3, desired: 2, max: 4 } }),
      "flotilla:cluster.nodes.desired: must satisfy min <= desired <= max",
    ],
    ["a malformed VPC range", (c) => (c.cluster = { type: "eks", vpcCidr: "10.0.0.0/33" }), "flotilla:cluster.vpcCidr: an IPv4 CIDR"],
    [
      "a prebuilt image without digest in prod",
      (c) => Object.assign(c, { environment: "prod", services: { gateway: { image: "ghcr.io/acme/gateway:1.2" } } }),
      "flotilla:services.gateway.image: prod deploys images by digest",
    ],
    ["a malformed image reference", (c) => (c.services.gateway.image = "Gateway:latest!"), "flotilla:services.gateway.image: an image reference"],
    [
      "a password in plain text",
      (c) => (c.registry.password = "hunter2"),
      "flotilla:registry.password: must be set as a secret: pulumi config set --secret --path registry.password",
    ],
    ["a kubeconfig in plain text", (c) => (c.cluster.kubeconfig = "apiVersion: v1"), "flotilla:cluster.kubeconfig: must be set as a secret"],
  ];

  it.each(cases)("refuses %s, naming the key path", (_name, change, expected) => {
    const problems = problemsOf(change);
    expect(
      problems.some((p) => p.includes(expected)),
      `${expected}\nnot in:\n${problems.join("\n")}`,
    ).toBe(true);
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
