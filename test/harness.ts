/**
 * Runs the whole Flotilla program under Pulumi's mocks with a stack's config and hands back every
 * resource it registered, with its inputs, so tests can assert on the graph.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../config/load";
import { contractOf } from "../config/schema";
import type { AnyFeature } from "../features/feature";
import { deploy, type StackOutputs } from "../stack";
import { projectDir } from "./programNode";

export { projectDir };

// Pulumi's function serialiser names a module a function uses by the object Node's `require` gave;
// vitest's module runner hands modules over as objects of its own, which the serialiser would walk
// whole (serialising the go builder's provider hung the run). Mocks never run a provider: under
// vitest its text is a stand-in, set on the module the SDK requires, where goImage.ts takes the
// serialiser from. The go builder's test serialises the real one as the language host runs the
// program, and the e2e runs it.
if (process.env.VITEST) {
  const sdkModule = createRequire(path.join(projectDir, "package.json"))("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction: unknown };
  sdkModule.serializeFunction = async () => ({
    text: "exports.handler = undefined; // not serialised under mocks",
    exportName: "handler",
    containsSecrets: false,
  });
}

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  /** Whether the resource was registered with `protect`. */
  readonly protect?: boolean;
  /** Its `replaceOnChanges` option, when set. */
  readonly replaceOnChanges?: readonly string[];
  /** Set for a read of an existing resource (`Resource.get`): its id. */
  readonly readId?: string;
}

let lastRegistered: Registered[] = [];

/** `type::name` of each resource registered with `protect`, which Pulumi's mocks do not pass on. */
const protectedResources = new Set<string>();
/** `type::name` to the `replaceOnChanges` it was registered with, which the mocks do not pass on either. */
const replacedOn = new Map<string, string[]>();

/** Wraps the mock monitor's registration to note which resources ask for protection. */
function recordProtection(): void {
  protectedResources.clear();
  replacedOn.clear();
  type Request = { getProtect(): boolean; getType(): string; getName(): string; getReplaceonchangesList(): string[] };
  const monitor = (runtimeSettings as unknown as { getMonitor(): { registerResource(req: Request, callback: unknown): unknown } }).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    if (req.getProtect()) {
      protectedResources.add(`${req.getType()}::${req.getName()}`);
    }
    if (req.getReplaceonchangesList().length > 0) {
      replacedOn.set(`${req.getType()}::${req.getName()}`, req.getReplaceonchangesList());
    }
    return register(req, callback);
  };
}

/** What the latest run registered, also when it failed. */
export const registeredByLastRun = (): readonly Registered[] => lastRegistered;

export interface ProgramRun {
  readonly resources: Registered[];
  readonly outputs: Partial<StackOutputs>;
  /** Resolved values of the stack outputs, with secrets unwrapped. */
  readonly values: Record<string, unknown>;
  /** Which stack outputs are secret. */
  readonly secretOutputs: Set<string>;
  ofType(type: string): Registered[];
  one(type: string, name: string): Registered;
}

/** A stack file's config values, by full key (`flotilla:services`). */
export function stackConfig(stack: string): { values: Record<string, unknown> } {
  const file = parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return { values: file.config };
}

/** Fake digest of a registry image, stable per image name. */
export const fakeDigest = (name: string) => `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;

/**
 * Runs the program with `config` (keys without the `flotilla:` prefix are given it) and returns
 * what it registered. `secretKeys` are the full keys Pulumi would hold encrypted.
 */
export async function runProgram(stack: string, config: Record<string, unknown>, secretKeys: string[] = [], list?: readonly AnyFeature[]): Promise<ProgramRun> {
  const resources: Registered[] = [];
  lastRegistered = resources;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          ...(args.id ? { readId: args.id } : {}),
          protect: protectedResources.has(`${args.type}::${args.name}`),
          ...(replacedOn.has(`${args.type}::${args.name}`) ? { replaceOnChanges: replacedOn.get(`${args.type}::${args.name}`) } : {}),
        });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "docker:index/image:Image") {
          const imageName = String(args.inputs.imageName);
          state.repoDigest = `${imageName.slice(0, imageName.lastIndexOf(":"))}@${fakeDigest(imageName)}`;
        }
        if (args.type === "pulumi-nodejs:dynamic/image:GoImage" && args.inputs.repository !== undefined) {
          // The go builder's image (components/image/goImage.ts).
          state.repoDigest = `${String(args.inputs.repository)}@${fakeDigest(`${String(args.inputs.repository)}:${String(args.inputs.tag)}`)}`;
        }
        if (args.type === "aws:ecr/repository:Repository") {
          state.repositoryUrl = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${String(args.inputs.name)}`;
          state.registryId = "123456789012";
        }
        if (args.type === "pulumi:pulumi:StackReference") {
          // A cluster stack's outputs, as `flotilla:scope: cluster` exports them.
          state.outputs = { kubeconfig: '{"apiVersion":"v1","kind":"Config"}', clusterName: "cluster", storageClass: "gp3", architecture: "arm64" };
          state.secretOutputNames = ["kubeconfig"];
        }
        if (args.type === "aws:s3/bucket:Bucket") {
          state.bucket = `${String(args.inputs.bucketPrefix)}20261206`;
          state.arn = `arn:aws:s3:::${String(state.bucket)}`;
        }
        if (args.type === "aws:kms/key:Key") {
          state.arn = `arn:aws:kms:eu-west-1:123456789012:key/${args.name}`;
        }
        if (args.type === "tls:index/privateKey:PrivateKey") {
          state.privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${args.name}\n-----END PRIVATE KEY-----\n`;
        }
        if (args.type === "tls:index/selfSignedCert:SelfSignedCert" || args.type === "tls:index/locallySignedCert:LocallySignedCert") {
          state.certPem = `-----BEGIN CERTIFICATE-----\n${args.name}\n-----END CERTIFICATE-----\n`;
        }
        if (args.type === "tls:index/certRequest:CertRequest") {
          state.certRequestPem = `-----BEGIN CERTIFICATE REQUEST-----\n${args.name}\n-----END CERTIFICATE REQUEST-----\n`;
        }
        if (args.type === "aws:iam/role:Role") {
          state.arn = `arn:aws:iam::123456789012:role/${args.name}`;
        }
        if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") {
          state.latestVersion = 1;
        }
        if (args.type === "aws:eks/cluster:Cluster") {
          state.endpoint = "https://EXAMPLE.gr7.eu-west-1.eks.amazonaws.com";
          state.certificateAuthority = { data: "Y2E=" };
          state.name = args.name;
        }
        if (args.type === "kubernetes:core/v1:Secret" && args.id) {
          // A read of a Secret another controller made: ECK's public CA certificate.
          state.data = { "ca.crt": Buffer.from("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n").toString("base64") };
        }
        if (args.type.startsWith("kubernetes:") && args.inputs.metadata && !args.inputs.metadata.name) {
          state.metadata = { ...args.inputs.metadata, name: `${args.name}-abc123` };
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        switch (args.token) {
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws" };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/ci", userId: "AIDAEXAMPLE" };
          case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return { proxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", userName: "AWS", password: "token" };
          case "docker:index/getRegistryImage:getRegistryImage":
            return { name: args.inputs.name, sha256Digest: fakeDigest(String(args.inputs.name)) };
          default:
            return args.inputs;
        }
      },
    },
    "flotilla",
    stack,
    false,
  );
  recordProtection();
  const raw = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key.includes(":") ? key : `flotilla:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
  );
  pulumi.runtime.setAllConfig(raw, secretKeys);
  const outputs = list === undefined ? await deploy(loadConfig(), projectDir) : await deploy(loadConfig(contractOf(list)), projectDir, list);
  const { values, secretOutputs } = await resolveOutputs(outputs);
  await (runtimeSettings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return {
    resources,
    outputs,
    values,
    secretOutputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
      }
      return found[0] as Registered;
    },
  };
}

async function resolveOutputs(outputs: Partial<StackOutputs>): Promise<{ values: Record<string, unknown>; secretOutputs: Set<string> }> {
  const values: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [key, value] of Object.entries(outputs)) {
    const output = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>;
    values[key] = await new Promise((resolve) => output.apply(resolve));
    if (await pulumi.isSecret(output)) {
      secretOutputs.add(key);
    }
  }
  return { values, secretOutputs };
}

/**
 * A Grafana password as `pulumi config set --secret` would hand it over. The stack files hold
 * none: scripts/dev-up sets one per machine, and an operator sets prod's.
 */
export const testGrafanaPassword = "test-grafana-password-4f1e";
/** The collector's password, likewise. */
export const testCollectorPassword = "test-collector-password-9c2d";
/** Jaeger's Elasticsearch password, likewise. */
export const testTracingStoragePassword = "test-tracing-password-7b3e";
/** Grafana's Elasticsearch password, likewise. */
export const testGrafanaReaderPassword = "test-grafana-reader-password-2a6c";

/** The config of `Pulumi.<stack>.yaml` with the secrets a user sets beside it, changed by `override`. */
export function stackConfigWithSecrets(stack: "dev" | "prod"): { values: Record<string, any>; secretKeys: string[] } {
  const { values } = stackConfig(stack);
  const monitoring = (values["flotilla:monitoring"] ?? {}) as Record<string, any>;
  values["flotilla:monitoring"] = { ...monitoring, grafana: { ...monitoring.grafana, adminPassword: testGrafanaPassword } };
  values["flotilla:logging"] = {
    ...(values["flotilla:logging"] as object),
    collectorPassword: testCollectorPassword,
    grafanaPassword: testGrafanaReaderPassword,
  };
  values["flotilla:tracing"] = { ...(values["flotilla:tracing"] as object), storagePassword: testTracingStoragePassword };
  return { values, secretKeys: ["flotilla:monitoring", "flotilla:logging", "flotilla:tracing"] };
}

/** Runs the program with the config of `Pulumi.<stack>.yaml` and its secrets, optionally changed by `override`. */
export async function runStack(stack: "dev" | "prod", override: (config: Record<string, any>) => void = () => {}): Promise<ProgramRun> {
  const { values, secretKeys } = stackConfigWithSecrets(stack);
  override(values);
  return runProgram(stack, values, secretKeys);
}
