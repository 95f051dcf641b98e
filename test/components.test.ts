import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { serviceEnv } from "../components/apps/goService";
import { charts as pinnedCharts } from "../components/charts/charts";
import { chartPostRenderer, postRender, withoutDescriptions } from "../components/charts/postRender";
import { terminationGracePeriod } from "../components/apps/podSpec";
import { subnetCidrs } from "../components/cluster/eksParts";
import { buildContextHash } from "../components/image/contextHash";
import { parseImageReference } from "../components/image/serviceImage";
import { podSecurityLabels } from "../components/namespace/appNamespace";
import { ecrLifecyclePolicy } from "../components/registry/registry";
import * as pulumi from "@pulumi/pulumi";
import * as api from "../components";
import { fakeDigest, projectDir, runStack } from "./harness";

function context(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-ctx-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("buildContextHash", () => {
  const files = { Dockerfile: "FROM scratch\n", ".dockerignore": "*.md\nignored/\n", "main.go": "package main\n", "README.md": "docs" };
  const settings = { dockerfile: "Dockerfile", args: { SERVICE: "users" }, platform: "linux/amd64" };

  it("is the same for the same sources in another directory", () => {
    expect(buildContextHash({ context: context(files), ...settings })).toBe(buildContextHash({ context: context(files), ...settings }));
  });

  it("ignores what .dockerignore excludes", () => {
    const base = buildContextHash({ context: context(files), ...settings });
    expect(buildContextHash({ context: context({ ...files, "README.md": "other docs", "ignored/x.go": "x" }), ...settings })).toBe(base);
  });

  it.each([
    ["a source file changes", { ...files, "main.go": "package main // changed\n" }, settings],
    ["a file is added", { ...files, "util.go": "package main\n" }, settings],
    ["a build argument changes", files, { ...settings, args: { SERVICE: "gateway" } }],
    ["the platform changes", files, { ...settings, platform: "linux/arm64" }],
  ])("changes when %s", (_name, changedFiles, changedSettings) => {
    expect(buildContextHash({ context: context(changedFiles), ...changedSettings })).not.toBe(buildContextHash({ context: context(files), ...settings }));
  });

  it("names the missing Dockerfile", () => {
    const dir = context({ "main.go": "package main\n" });
    expect(() => buildContextHash({ context: dir, ...settings })).toThrow(`Dockerfile not found: ${path.join(dir, "Dockerfile")}`);
  });
});

describe("parseImageReference", () => {
  it.each([
    ["localhost:5001/flotilla/users", { repository: "localhost:5001/flotilla/users" }],
    ["localhost:5001/flotilla/users:v1", { repository: "localhost:5001/flotilla/users", tag: "v1" }],
    [`ghcr.io/acme/users:v1@${fakeDigest("x")}`, { repository: "ghcr.io/acme/users", tag: "v1", digest: fakeDigest("x") }],
    [`users@${fakeDigest("x")}`, { repository: "users", digest: fakeDigest("x") }],
  ])("splits %s", (reference, expected) => {
    expect(parseImageReference(reference)).toEqual(expected);
  });
});

describe("prebuilt images", () => {
  const digest = fakeDigest("prebuilt");
  const withImage = (image: string) => (config: any) => (config["flotilla:services"].users.image = image);

  it("deploys a reference with a digest as given, building nothing", async () => {
    const run = await runStack("dev", withImage(`ghcr.io/acme/users:1.2@${digest}`));
    expect(run.one("kubernetes:apps/v1:Deployment", "users").inputs.spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/users@${digest}`);
    expect(run.ofType("pulumi-nodejs:dynamic/image:GoImage").map((i) => i.name)).toEqual(["gateway", "logsetup"]);
  });

  it("resolves a tag to the digest it names now", async () => {
    const run = await runStack("dev", withImage("ghcr.io/acme/users:1.2"));
    expect(run.one("kubernetes:apps/v1:Deployment", "users").inputs.spec.template.spec.containers[0].image).toBe(
      `ghcr.io/acme/users@${fakeDigest("ghcr.io/acme/users:1.2")}`,
    );
  });

  it("refuses a tag without a digest in prod", async () => {
    await expect(runStack("prod", withImage("ghcr.io/acme/users:1.2"))).rejects.toThrow("prod deploys images by digest");
  });
});

describe("pure helpers", () => {
  it("carves equal subnets out of the VPC range", () => {
    expect(subnetCidrs("10.0.0.0/16", 4)).toEqual(["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"]);
    expect(subnetCidrs("172.20.128.0/20", 2)).toEqual(["172.20.128.0/24", "172.20.129.0/24"]);
    expect(() => subnetCidrs("10.0.0.0/16", 17)).toThrow("cannot hold 17 subnets");
  });

  it("expires untagged images first, then all but the newest tagged ones", () => {
    expect(ecrLifecyclePolicy(30, 7)).toEqual({
      rules: [
        expect.objectContaining({ rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 } }),
        expect.objectContaining({
          rulePriority: 2,
          selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 30 },
        }),
      ],
    });
  });

  it("labels a namespace to enforce, audit and warn at one level", () => {
    expect(podSecurityLabels("restricted")).toEqual({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
  });

  it("gives the platform's variables precedence over a service's own", () => {
    const env = serviceEnv({
      serviceName: "gateway",
      port: 8080,
      opsPort: 8081,
      debugPort: 6060,
      drainSeconds: 5,
      shutdownTimeoutSeconds: 20,
      calls: [{ name: "user-store", port: 9090 }],
      environment: "prod",
      env: { LOG_LEVEL: "info" },
    });
    expect(env).toEqual({
      LOG_LEVEL: "info",
      USER_STORE_ADDR: "user-store:9090",
      SERVICE_NAME: "gateway",
      ENVIRONMENT: "prod",
      LISTEN_ADDR: ":8080",
      OPS_ADDR: ":8081",
      DEBUG_ADDR: "127.0.0.1:6060",
      DRAIN_PERIOD: "5s",
      SHUTDOWN_TIMEOUT: "20s",
    });
  });

  it("waits for drain and shutdown before killing a pod", () => {
    expect(terminationGracePeriod(5, 20)).toBe(30);
  });
});

describe("the package's entry point", () => {
  it("offers each feature's component, so another team's stack can compose them itself", () => {
    for (const component of [api.GoService, api.AppNamespace, api.Monitoring, api.Logging, api.PostgresCluster, api.Tracing]) {
      expect(component.prototype).toBeInstanceOf(pulumi.ComponentResource);
    }
  });
});

describe("the charts' post-renderer", () => {
  const crd = (schema: Record<string, unknown>) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: { group: "example.com", versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
  });
  /** Helm's stream: each template's documents after a separator and the template's name. */
  const stream = (...documents: string[]) => documents.map((document, i) => `---\n# Source: chart/templates/t${i}.yaml\n${document}`).join("\n");
  const objects = (manifests: string) => parseAllDocuments(manifests).map((document) => document.toJS() as Record<string, any>);

  it("adds the skipAwait annotation to a chart's Service, keeping its own; every other document stays byte for byte", () => {
    const deployment =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: grafana\n  labels: { on: yes }   # YAML 1.1 values, left unparsed\ndata:\n  replicas: '1'\n";
    const monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: grafana\n";
    const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: grafana\n  annotations:\n    prometheus.io/scrape: "true"\nspec:\n  type: ClusterIP\n';
    const out = postRender(stream(deployment, service, monitor));
    const [, , , , document, , after] = out.split(/^(---)$/m);
    expect(objects(document ?? "")).toEqual([
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "grafana", annotations: { "prometheus.io/scrape": "true", "pulumi.com/skipAwait": "true" } },
        spec: { type: "ClusterIP" },
      },
    ]);
    expect(out.startsWith(stream(deployment))).toBe(true);
    expect(after).toBe(`\n# Source: chart/templates/t2.yaml\n${monitor}`);
    // Nothing to rewrite: the stream comes back as it went in.
    expect(postRender(stream(deployment, monitor))).toBe(stream(deployment, monitor));
  });

  it("awaits a chart's Deployment by its rollout's counts, or by the controller's word when the chart sets none", () => {
    const counted = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: grafana\n  annotations: { checksum/config: abc }\nspec:\n  replicas: 2\n";
    const uncounted = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: operator\nspec:\n  template: {}\n";
    const [grafana, operator] = objects(postRender(stream(counted, uncounted)));
    expect(grafana?.metadata.annotations).toEqual({
      "checksum/config": "abc",
      "pulumi.com/waitFor": JSON.stringify(["updatedReplicas", "replicas", "availableReplicas"].map((f) => `jsonpath={.status.${f}}=2`)),
    });
    expect(grafana?.spec).toEqual({ replicas: 2 });
    expect(operator?.metadata.annotations).toEqual({
      "pulumi.com/waitFor": JSON.stringify(['jsonpath={.status.conditions[?(@.type=="Progressing")].reason}=NewReplicaSetAvailable']),
    });
  });

  it("drops the description of every schema node of a CRD, and nothing else", () => {
    const schema = {
      description: "A widget.",
      type: "object",
      required: ["spec"],
      properties: {
        // A field named "description" is a property, not the keyword: it stays, without its own prose.
        description: { description: "The widget's own description field.", type: "string", maxLength: 100 },
        spec: {
          description: "Its spec.",
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { ports: { description: "Ports.", type: "array", items: { description: "A port.", type: "integer", minimum: 1 } } },
          additionalProperties: { description: "Anything else.", type: "string" },
          anyOf: [{ description: "one", required: ["ports"] }],
        },
      },
    };
    expect(objects(postRender(stream(stringify(crd(schema)))))).toEqual([
      crd({
        type: "object",
        required: ["spec"],
        properties: {
          description: { type: "string", maxLength: 100 },
          spec: {
            type: "object",
            "x-kubernetes-preserve-unknown-fields": true,
            properties: { ports: { type: "array", items: { type: "integer", minimum: 1 } } },
            additionalProperties: { type: "string" },
            anyOf: [{ required: ["ports"] }],
          },
        },
      }),
    ]);
    // Without versions there is no schema to slim: the document stays as it was.
    const bare = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n";
    expect(postRender(stream(bare))).toBe(stream(bare));
  });

  const mirror = process.env.FLOTILLA_CHART_MIRROR ?? path.join(__dirname, "..", "..", "shared", "charts");
  const chartFiles = (ref: { chart: string; version: string }, pattern: RegExp): string[] => {
    const archive = path.join(mirror, `${ref.chart}-${ref.version}.tgz`);
    expect(fs.existsSync(archive), `${archive} in the chart mirror (FLOTILLA_CHART_MIRROR)`).toBe(true);
    const names = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" })
      .split("\n")
      .filter((name) => pattern.test(name));
    return names.map((name) => execFileSync("tar", ["-xzOf", archive, name], { maxBuffer: 64 * 2 ** 20 }).toString());
  };

  it("shrinks kube-prometheus-stack's largest CRD, from the chart mirror, by more than half", () => {
    const [listing] = chartFiles(pinnedCharts.kubePrometheusStack, /\/crds\/crd-prometheuses\.yaml$/);
    const before = JSON.stringify(parse(listing ?? "")).length;
    const [prometheuses] = objects(postRender(listing ?? ""));
    expect(JSON.stringify(prometheuses).length).toBeLessThan(before / 2);
    expect(withoutDescriptions(prometheuses?.spec.versions[0]?.schema.openAPIV3Schema)).toMatchObject({
      type: "object",
      properties: { spec: { type: "object" } },
    });
  });

  it("reads every CRD the pinned charts ship as YAML 1.2 reads it too: rewriting one as JSON changes no value", () => {
    let crds = 0;
    for (const ref of Object.values(pinnedCharts)) {
      // A chart's crds/ directory (its subcharts' too), which Helm installs as written, untemplated.
      for (const file of chartFiles(ref, /^[^/]+\/(charts\/[^/]+\/)?crds\/[^/]+\.yaml$/)) {
        for (const [i, part] of file.split(/^---[ \t]*$/m).entries()) {
          const [object] = objects(postRender(`---\n${part}`));
          if (object?.kind !== "CustomResourceDefinition") continue;
          crds++;
          const spec = parse(part, { version: "1.2" }) as { spec: { versions: { schema?: { openAPIV3Schema: unknown } }[] } };
          const versions = spec.spec.versions.map((v) =>
            v.schema ? { ...v, schema: { ...v.schema, openAPIV3Schema: withoutDescriptions(v.schema.openAPIV3Schema) } } : v,
          );
          expect({ ...spec, spec: { ...spec.spec, versions } }, `${ref.chart} CRD ${i}`).toEqual(object);
        }
      }
    }
    // kube-prometheus-stack's ten, CloudNativePG's and the ECK operator's ship as templates.
    expect(crds).toBeGreaterThanOrEqual(10);
  });

  it("is this file run by Node from the project's directory, the same path on every machine, and runs as the provider runs it", () => {
    const renderer = chartPostRenderer();
    expect(renderer).toEqual({ command: "node", args: ["--import", "tsx", path.join("components", "charts", "postRender.ts")] });
    const service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: grafana\n";
    // A chart's size: the provider's pipes (non-blocking, which a synchronous write met with EAGAIN)
    // are exercised by every `up` of the e2e; this runs the same file through Node's.
    const [prometheuses] = chartFiles(pinnedCharts.kubePrometheusStack, /\/crds\/crd-prometheuses\.yaml$/);
    const input = stream(service, prometheuses ?? "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    const output = execFileSync(renderer.command, renderer.args, { input, encoding: "utf8", cwd: process.cwd(), maxBuffer: 64 * 2 ** 20 });
    expect(output).toBe(postRender(input));
    expect(output).toContain('"pulumi.com/skipAwait":"true"');
  });

  it("leaves out the kinds a chart's caller names, of that group only, also when run as the provider runs it", () => {
    const issuer = "apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata:\n  name: selfsigned\nspec:\n  selfSigned: {}\n";
    const otherIssuer = "apiVersion: example.com/v1\nkind: Issuer\nmetadata:\n  name: mine\n";
    const account = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: barman-cloud\n";
    const input = stream(issuer, otherIssuer, account);
    const renderer = chartPostRenderer({ drop: ["cert-manager.io/Issuer"] });
    const output = execFileSync(renderer.command, renderer.args, { input, encoding: "utf8", cwd: process.cwd() });
    expect(output).toBe(postRender(input, { drop: ["cert-manager.io/Issuer"] }));
    expect(
      objects(output)
        .filter((o) => o !== null && o !== undefined)
        .map((o) => `${o.apiVersion} ${o.kind}`),
    ).toEqual(["example.com/v1 Issuer", "v1 ServiceAccount"]);
    // Without a drop, everything stays.
    expect(postRender(input)).toBe(input);
  });

  it("leaves out one object by name, and its kind's others stay (a CRD among the chart's)", () => {
    const crd = (plural: string) =>
      `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${plural}.monitoring.coreos.com\nspec:\n  group: monitoring.coreos.com\n  versions: []\n`;
    const input = stream(crd("thanosrulers"), crd("servicemonitors"), crd("scrapeconfigs"));
    const left = objects(
      postRender(input, {
        drop: [
          "apiextensions.k8s.io/CustomResourceDefinition/thanosrulers.monitoring.coreos.com",
          "apiextensions.k8s.io/CustomResourceDefinition/scrapeconfigs.monitoring.coreos.com",
        ],
      }),
    )
      .filter((o) => o !== null && o !== undefined)
      .map((o) => (o.metadata as { name: string }).name);
    expect(left).toEqual(["servicemonitors.monitoring.coreos.com"]);
  });

  it("is named by its absolute path to a program run inline outside its project's directory", () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-inline-"));
    const cwd = vi.spyOn(process, "cwd").mockReturnValue(elsewhere);
    try {
      expect(chartPostRenderer().args).toEqual(["--import", "tsx", path.join(projectDir, "components", "charts", "postRender.ts")]);
    } finally {
      cwd.mockRestore();
    }
  });

  it("is given to every chart of the stack", async () => {
    const run = await runStack("dev", (config) => {
      config["flotilla:services"].users.database = {};
    });
    const stackCharts = run.ofType("kubernetes:helm.sh/v4:Chart");
    expect(stackCharts.map((chart) => chart.inputs.chart).sort()).toEqual([
      "cloudnative-pg",
      "eck-operator",
      "fluent-bit",
      "jaeger",
      "kube-prometheus-stack",
      "opentelemetry-collector",
    ]);
    // The same program; the options are each chart's own (monitoring's: the CRDs it leaves out).
    const program = chartPostRenderer();
    for (const { inputs } of stackCharts) {
      expect({ ...inputs.postRenderer, args: inputs.postRenderer.args.slice(0, program.args.length) }, inputs.chart).toEqual(program);
    }
  });
});
