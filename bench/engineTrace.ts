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
