/**
 * Mistakes users really make, each refused before any resource is registered with a message that
 * names the key and says what is allowed, run against both stack files; and edge cases that must
 * be accepted.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { editDistance } from "../config/load";
import { bytesProblem, cpuProblem, parseQuantity } from "../components/quantities";
import { ConfigError } from "../config/errors";
import { registeredByLastRun, runProgram, runStack, stackConfigWithSecrets } from "./harness";
import { secretSignatureKey } from "./manifests";

type Change = (config: Record<string, any>) => void;
const services = (config: Record<string, any>) => config["flotilla:services"];

const refused: [string, Change, RegExp][] = [
  [
    "the cluster's own namespace",
    (c) => (c["flotilla:namespace"] = "kube-system"),
    /flotilla:namespace: must not be a namespace the cluster or the stack's features own/,
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
    "the go builder with a Dockerfile of the service's own and a build argument",
    (c) => {
      c["flotilla:images"] = { builder: "go" };
      services(c).gateway.build = { dockerfile: "Dockerfile.alpine", args: { RUNTIME_IMAGE: "alpine:3" } };
    },
    /flotilla:services\.gateway\.build: images\.builder go builds the Go main package without a Dockerfile, so its dockerfile Dockerfile\.alpine, argument RUNTIME_IMAGE would not apply: set images\.builder to buildkit/,
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
        // Prod's database backups need an EKS cluster the stack knows; off, as they must be here.
        "flotilla:databases": { backups: { enabled: false } },
      }),
    /flotilla:cluster\.kubeconfigPath: \/nonexistent\/kubeconfig is not a file/,
  ],
  ["an unknown top-level key", (c) => (c["flotilla:servics"] = {}), /flotilla:servics: unknown key; allowed here: environment, namespace, cluster/],
  ["an unknown service field", (c) => (services(c).gateway.portt = 1), /flotilla:services\.gateway\.portt: unknown key; allowed here: main, build, image/],
  ["an unknown environment", (c) => (c["flotilla:environment"] = "qa"), /flotilla:environment: must be one of: dev, staging, prod; given "qa"/],
  ["a missing environment", (c) => delete c["flotilla:environment"], /flotilla:environment: is required, must be one of: dev, staging, prod/],
  [
    "an unknown cluster type",
    (c) => (c["flotilla:cluster"] = { type: "kind" }),
    /flotilla:cluster\.type: must be one of: existing, eks, stackReference; given "kind"/,
  ],
  [
    "autoscaling max below min",
    (c) => (services(c).gateway.autoscaling = { min: 4, max: 2 }),
    /flotilla:services\.gateway\.autoscaling\.max: min must not exceed max/,
  ],
  ["autoscaling max of zero", (c) => (services(c).gateway.autoscaling = { max: 0 }), /flotilla:services\.gateway\.autoscaling\.max: must be >= 1; given 0/],
  [
    "replicas and autoscaling together",
    (c) => Object.assign(services(c).gateway, { replicas: 2, autoscaling: {} }),
    /flotilla:services\.gateway\.replicas: set replicas or autoscaling, not both/,
  ],
  ["a privileged port", (c) => (services(c).gateway.port = 80), /flotilla:services\.gateway\.port: an unprivileged port, 1024 to 65535; given 80/],
  ["a port as text", (c) => (services(c).gateway.port = "8080"), /flotilla:services\.gateway\.port: must be a number; given "8080"/],
  ["two ports the same", (c) => (services(c).gateway.opsPort = 8080), /flotilla:services\.gateway\.opsPort: must differ from port \(8080\)/],
  [
    "a malformed CPU quantity",
    (c) => (services(c).users.resources = { limits: { cpu: "1 core" } }),
    /flotilla:services\.users\.resources\.limits\.cpu: a CPU quantity such as 100m, 0\.5 or 2/,
  ],
  [
    "a request above its limit",
    (c) => (services(c).users.resources = { requests: { memory: "1Gi" } }),
    /flotilla:services\.users\.resources\.requests\.memory: must not exceed limits\.memory \(128Mi\)/,
  ],
  [
    "a call to an unknown service",
    (c) => (services(c).gateway.calls = ["userz"]),
    /flotilla:services\.gateway\.calls\[0\]: must name a configured service \(users, gateway\); given "userz"/,
  ],
  ["a service calling itself", (c) => (services(c).gateway.calls = ["gateway"]), /flotilla:services\.gateway\.calls\[0\]: a service does not call itself/],
  ["a service name that is no DNS label", (c) => (services(c).Users_V2 = {}), /flotilla:services\.Users_V2: the key must be a DNS label/],
  ["a reserved env name", (c) => (services(c).gateway.env = { LISTEN_ADDR: ":1" }), /flotilla:services\.gateway\.env\.LISTEN_ADDR: is set by the platform/],
  [
    "a lower-case env name",
    (c) => (services(c).gateway.env = { log_level: "x" }),
    /flotilla:services\.gateway\.env\.log_level: the key must be an environment variable name in upper case/,
  ],
  ["no services", (c) => (c["flotilla:services"] = {}), /flotilla:services: at least one service/],
  [
    "a malformed registry server",
    (c) => (c["flotilla:registry"] = { type: "external", server: "http://localhost:5001" }),
    /flotilla:registry\.server: a registry address such as localhost:5001/,
  ],
  [
    "ecr without eks",
    (c) => Object.assign(c, { "flotilla:registry": { type: "ecr" }, "flotilla:cluster": { type: "existing" } }),
    /flotilla:registry\.type: ecr needs cluster\.type eks/,
  ],
  [
    "an Elasticsearch heap above half its memory limit",
    (c) => (c["flotilla:logging"] = { ...c["flotilla:logging"], elasticsearch: { heap: "1g" } }),
    /flotilla:logging\.elasticsearch\.heap: must be at most half of resources\.limits\.memory \(1Gi\)/,
  ],
  [
    "logging without a collector password",
    (c) => delete c["flotilla:logging"].collectorPassword,
    /flotilla:logging\.collectorPassword: is required while logging is enabled/,
  ],
  [
    "monitoring without a Grafana password",
    (c) => delete c["flotilla:monitoring"].grafana,
    /flotilla:monitoring\.grafana\.adminPassword: is required while monitoring is enabled/,
  ],
  [
    "a malformed retention",
    (c) => (c["flotilla:monitoring"] = { retention: "15 days" }),
    /flotilla:monitoring\.retention: a Prometheus duration: units y, w, d, h, m, s, ms, each at most once and largest first, such as 30s, 1h30m or 15d; given "15 days"/,
  ],
  [
    "eks nodes outside their bounds",
    (c) => (c["flotilla:cluster"] = { type: "eks", nodes: { min: 3, desired: 2, max: 4 } }),
    /flotilla:cluster\.nodes\.desired: must satisfy min <= desired <= max/,
  ],
  ["a malformed VPC range", (c) => (c["flotilla:cluster"] = { type: "eks", vpcCidr: "10.0.0.0/33" }), /flotilla:cluster\.vpcCidr: an IPv4 CIDR/],
  [
    "a prebuilt image without digest in prod",
    (c) => ((c["flotilla:environment"] = "prod"), (services(c).gateway.image = "ghcr.io/acme/gateway:1.2")),
    /flotilla:services\.gateway\.image: prod deploys images by digest/,
  ],
  ["a malformed image reference", (c) => (services(c).gateway.image = "Gateway:latest!"), /flotilla:services\.gateway\.image: an image reference/],
  [
    "a password in plain text",
    (c) => (c["flotilla:registry"].password = "hunter2"),
    /flotilla:registry\.password: must be set as a secret: pulumi config set --secret --path registry\.password/,
  ],
  ["a kubeconfig in plain text", (c) => (c["flotilla:cluster"].kubeconfig = "apiVersion: v1"), /flotilla:cluster\.kubeconfig: must be set as a secret/],
  [
    "a secretEnv value in plain text",
    (c) => (services(c).gateway.secretEnv = { STRIPE_KEY: "sk_live_abc" }),
    /flotilla:services\.gateway\.secretEnv\.STRIPE_KEY: must be set as a secret: pulumi config set --secret --path services\.gateway\.secretEnv\.STRIPE_KEY/,
  ],
  [
    "a credential-looking name in plain env",
    (c) => (services(c).gateway.env.PAYMENT_API_KEY = "abc"),
    /flotilla:services\.gateway\.env\.PAYMENT_API_KEY: looks like a credential.*move it to secretEnv, set as a secret: pulumi config set --secret --path services\.gateway\.secretEnv\.PAYMENT_API_KEY/,
  ],
  ["a password in plain env", (c) => (services(c).users.env.DB_PASSWORD = "hunter2"), /flotilla:services\.users\.env\.DB_PASSWORD: looks like a credential/],
  ["a token in plain env", (c) => (services(c).users.env.GITHUB_TOKEN = "x"), /flotilla:services\.users\.env\.GITHUB_TOKEN: looks like a credential/],
  [
    "a credential-looking value under an innocent name",
    (c) => (services(c).users.env.PAYMENTS = "sk_live_0123456789abcdef"),
    /flotilla:services\.users\.env\.PAYMENTS: looks like a credential/,
  ],
  [
    "a private key in plain env",
    (c) => (services(c).users.env.TLS = "-----BEGIN RSA PRIVATE KEY-----"),
    /flotilla:services\.users\.env\.TLS: looks like a credential/,
  ],
  [
    "a platform variable in secretEnv",
    (c) => (services(c).gateway.secretEnv = { LISTEN_ADDR: ":1" }),
    /flotilla:services\.gateway\.secretEnv\.LISTEN_ADDR: is set by the platform/,
  ],
  [
    "a callee's address in secretEnv",
    (c) => (services(c).gateway.secretEnv = { USERS_ADDR: "x" }),
    /flotilla:services\.gateway\.secretEnv\.USERS_ADDR: is set from calls \(the address of users\)/,
  ],
  [
    "a name in both env and secretEnv",
    (c) => {
      services(c).users.env.FEATURE_FLAGS = "a";
      services(c).users.secretEnv = { FEATURE_FLAGS: "b" };
    },
    /flotilla:services\.users\.env\.FEATURE_FLAGS: is in secretEnv too; set it once/,
  ],
  [
    "an env map larger than a ConfigMap holds",
    (c) => (services(c).users.env = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`BLOB_${i}`, "x".repeat(250_000)]))),
    /flotilla:services\.users\.env: holds 1250030 bytes; a ConfigMap holds at most 1 MiB \(1048576 bytes\)/,
  ],
  ["the kube-public namespace", (c) => (c["flotilla:namespace"] = "kube-public"), /flotilla:namespace: must not be a namespace .*kube-public/],
  ["the kube-node-lease namespace", (c) => (c["flotilla:namespace"] = "kube-node-lease"), /flotilla:namespace: must not be/],
  ["the ECK operator's namespace", (c) => (c["flotilla:namespace"] = "elastic-system"), /flotilla:namespace: must not be/],
  ["the node agents' namespace", (c) => (c["flotilla:namespace"] = "logging-agent"), /flotilla:namespace: must not be/],
  ["a namespace that is no DNS label", (c) => (c["flotilla:namespace"] = "My_Apps"), /flotilla:namespace: a DNS label/],
  ["drain longer than a minute", (c) => (services(c).users.drainSeconds = 61), /flotilla:services\.users\.drainSeconds: must be <= 60; given 61/],
  [
    "a shutdown timeout of zero",
    (c) => (services(c).users.shutdownTimeoutSeconds = 0),
    /flotilla:services\.users\.shutdownTimeoutSeconds: must be >= 1; given 0/,
  ],
  ["an unknown protocol", (c) => (services(c).users.protocol = "tcp"), /flotilla:services\.users\.protocol: must be one of: http, grpc; given "tcp"/],
  [
    "a main package outside cmd",
    (c) => (services(c).users.main = "./internal/users"),
    /flotilla:services\.users\.main: a main package path such as \.\/cmd\/users/,
  ],
  [
    "a zero availability objective",
    (c) => (services(c).users.availabilityObjectivePercent = 0),
    /flotilla:services\.users\.availabilityObjectivePercent: must be >= 50/,
  ],
  [
    "an unknown image platform",
    (c) => (c["flotilla:images"] = { platform: "linux/riscv64" }),
    /flotilla:images\.platform: must be one of: linux\/amd64, linux\/arm64/,
  ],
  ["an unknown builder", (c) => (c["flotilla:images"] = { builder: "kaniko" }), /flotilla:images\.builder: must be one of: buildkit, classic, go/],
  ["a chart repository that is no URL", (c) => (c["flotilla:charts"] = { repository: "charts.internal" }), /flotilla:charts\.repository: /],
  ["a zero retention of logs", (c) => (c["flotilla:logging"].retentionDays = 0), /flotilla:logging\.retentionDays: must be >= 1; given 0/],
  [
    "a request no node of the group can hold",
    (c) => {
      c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["m7i.large", "m6i.large"] } };
      services(c).users.resources = { requests: { memory: "12Gi" }, limits: { memory: "12Gi" } };
    },
    /flotilla:services\.users\.resources\.requests\.memory: must fit on a node: the biggest of cluster\.nodes\.instanceTypes \(m7i\.large\) allocates 7518Mi to pods/,
  ],
  [
    "more CPU than a node has",
    (c) => {
      c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["c7i.xlarge"] } };
      services(c).users.resources = { requests: { cpu: "4" }, limits: { cpu: "4" } };
    },
    /flotilla:services\.users\.resources\.requests\.cpu: must fit on a node: .* allocates 3\.92 CPU to pods/,
  ],
  ["an unknown scope", (c) => (c["flotilla:scope"] = "apps"), /flotilla:scope: must be one of: all, cluster; given "apps"/],
  [
    "a toleration value with operator Exists",
    (c) => (c["flotilla:services"].users.scheduling = { tolerations: [{ key: "dedicated", operator: "Exists", value: "x" }] }),
    /flotilla:services\.users\.scheduling\.tolerations\[0\]\.value: must be unset with operator Exists/,
  ],
  [
    "an Equal toleration without a key",
    (c) => (c["flotilla:logging"] = { ...c["flotilla:logging"], scheduling: { tolerations: [{ value: "x" }] } }),
    /flotilla:logging\.scheduling\.tolerations\[0\]\.key: is required with operator Equal/,
  ],
  [
    "tolerationSeconds without NoExecute",
    (c) => (c["flotilla:monitoring"] = { ...c["flotilla:monitoring"], scheduling: { tolerations: [{ key: "k", tolerationSeconds: 30 }] } }),
    /flotilla:monitoring\.scheduling\.tolerations\[0\]\.tolerationSeconds: applies only with effect NoExecute/,
  ],
  [
    "a node label key with a space",
    (c) => (c["flotilla:services"].gateway.scheduling = { nodeSelector: { "my pool": "a" } }),
    /flotilla:services\.gateway\.scheduling\.nodeSelector\.my pool: .*a label key such as kubernetes\.io\/arch or pool/,
  ],
  [
    "a node label value over 63 characters",
    (c) => (c["flotilla:services"].gateway.scheduling = { nodeSelector: { pool: "a".repeat(64) } }),
    /flotilla:services\.gateway\.scheduling\.nodeSelector\.pool: a label value: at most 63/,
  ],
  [
    "an unknown scheduling key",
    (c) => (c["flotilla:services"].gateway.scheduling = { affinity: {} }),
    /flotilla:services\.gateway\.scheduling: unknown key "affinity"|flotilla:services\.gateway\.scheduling.*affinity/,
  ],
  [
    "a zero scrape interval, which Prometheus' operator would pass on",
    (c) => (c["flotilla:monitoring"].scrapeInterval = "0"),
    /flotilla:monitoring\.scrapeInterval: must be above 0 and at most 2m30s: the alerts' shortest window \(5m\) needs two samples; given "0"/,
  ],
  [
    "a scrape interval as long as the alerts' window",
    (c) => (c["flotilla:monitoring"].scrapeInterval = "5m"),
    /flotilla:monitoring\.scrapeInterval: must be above 0 and at most 2m30s/,
  ],
  [
    "duration units out of order",
    (c) => (c["flotilla:monitoring"].scrapeInterval = "30s1m"),
    /flotilla:monitoring\.scrapeInterval: a Prometheus duration: units y, w, d, h, m, s, ms, each at most once and largest first/,
  ],
  [
    "a retention shorter than the slow burn-rate alert reads",
    (c) => (c["flotilla:monitoring"].retention = "1d"),
    /flotilla:monitoring\.retention: must be at least 3d: the slowest burn-rate alert reads that far back; given "1d"/,
  ],
  [
    "Prometheus on nodes too small for it",
    (c) => {
      c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["t3.micro"] } };
      c["flotilla:logging"] = { enabled: false };
      c["flotilla:tracing"] = { enabled: false };
    },
    /flotilla:monitoring\.prometheus\.resources\.requests\.memory: must fit on a node: the biggest of cluster\.nodes\.instanceTypes \(t3\.micro\) allocates 350Mi to pods, every node's DaemonSets take 24Mi of it; 326Mi is left for one pod, so Prometheus \(with its config reloader\) would stay Pending/,
  ],
  [
    "Elasticsearch on nodes too small for it",
    (c) => {
      c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["t3.micro"] } };
      c["flotilla:monitoring"] = { enabled: false };
    },
    /flotilla:logging\.elasticsearch\.resources\.requests\.memory: must fit on a node: .*DaemonSets take 48Mi of it; 302Mi is left for one pod, so Elasticsearch would stay Pending/,
  ],
  [
    "Kibana, of a fixed size, on nodes too small for it",
    (c) => {
      c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["t3.micro"] } };
      c["flotilla:monitoring"] = { enabled: false };
    },
    /flotilla:logging\.kibana\.enabled: Kibana requests 768Mi, a fixed size, and must fit on a node: .*t3\.micro.*; 302Mi is left for one pod\. Choose a larger instance type/,
  ],
  [
    "a service that fits a node alone but not beside the DaemonSets",
    (c) => {
      c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["m7i.large"] } };
      services(c).users.resources = { requests: { memory: "7447Mi" }, limits: { memory: "7447Mi" } };
    },
    /flotilla:services\.users\.resources\.requests\.memory: must fit on a node: .*allocates 7518Mi to pods, every node's DaemonSets take 72Mi of it; 7446Mi is left for one pod, so service users would stay Pending/,
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
    [
      "one replica, without autoscaling",
      (c) => {
        delete services(c).users.autoscaling;
        services(c).users.replicas = 1;
      },
    ],
    ["a namespace that merely contains a reserved word", (c) => (c["flotilla:namespace"] = "my-logging")],
    [
      "an extra build argument, with a Docker builder",
      (c) => {
        c["flotilla:images"] = { builder: "buildkit" };
        services(c).gateway.build = { args: { GO_IMAGE: "registry.internal/golang:1.26" } };
      },
    ],
    ["compound Prometheus durations", (c) => Object.assign(c["flotilla:monitoring"], { scrapeInterval: "1m30s", retention: "2w3d" })],
    ["the scrape interval and the retention at their limits", (c) => Object.assign(c["flotilla:monitoring"], { scrapeInterval: "2m30s", retention: "3d" })],
    [
      "a service filling a node exactly, beside the DaemonSets",
      (c) => {
        c["flotilla:cluster"] = { type: "eks", nodes: { instanceTypes: ["m7i.large"] } };
        services(c).users.resources = { requests: { memory: "7446Mi" }, limits: { memory: "7446Mi" } };
      },
    ],
    [
      "monitoring, logging and tracing all off, without passwords",
      (c) => Object.assign(c, { "flotilla:monitoring": { enabled: false }, "flotilla:logging": { enabled: false }, "flotilla:tracing": { enabled: false } }),
    ],
  ];

  describe.each(["dev", "prod"] as const)("on %s", (stack) => {
    it.each(accepted)("accepts %s", async (_name, change) => {
      const run = await runStack(stack, change);
      expect(run.ofType("kubernetes:apps/v1:Deployment").length).toBeGreaterThanOrEqual(2);
    });
  });

  it("deploys secretEnv set as a secret as a Secret the pods read, never in the ConfigMap", async () => {
    const { values, secretKeys } = stackConfigWithSecrets("dev");
    values["flotilla:services"].gateway.secretEnv = { STRIPE_KEY: "sk_live_test_value_1234" };
    const run = await runProgram("dev", values, [...secretKeys, "flotilla:services"]);
    const secret = run.one("kubernetes:core/v1:Secret", "gateway-secret-env").inputs;
    expect(secret.immutable).toBe(true);
    // Pulumi's mocks see a secret as an object carrying the secret signature.
    expect(Object.keys(secret.stringData)).toContain(secretSignatureKey);
    const configMap = run.one("kubernetes:core/v1:ConfigMap", "gateway-env").inputs.data;
    expect(JSON.stringify(configMap)).not.toContain("sk_live");
    const container = run.one("kubernetes:apps/v1:Deployment", "gateway").inputs.spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: expect.any(String) } }, { secretRef: { name: secret.metadata?.name ?? expect.anything() } }]);
    expect(JSON.stringify(run.values)).not.toContain("sk_live");
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
