/**
 * Logging and Tracing used directly, as another stack imports them: Args they refuse with a
 * ResourceError before any child is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { type ElasticsearchClient, Logging, type LoggingArgs } from "../components/logging/logging";
import { Tracing, type TracingArgs } from "../components/tracing/tracing";

const registered: string[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(`${args.type} ${args.name}`);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "consumer",
    "test",
    false,
  );
});

const logging: LoggingArgs = {
  environment: "dev",
  appNamespaces: ["apps"],
  collectorPassword: pulumi.secret("collector-password-0123"),
  setupImage: "registry.example/logsetup@sha256:" + "0".repeat(64),
};
const jaeger: ElasticsearchClient = {
  user: "jaeger",
  password: pulumi.secret("jaeger-password-0123"),
  role: "jaeger_writer",
  cluster: [],
  indices: [{ names: ["jaeger-*"], privileges: ["create_index", "write", "view_index_metadata"] }],
  namespace: "tracing",
  podLabels: { app: "jaeger" },
  expiry: { indices: "jaeger-*", afterDays: 3 },
};
const tracing: TracingArgs = {
  appNamespaces: ["apps"],
  storage: { url: "https://es:9200", caCertificate: "ca", namespace: "logging", podLabels: {}, username: "jaeger", password: pulumi.secret("p") },
};

describe("component Args", () => {
  it.each<[string, () => unknown, RegExp]>([
    [
      "a client's expiry its role cannot carry out",
      () => new Logging("logs", { ...logging, elasticsearchClients: [jaeger] }),
      /jaeger's role must grant delete_index on jaeger-\* for its expiry/,
    ],
    [
      "an expiry on indices the role names otherwise",
      () => new Logging("logs", { ...logging, elasticsearchClients: [{ ...jaeger, expiry: { indices: "jaeger-span-*", afterDays: 3 } }] }),
      /must grant view_index_metadata and delete_index on jaeger-span-\*/,
    ],
    ["tracing for no namespace", () => new Tracing("traces", { ...tracing, appNamespaces: [] }), /appNamespaces must name at least one namespace/],
    ["no collector", () => new Tracing("traces", { ...tracing, collectorReplicas: 0 }), /collectorReplicas must be a whole number of at least 1, not 0/],
  ])("refuses %s with a ResourceError, registering no child", async (_name, make, message) => {
    registered.length = 0;
    expect(make).toThrow(pulumi.ResourceError);
    expect(make).toThrow(message);
    // Mocks register a few ticks after the constructor: the component itself, and nothing under it.
    await new Promise((done) => setTimeout(done, 100));
    expect(registered.length).toBeGreaterThan(0);
    expect(registered.filter((r) => !r.startsWith("flotilla:"))).toEqual([]);
  });
});
