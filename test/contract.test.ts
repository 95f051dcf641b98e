/**
 * Mistakes users really make, each refused before any resource is registered with a message that
 * names the key and says what is allowed, run against both stack files; and edge cases that must
 * be accepted.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { editDistance } from "../config/load";
import { bytesProblem, cpuProblem, parseQuantity } from "../config/quantities";
import { ConfigError } from "../config/errors";
import { registeredByLastRun, runProgram, runStack, stackConfigWithSecrets } from "./harness";

type Change = (config: Record<string, any>) => void;
const services = (config: Record<string, any>) => config["flotilla:services"];

const refused: [string, Change, RegExp][] = [
  [
    "the cluster's own namespace",
    (c) => (c["flotilla:namespace"] = "kube-system"),
    /flotilla:namespace: must not be a namespace the cluster or the stack's monitoring and logging own/,
  ],
  ["the default namespace", (c) => (c["flotilla:namespace"] = "default"), /flotilla:namespace: must not be a namespace .*default, kube-system/],
  ["the monitoring namespace", (c) => (c["flotilla:namespace"] = "monitoring"), /flotilla:namespace: must not be/],
  ["the logging namespace", (c) => (c["flotilla:namespace"] = "logging"), /flotilla:namespace: must not be/],
  [
    "a service whose address variable is a platform one",
    (c) => {
      services(c).ops = { main: "./cmd/users" };
      services(c).gateway.calls = ["users", "ops"];
    },
    /flotilla:services\.gateway\.calls\[1\]: its address would be OPS_ADDR, a platform variable: rename the service ops/,
  ],
  [
    "an env entry the calls already set",
    (c) => (services(c).gateway.env.USERS_ADDR = "elsewhere:1"),
    /flotilla:services\.gateway\.env\.USERS_ADDR: is set from calls \(the address of users\)/,
  ],
  ["a platform variable in env", (c) => (services(c).gateway.env.LISTEN_ADDR = ":80"), /flotilla:services\.gateway\.env\.LISTEN_ADDR: is set by the platform/],
  [
    "a build argument that renames the service",
    (c) => (services(c).gateway.build = { args: { SERVICE: "users" } }),
    /flotilla:services\.gateway\.build\.args\.SERVICE: the key must be SERVICE is the platform's/,
  ],
  [
    "an empty build argument",
    (c) => (services(c).gateway.build = { args: { GO_IMAGE: "" } }),
    /flotilla:services\.gateway\.build\.args\.GO_IMAGE: must not be empty/,
  ],
  [
    "zero CPU with autoscaling",
    (c) => Object.assign(services(c).gateway, { autoscaling: { min: 2, max: 4 }, resources: { requests: { cpu: "0" } } }),
    /flotilla:services\.gateway\.resources\.requests\.cpu: must be above 0 with autoscaling/,
  ],
  [
    "zero memory",
    (c) => (services(c).users.resources = { requests: { memory: "0" } }),
    /flotilla:services\.users\.resources\.requests\.memory: must be above 0/,
  ],
  [
    "millibytes of memory",
    (c) => (services(c).users.resources = { limits: { memory: "128m" } }),
    /flotilla:services\.users\.resources\.limits\.memory: m means thousandths: 128m is 0\.128 bytes; write Mi \(128Mi\) or M/,
  ],
  ["a negative CPU", (c) => (services(c).users.resources = { limits: { cpu: "-1" } }), /flotilla:services\.users\.resources\.limits\.cpu: a CPU quantity/],
  [
    "a kubeconfig file that does not exist",
    (c) =>
      Object.assign(c, {
        "flotilla:cluster": { type: "existing", kubeconfigPath: "/nonexistent/kubeconfig" },
        "flotilla:registry": { type: "external", server: "registry.example.com" },
      }),
    /flotilla:cluster\.kubeconfigPath: \/nonexistent\/kubeconfig is not a file/,
  ],
];

describe.each(["dev", "prod"] as const)("refusals on %s", (stack) => {
  it.each(refused)("refuses %s before registering anything", async (_name, change, message) => {
    const run = runStack(stack, change);
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(message);
    expect(registeredByLastRun()).toEqual([]);
  });
});

describe("a misspelt config namespace", () => {
  it.each(["flotila", "flotillaa", "Flotilla", "flotlla"])("refuses %s: keys, naming the namespace meant", async (namespace) => {
    const { values, secretKeys } = stackConfigWithSecrets("dev");
    const run = runProgram("dev", { ...values, [`${namespace}:namespace`]: "apps" }, secretKeys);
    await expect(run).rejects.toThrow(`${namespace}:namespace: unknown config namespace "${namespace}"; did you mean flotilla:namespace?`);
    expect(registeredByLastRun()).toEqual([]);
  });

  it("leaves other providers' namespaces alone", async () => {
    const run = await runStack("dev", (c) => (c["kubernetes:enableServerSideApply"] = "true"));
    expect(run.resources.length).toBeGreaterThan(0);
  });
});

describe("accepted edge cases", () => {
  const accepted: [string, Change][] = [
    ["decimal quantities", (c) => (services(c).users.resources = { requests: { cpu: "0.25", memory: "0.5Gi" }, limits: { cpu: "1.5", memory: "1.5Gi" } })],
    [
      "exponent and decimal-SI quantities",
      (c) => (services(c).users.resources = { requests: { memory: "64M", ephemeralStorage: "1e7" }, limits: { memory: "1G" } }),
    ],
    ["a 63-character service name", (c) => (services(c)["a".repeat(63)] = { main: "./cmd/users" })],
    ["calls in a cycle", (c) => (services(c).users.calls = ["gateway"])],
    ["a user variable beside the generated address", (c) => (services(c).gateway.env.USERS_TIMEOUT = "2s")],
    ["the largest autoscaling bounds", (c) => (services(c).gateway.autoscaling = { min: 1000, max: 1000 })],
    ["one replica", (c) => (services(c).users.replicas = 1)],
    ["a namespace that merely contains a reserved word", (c) => (c["flotilla:namespace"] = "my-logging")],
    ["an extra build argument", (c) => (services(c).gateway.build = { args: { GO_IMAGE: "registry.internal/golang:1.26" } })],
    [
      "monitoring and logging both off, without passwords",
      (c) => Object.assign(c, { "flotilla:monitoring": { enabled: false }, "flotilla:logging": { enabled: false } }),
    ],
  ];

  it.each(accepted)("accepts %s", async (_name, change) => {
    const run = await runStack("dev", change);
    expect(run.ofType("kubernetes:apps/v1:Deployment").length).toBeGreaterThanOrEqual(2);
  });

  it("hands a password set the right way on as a secret", async () => {
    const run = await runStack("dev");
    const secret = run.one("kubernetes:core/v1:Secret", "monitoring-grafana-admin").inputs.stringData;
    expect(Object.keys(secret)).toContain("4dabf18193072939515e22adb298388d");
    expect(await pulumi.isSecret(pulumi.output(1))).toBe(false);
  });
});

describe("the quantity parser, against the API server's grammar", () => {
  it.each([
    ["100m", 0.1],
    ["0.5", 0.5],
    [".5", 0.5],
    ["1.", 1],
    ["+2", 2],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["128Mi", 128 * 2 ** 20],
    ["1e3", 1000],
    ["1E3", 1000],
    ["2E", 2e18],
    ["1k", 1000],
    ["3Pi", 3 * 2 ** 50],
  ])("reads %s", (text, value) => {
    expect(parseQuantity(text)?.value).toBeCloseTo(value);
  });

  it.each(["", "1 Gi", "1GB", "Gi", "1.2.3", "1e", "1ki", "0x10", "1Mi "])("refuses %j", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it("refuses what no container can use", () => {
    expect(cpuProblem("-100m")).toBeDefined();
    expect(bytesProblem("-1Gi")).toBeDefined();
    expect(bytesProblem("512m")).toContain("write Mi (512Mi)");
    expect(bytesProblem("512Mi")).toBeUndefined();
  });

  it("measures typos", () => {
    expect(editDistance("flotila", "flotilla")).toBe(1);
    expect(editDistance("aws", "flotilla")).toBeGreaterThan(2);
  });
});
