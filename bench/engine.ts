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
import { timeline } from "./engineTrace";

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
  // Every top-level entry but the project and stack files (as scripts/e2e links them).
  for (const entry of fs.readdirSync(repo).filter((e) => !e.startsWith(".") && !/^Pulumi.*\.yaml$/.test(e))) {
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
  // A second up of its own, traced: the untraced one above is the figure; this one says where it goes.
  const secondTrace = path.join(dir, "second-up-trace.jsonl");
  pulumi("up", "--stack", stack, "--yes", "--skip-preview", "--suppress-progress", "--otel-traces", `file://${secondTrace}`);
  lines.push("  a second up again, by its own trace:", ...timeline(secondTrace));
  // FLOTILLA_BENCH_TRACES=DIR keeps both traces for a closer look (bench/engineTrace.ts reads them).
  const keep = process.env.FLOTILLA_BENCH_TRACES;
  if (keep) {
    fs.mkdirSync(keep, { recursive: true });
    for (const file of [traceFile, secondTrace]) fs.copyFileSync(file, path.join(keep, `${services}-${path.basename(file)}`));
  }
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
