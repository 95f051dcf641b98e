/**
 * The engine at scale (bench/engine starts the cluster and runs this): for each N, a stack of the
 * project's own program with N services chained by `calls` (each calls the one before), monitoring
 * on, logging and tracing off, the services' pods on kwok's node; through the `pulumi` command
 * path: preview, up, a second up, an unchanged preview, destroy, each timed and printed beside
 * its target. The first up's own OpenTelemetry trace (`--otel-traces`) says where its time went:
 * the program's run, chart renders, the provider's checks and steps (awaits included), state
 * checkpoints, the slowest steps, and how many steps ran at once.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parse, stringify } from "yaml";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run bench/engine, which starts the cluster`);
  return value;
};
const pulumiBin = env("FLOTILLA_BENCH_PULUMI");
const work = env("FLOTILLA_BENCH_WORK");
const repo = path.join(__dirname, "..");
/** The targets (#24), for the 100-service stack; the 10-service one is printed for the slope. */
const targets: Record<string, number> = { preview: 10, up: 60, "second up": 10 };
/** A made-up image by digest: kwok's node never pulls it. */
const image = `127.0.0.1:5000/bench/service@sha256:${"0".repeat(64)}`;

const kwok = {
  nodeSelector: { type: "kwok" },
  tolerations: [{ key: env("FLOTILLA_BENCH_KWOK_TAINT"), value: "fake", effect: "NoSchedule" }],
};

/** One stack per N: the file backend keeps every project's stacks in one namespace. */
const stackName = (services: number) => `bench-${services}`;

/** The project as users run it: its own Pulumi.yaml, the sources linked, a stack file of its own. */
function project(services: number): { dir: string; pulumi: (...args: string[]) => string } {
  const dir = path.join(work, `project-${services}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of ["index.ts", "stack.ts", "config", "components", "features", "services", "package.json", "tsconfig.json", "node_modules"]) {
    fs.symlinkSync(path.join(repo, entry), path.join(dir, entry));
  }
  fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const pulumi = (...args: string[]) =>
    execFileSync(pulumiBin, ["--cwd", dir, "--non-interactive", ...args], { encoding: "utf8", maxBuffer: 512 * 2 ** 20, stdio: ["ignore", "pipe", "pipe"] });
  pulumi("stack", "init", stackName(services));
  const stackFile = path.join(dir, `Pulumi.${stackName(services)}.yaml`);
  const dev = parse(fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  const generated: Record<string, unknown> = {};
  for (let i = 0; i < services; i++) {
    generated[`svc-${i}`] = { image, calls: i > 0 ? [`svc-${i - 1}`] : [], scheduling: kwok };
  }
  const stack = parse(fs.readFileSync(stackFile, "utf8")) as Record<string, unknown>;
  stack.config = {
    ...dev.config,
    "flotilla:cluster": { type: "existing", kubeconfigPath: env("KUBECONFIG") },
    "flotilla:charts": { repository: env("FLOTILLA_BENCH_CHARTS") },
    "flotilla:services": generated,
    "flotilla:monitoring": { scheduling: kwok },
    "flotilla:logging": { enabled: false },
    "flotilla:tracing": { enabled: false },
  };
  fs.writeFileSync(stackFile, stringify(stack));
  pulumi("config", "set", "--stack", stackName(services), "--secret", "--path", "monitoring.grafana.adminPassword", randomBytes(18).toString("base64"));
  return { dir, pulumi };
}

interface Span {
  readonly service: string;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** The resource a provider call is about, from the request it logs. */
  readonly urn?: string;
}

/** The spans of an OpenTelemetry trace file as `pulumi --otel-traces file://…` writes it (OTLP JSON, a batch a line). */
function spans(file: string): Span[] {
  type Attribute = { key: string; value: { stringValue?: string } };
  type Batch = {
    resourceSpans: {
      resource: { attributes: Attribute[] };
      scopeSpans: { spans: { name: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes?: Attribute[] }[] }[];
    }[];
  };
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((line) =>
      (JSON.parse(line) as Batch).resourceSpans.flatMap((rs) => {
        const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "?";
        return rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((span) => {
            const message = span.attributes?.find((a) => a.key === "Msg")?.value.stringValue ?? "";
            return {
              service,
              name: span.name.replace(/^\//, ""),
              start: Number(BigInt(span.startTimeUnixNano) / 1000n) / 1e6,
              end: Number(BigInt(span.endTimeUnixNano) / 1000n) / 1e6,
              urn: /urn:pulumi:[^"\\]+/.exec(message)?.[0],
            };
          }),
        );
      }),
    );
}

/** Where an up's time went, from the engine's own trace: phases, the slowest steps, parallelism. */
function timeline(traceFile: string): string[] {
  const all = spans(traceFile);
  const seconds = (s: Span) => s.end - s.start;
  const named = (name: string, service = "pulumi-resource-provider") => all.filter((s) => s.service === service && s.name === name);
  const phase = (label: string, list: Span[]) => {
    const total = list.reduce((sum, s) => sum + seconds(s), 0);
    const longest = Math.max(0, ...list.map(seconds));
    return `    ${label.padEnd(46)} ${String(list.length).padStart(5)} calls, ${total.toFixed(1).padStart(7)} s summed, longest ${longest.toFixed(1)} s`;
  };
  const program = named("pulumirpc.LanguageRuntime/Run", "pulumi-language-host")[0];
  const wall = named("pulumi", "pulumi-cli")[0];
  const steps = ["Create", "Update", "Delete"].flatMap((verb) => named(`pulumirpc.ResourceProvider/${verb}`));
  // Provider steps in flight at once, sampled every 100 ms: how much parallelism the graph allows.
  let widest = 0;
  if (steps.length > 0) {
    const first = Math.min(...steps.map((s) => s.start));
    const last = Math.max(...steps.map((s) => s.end));
    for (let t = first; t <= last; t += 0.1) widest = Math.max(widest, steps.filter((s) => s.start <= t && s.end >= t).length);
  }
  const short = (urn?: string) => (urn ? `${urn.split("::")[2]?.split("$").slice(-1)[0]} ${urn.split("::")[3]}` : "?");
  return [
    `  whole command ${wall ? seconds(wall).toFixed(1) : "?"} s; the program ran ${program ? seconds(program).toFixed(1) : "?"} s of it; at most ${widest} provider steps at once`,
    "  by phase (the engine's trace; summed time overlaps, as steps run in parallel):",
    phase("chart renders and their children (Construct)", named("pulumirpc.ResourceProvider/Construct")),
    phase("provider Check", named("pulumirpc.ResourceProvider/Check")),
    phase("provider Diff", named("pulumirpc.ResourceProvider/Diff")),
    phase("provider Create/Update/Delete, awaits included", steps),
    // A chart's Construct returns when its children are registered, and a registration returns
    // once the child is created: its span holds the children's creation, not the render alone.
    phase(
      "  of which a chart's children",
      steps.filter((s) => s.urn?.includes("helm.sh/v4:Chart$")),
    ),
    phase("program Invoke (lookups, chart templates)", named("pulumirpc.ResourceMonitor/Invoke", "pulumi-language-host")),
    phase("state checkpoints written (file backend)", named("gocloud.dev/blob.NewWriter", "pulumi-cli")),
    "  slowest provider steps:",
    ...[...steps]
      .sort((a, b) => seconds(b) - seconds(a))
      .slice(0, 8)
      .map((s) => `    ${seconds(s).toFixed(1).padStart(6)} s  ${s.name.split("/")[1]} ${short(s.urn)}`),
  ];
}

function run(services: number): void {
  const { dir, pulumi } = project(services);
  const stack = stackName(services);
  // Each line is printed as soon as it is measured: an N of 100 takes many minutes.
  const lines = { push: (...text: string[]) => console.log(text.join("\n")) };
  lines.push(`${services} services chained by calls, monitoring on, engine parallelism ${process.env.PULUMI_PARALLEL ?? "the CLI's default (4 per CPU)"}:`);
  const timed = (step: string, ...args: string[]): { seconds: number; output: string } => {
    const start = performance.now();
    const output = pulumi(...args);
    const seconds = (performance.now() - start) / 1000;
    const target = services === 100 ? targets[step] : undefined;
    const verdict = target === undefined ? "" : `  (target <= ${target} s: ${seconds <= target ? "met" : "NOT met"})`;
    lines.push(`  ${step.padEnd(18)} ${seconds.toFixed(1).padStart(6)} s${verdict}`);
    return { seconds, output };
  };
  const summary = (json: string) => JSON.stringify((JSON.parse(json) as { changeSummary: unknown }).changeSummary);
  const firstPreview = timed("preview", "preview", "--stack", stack, "--json");
  lines.push(`    planned ${summary(firstPreview.output)}`);
  const traceFile = path.join(dir, "up-trace.jsonl");
  timed("up", "up", "--stack", stack, "--yes", "--skip-preview", "--suppress-progress", "--otel-traces", `file://${traceFile}`);
  lines.push("  the first up, by its own trace (which it writes as it goes, at some cost of its own):", ...timeline(traceFile));
  timed("second up", "up", "--stack", stack, "--yes", "--skip-preview", "--suppress-progress");
  const second = JSON.parse(pulumi("stack", "history", "--stack", stack, "--json")) as { resourceChanges: Record<string, number> }[];
  lines.push(`    changes ${JSON.stringify(second[0]?.resourceChanges)} (must be only "same")`);
  const unchanged = timed("unchanged preview", "preview", "--stack", stack, "--json");
  lines.push(`    planned ${summary(unchanged.output)}`);
  timed("destroy", "destroy", "--stack", stack, "--yes", "--skip-preview", "--suppress-progress");
  pulumi("stack", "rm", "--stack", stack, "--yes");
}

const counts = process.argv.slice(2).map(Number);
if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) {
  console.error("usage: bench/engine [N ...] with 1 <= N <= 500");
  process.exit(2);
}
for (const services of counts) {
  run(services);
}
