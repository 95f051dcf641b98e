/**
 * Where a `pulumi` command spent its time, from its own OpenTelemetry trace (`--otel-traces
 * file://…`): the program's run, each chart's Construct, the provider's checks, diffs and steps
 * (awaits included), the program's invokes, state checkpoints, the slowest steps, and how many ran
 * at once. bench/engine prints it for its ups; `npx tsx bench/engineTrace.ts FILE` for any trace.
 */
import * as fs from "node:fs";

interface Span {
  readonly service: string;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** The resource a provider call is about, from the request it logs. */
  readonly urn?: string;
  /** What the call logs: its request, then its response (a program's registration: its URN). */
  readonly messages: readonly string[];
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
            const messages = (span.attributes ?? []).filter((a) => a.key === "Msg").map((a) => a.value.stringValue ?? "");
            const message = messages[0] ?? "";
            return {
              service,
              name: span.name.replace(/^\//, ""),
              start: Number(BigInt(span.startTimeUnixNano) / 1000n) / 1e6,
              end: Number(BigInt(span.endTimeUnixNano) / 1000n) / 1e6,
              urn: /urn:pulumi:[^"\\]+/.exec(message)?.[0],
              messages,
            };
          }),
        );
      }),
    );
}

/** One registration of the program (RegisterResource or ReadResource), with what it named as its dependencies. */
interface Registration {
  readonly urn: string;
  readonly dependencies: readonly string[];
  readonly start: number;
  readonly end: number;
}

function registrations(all: readonly Span[]): Registration[] {
  return all
    .filter((s) => s.service === "pulumi-language-host" && /^pulumirpc\.ResourceMonitor\/(Register|Read)Resource$/.test(s.name))
    .flatMap((s) => {
      const [request = "", response = ""] = s.messages;
      const urn = /urn:\\?"(urn:pulumi:[^"\\]+)/.exec(response)?.[1];
      const dependencies = [...request.matchAll(/dependencies:\\?"(urn:pulumi:[^"\\]+)/g)].map((m) => m[1] as string);
      return urn ? [{ urn, dependencies, start: s.start, end: s.end }] : [];
    });
}

/**
 * The chain the last registration to finish waited on: from it back through the dependency that
 * finished last before it began, and so on, while one did. Its first link began when the program
 * sent it; every later one, when the link before it finished. What is on it sets the run's end.
 */
export function criticalPath(regs: readonly Registration[]): Registration[] {
  const byUrn = new Map(regs.map((r) => [r.urn, r]));
  let current = regs.reduce<Registration | undefined>((last, r) => (last === undefined || r.end > last.end ? r : last), undefined);
  const chain: Registration[] = [];
  while (current) {
    chain.unshift(current);
    const start = current.start;
    const waitedFor: Registration | undefined = current.dependencies
      .map((urn) => byUrn.get(urn))
      .filter((d): d is Registration => d !== undefined && d.end <= start + 0.05 && d.end >= start - 0.25)
      .sort((a, b) => b.end - a.end)[0];
    current = waitedFor;
  }
  return chain;
}

/** Where an up's time went, from the engine's own trace: phases, the slowest steps, parallelism. */
export function timeline(traceFile: string): string[] {
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
  const constructs = named("pulumirpc.ResourceProvider/Construct");
  const short = (urn?: string) => (urn ? `${urn.split("::")[2]?.split("$").slice(-1)[0]} ${urn.split("::")[3]}` : "?");
  const origin = Math.min(...all.map((s) => s.start));
  // What the command did before the chain began (the CLI, plugins and language host starting, the
  // state read, the providers configured): the longest spans that ended by then.
  const chain = criticalPath(registrations(all));
  const chainStart = chain[0]?.start ?? origin;
  const early = all
    .filter((s) => s.end <= chainStart)
    .sort((a, b) => seconds(b) - seconds(a))
    .slice(0, 10);
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
    phase("program Invoke (lookups, a chart's children rehydrated)", named("pulumirpc.ResourceMonitor/Invoke", "pulumi-language-host")),
    phase("state checkpoints written (file backend)", named("gocloud.dev/blob.NewWriter", "pulumi-cli")),
    "  each chart's Construct (render, and its children's registration and steps):",
    ...constructs.map((s) => `    ${seconds(s).toFixed(1).padStart(6)} s  ${short(s.urn)}`),
    `  before the chain below began (${(chainStart - origin).toFixed(1)} s from the command's start), the longest spans:`,
    ...early.map(
      (s) =>
        `    ${(s.start - origin).toFixed(1).padStart(5)}-${(s.end - origin).toFixed(1).padEnd(5)} ${s.service} ${s.name}${s.urn ? ` ${short(s.urn)}` : ""}`,
    ),
    "  the chain the last registration waited on (seconds from the command's start; each link began as the one before it ended):",
    ...chain.map((r) => `    ${(r.start - origin).toFixed(1).padStart(5)}-${(r.end - origin).toFixed(1).padEnd(5)} ${short(r.urn)}`),
    "  slowest provider steps:",
    ...[...steps]
      .sort((a, b) => seconds(b) - seconds(a))
      .slice(0, 8)
      .map((s) => `    ${seconds(s).toFixed(1).padStart(6)} s  ${s.name.split("/")[1]} ${short(s.urn)}`),
  ];
}

if (require.main === module) {
  const [file] = process.argv.slice(2);
  if (!file) {
    console.error("usage: npx tsx bench/engineTrace.ts TRACE_FILE");
    process.exit(2);
  }
  console.log(timeline(file).join("\n"));
}
