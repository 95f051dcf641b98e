/**
 * GoService used directly, as another stack imports it: Args it refuses with a ResourceError,
 * labels it takes as Args, and the main children it hands over.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { envProblems, GoService, type GoServiceArgs, portCollisions, serviceShapeProblems } from "../components/apps/goService";
import { ServiceMonitoring } from "../components/monitoring/serviceMonitoring";

const registered: { type: string; name: string; inputs: Record<string, any> }[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "consumer",
    "test",
    false,
  );
});

const image = "registry.example/app@sha256:" + "0".repeat(64);
const service = (name: string, args: Partial<GoServiceArgs> = {}) => new GoService(name, { namespace: "apps", image, ...args });
const resolve = <T>(output: pulumi.Output<T>) => new Promise<T>((done) => output.apply(done));
/** The inputs a resource was registered with: mocks register once its inputs resolve, a few ticks later. */
async function registeredAs(type: string, name: string): Promise<Record<string, any>> {
  for (let tick = 0; tick < 200; tick++) {
    const found = registered.find((r) => r.type === type && r.name === name);
    if (found) {
      return found.inputs;
    }
    await new Promise((done) => setTimeout(done, 10));
  }
  throw new Error(`${type} ${name} was never registered`);
}

describe("GoService as a package component", () => {
  it.each<[string, Partial<GoServiceArgs>, RegExp]>([
    ["colliding ports", { port: 8081 }, /GoService bad: port 8081, opsPort 8081 and debugPort 6060 must differ/],
    ["autoscaling min above max", { autoscaling: { min: 5, max: 2, targetCpuUtilization: 70 } }, /autoscaling needs 1 <= min <= max/],
    ["zero replicas", { replicas: 0 }, /replicas must be a whole number of at least 1, not 0/],
    ["a platform variable in env", { env: { LISTEN_ADDR: ":1" } }, /env\.LISTEN_ADDR: is set by the platform/],
    ["a credential in plain env", { env: { API_TOKEN: "t" } }, /env\.API_TOKEN: looks like a credential/],
    ["a callee's address in secretEnv", { calls: [{ name: "users", port: 9090 }], secretEnv: { USERS_ADDR: "x" } }, /secretEnv\.USERS_ADDR: is set from calls/],
  ])("refuses %s with a ResourceError", (_name, args, message) => {
    expect(() => service("bad", args)).toThrow(pulumi.ResourceError);
    expect(() => service("bad", args)).toThrow(message);
  });

  it("takes part-of as an Arg and hands over its Deployment and Service", async () => {
    const app = service("billing", { partOf: "payments", secretEnv: { STRIPE_KEY: pulumi.secret("sk_test_x") } });
    expect(app.deployment).toBeInstanceOf(pulumi.CustomResource);
    expect(app.service).toBeInstanceOf(pulumi.CustomResource);
    const labels = await resolve(app.deployment.spec.template.metadata.labels);
    expect(labels).toMatchObject({ "app.kubernetes.io/part-of": "payments", "app.kubernetes.io/name": "billing" });
    expect(await resolve(app.service.spec.selector)).toEqual({ "app.kubernetes.io/name": "billing", "app.kubernetes.io/part-of": "payments" });
    expect(registered.filter((r) => r.type === "kubernetes:core/v1:Secret").map((r) => r.name)).toEqual(["billing-secret-env"]);
  });

  it("selects its callers and callees by its own part-of, not the default's", async () => {
    service("ledger", { partOf: "payments", callers: ["billing"], calls: [{ name: "rates", port: 9090 }] });
    const policy = await registeredAs("kubernetes:networking.k8s.io/v1:NetworkPolicy", "ledger");
    const payments = (name: string) => ({ matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "payments" } });
    expect(policy.spec.podSelector).toEqual(payments("ledger"));
    expect(policy.spec.ingress[0].from).toEqual([{ podSelector: payments("billing") }]);
    expect(policy.spec.egress[1].to).toEqual([{ podSelector: payments("rates") }]);
  });

  it("is selected by its ServiceMonitor when both name the same part-of", async () => {
    const app = service("invoices", { partOf: "payments" });
    new ServiceMonitoring("invoices", { namespace: "apps", partOf: "payments" });
    const monitor = await registeredAs("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "invoices-monitor");
    const serviceLabels = await resolve(app.service.metadata.labels);
    expect(Object.keys(monitor.spec.selector.matchLabels)).toEqual(["app.kubernetes.io/name", "app.kubernetes.io/part-of"]);
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
      expect(serviceLabels[key], key).toBe(value);
    }
  });
});

describe("env and shape checks, alone", () => {
  it("names each collision once, from whichever side", () => {
    expect(envProblems({ env: { OPS_ADDR: "x", A: "1" }, secretEnv: ["A", "SERVICE_NAME"], calls: ["debug"] })).toEqual([
      { at: "env", name: "OPS_ADDR", message: expect.stringMatching(/^is set by the platform/) },
      { at: "env", name: "A", message: "is in secretEnv too; set it once" },
      { at: "secretEnv", name: "SERVICE_NAME", message: expect.stringMatching(/^is set by the platform/) },
      { at: "calls", name: "debug", message: "its address would be DEBUG_ADDR, a platform variable: rename the service debug" },
    ]);
    expect(envProblems({ env: { LOG_LEVEL: "info", KEYSPACE: "users" }, secretEnv: ["DB_PASSWORD"], calls: ["users"] })).toEqual([]);
  });

  it.each([
    [{ port: 8080, opsPort: 8081, debugPort: 6060 }, []],
    [{ port: 8080, opsPort: 8080, debugPort: 6060 }, [{ key: "opsPort", sameAs: "port", value: 8080 }]],
    [{ port: 8080, opsPort: 8081, debugPort: 8081 }, [{ key: "debugPort", sameAs: "opsPort", value: 8081 }]],
    [
      { port: 9, opsPort: 9, debugPort: 9 },
      [
        { key: "opsPort", sameAs: "port", value: 9 },
        { key: "debugPort", sameAs: "port", value: 9 },
      ],
    ],
  ])("names each port that repeats an earlier one: %o", (ports, expected) => {
    expect(portCollisions(ports)).toEqual(expected);
  });

  it("accepts the defaults' shape", () => {
    expect(serviceShapeProblems({ port: 8080, opsPort: 8081, debugPort: 6060, replicas: 2 })).toEqual([]);
  });
});
