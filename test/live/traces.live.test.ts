/**
 * One request followed across the real services by a real Jaeger (scripts/verify-logs): Jaeger
 * 2.13 runs on the stack's own configuration (components/tracing/jaegerConfig.ts) and stores into
 * the real Elasticsearch beside the logs; users and the gateway export to it over OTLP gRPC, every
 * trace sampled as in dev, through a real OpenTelemetry Collector on the chart's configuration
 * (scripts/render-collector-config.ts). The trace holds the three parent-linked spans, its id is the one the
 * same request's log lines carry in Elasticsearch, and a latency exemplar names a trace Jaeger
 * returns; the collector counts what it passed on, and has every series its alert rules read.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { dataStream } from "../../components/logging/pipeline";
import { tracingDefaults } from "../../components/tracing/defaults";
import { tracingRules } from "../../components/tracing/rules";
import { eventually, requiredEnv } from "./env";
import { counterTotal } from "./promql";

const jaeger = requiredEnv("JAEGER_QUERY_URL");
const elasticsearch = requiredEnv("ELASTICSEARCH_URL");
const gatewayOps = requiredEnv("GATEWAY_OPS_URL");
const collectorMetrics = requiredEnv("COLLECTOR_METRICS_URL");
/** services/cmd/logsetup, built by verify-logs: the image the expiry CronJob runs. */
const logsetup = requiredEnv("LOGSETUP_BIN");
/** The X-Request-Id the gateway answered a request without ids with: its server span's id. */
const madeRequestId = requiredEnv("FLOTILLA_MADE_REQUEST_ID");
/** A trace a client started (verify-logs' traceparent), and the client's span in it. */
const clientTrace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4701", spanId: "00f067aa0ba902b7" };

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** A trace as Jaeger's query API returns it, once its spans from both services are stored. */
const trace = (traceId: string, spans: number) =>
  eventually(`trace ${traceId} with ${spans} spans in Jaeger`, 60, async () => {
    const response = await fetch(`${jaeger}/api/traces/${traceId}`);
    if (response.status === 404) return undefined;
    const found = (await response.json()) as { data: JaegerTrace[] };
    const first = found.data[0];
    return first && first.spans.length >= spans ? first : undefined;
  });

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const service = (t: JaegerTrace, span: JaegerSpan) => t.processes[span.processID]?.serviceName;
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === "CHILD_OF")?.spanID;

/** The services' log lines in Elasticsearch (indexed by the elasticsearch suite, which runs first). */
const logLines = async (query: object) =>
  (
    await json<{ hits: { hits: { _source: Record<string, string> }[] } }>(`${elasticsearch}/${dataStream("dev")}/_search`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ size: 100, query }),
    })
  ).hits.hits.map((h) => h._source);

describe("one request's trace in a real Jaeger, beside its logs in Elasticsearch", () => {
  it("knows both services", async () => {
    const services = await eventually("gateway and users in Jaeger's services", 60, async () => {
      const { data } = await json<{ data: string[] | null }>(`${jaeger}/api/services`);
      return data?.includes("gateway") && data.includes("users") ? data : undefined;
    });
    expect(services).toEqual(expect.arrayContaining(["gateway", "users"]));
  });

  it("holds a request's three spans, parent-linked: gateway server, its gRPC client, users' server", async () => {
    const [gatewayLine] = await logLines({ bool: { filter: [{ term: { request_id: madeRequestId } }, { term: { service: "gateway" } }] } });
    expect(gatewayLine?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const t = await trace(gatewayLine!.trace_id!, 3);
    const server = t.spans.find((s) => service(t, s) === "gateway" && tag(s, "span.kind") === "server");
    const client = t.spans.find((s) => service(t, s) === "gateway" && tag(s, "span.kind") === "client");
    const users = t.spans.find((s) => service(t, s) === "users" && tag(s, "span.kind") === "server");
    expect(server?.spanID).toBe(madeRequestId);
    expect(parentOf(server!)).toBeUndefined();
    expect(parentOf(client!)).toBe(server!.spanID);
    expect(parentOf(users!)).toBe(client!.spanID);
    expect(client!.operationName).toBe(users!.operationName);
    for (const span of [server!, client!, users!]) {
      expect(span.traceID).toBe(gatewayLine!.trace_id);
      expect(tag(span, "error")).toBeUndefined();
    }
    // users' own log lines of that request carry the same trace, found by it in Elasticsearch.
    const usersLines = await logLines({ bool: { filter: [{ term: { trace_id: t.traceID } }, { term: { service: "users" } }] } });
    expect(usersLines.length).toBeGreaterThan(0);
  });

  it("continues a trace a client started, under the client's span", async () => {
    const t = await trace(clientTrace.traceId, 3);
    const server = t.spans.find((s) => service(t, s) === "gateway" && tag(s, "span.kind") === "server");
    expect(parentOf(server!)).toBe(clientTrace.spanId);
    const lines = await logLines({ term: { trace_id: clientTrace.traceId } });
    expect(new Set(lines.map((l) => l.service))).toEqual(new Set(["gateway", "users"]));
  });

  it("is named by a latency exemplar on the gateway's /metrics", async () => {
    const metrics = await (await fetch(`${gatewayOps}/metrics`, { headers: { Accept: "application/openmetrics-text; version=1.0.0" } })).text();
    const exemplars = [...metrics.matchAll(/^http_server_request_duration_seconds_bucket\{.*\} \S+ # \{trace_id="([0-9a-f]{32})"/gm)].map((m) => m[1]!);
    expect(exemplars.length).toBeGreaterThan(0);
    const t = await trace(exemplars[0]!, 1);
    expect(t.spans.some((s) => service(t, s) === "gateway")).toBe(true);
  });

  it("keeps the spans in Elasticsearch, under the stack's index prefix", async () => {
    await json(`${elasticsearch}/_refresh`, { method: "POST" });
    const { count } = await json<{ count: number }>(`${elasticsearch}/${tracingDefaults.indexPrefix}-jaeger-span-*/_count`);
    expect(count).toBeGreaterThanOrEqual(3);
  });

  it("deletes Jaeger's expired daily indices, as the stack's expiry CronJob runs it, and keeps the others", async () => {
    const afterDays = tracingDefaults.retentionDays("dev");
    const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    const prefix = `${tracingDefaults.indexPrefix}-jaeger`;
    const expired = [`${prefix}-span-${day(afterDays + 7)}`, `${prefix}-service-${day(afterDays + 7)}`];
    const kept = [`${prefix}-span-${day(afterDays - 1)}`, `${tracingDefaults.indexPrefix}-other-${day(afterDays + 7)}`];
    for (const index of [...expired, ...kept]) {
      await json(`${elasticsearch}/${index}`, { method: "PUT" });
    }
    const indices = async (pattern: string) =>
      (await json<{ indices: { name: string }[] }>(`${elasticsearch}/_resolve/index/${pattern}`)).indices.map((i) => i.name);
    const jaegersOwn = (await indices(tracingDefaults.jaegerIndices)).filter((name) => !expired.includes(name) && !kept.includes(name));
    expect(jaegersOwn, "the indices Jaeger wrote today").toContain(`${prefix}-span-${day(0)}`);

    const output = execFileSync(logsetup, [], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        ELASTICSEARCH_URL: elasticsearch,
        EXPIRE_INDICES: tracingDefaults.jaegerIndices,
        EXPIRE_AFTER_DAYS: String(afterDays),
        DEADLINE: "30s",
      },
    });
    expect(output).toMatch(/"msg":"expired".*"deleted":2/);
    const left = await indices(`${tracingDefaults.indexPrefix}-*`);
    expect(left).toEqual(expect.arrayContaining([...kept, ...jaegersOwn]));
    expect(left.filter((name) => expired.includes(name))).toEqual([]);
    // Jaeger still answers from the indices it kept.
    const { data } = await json<{ data: string[] | null }>(`${jaeger}/api/services`);
    expect(data).toEqual(expect.arrayContaining(["gateway", "users"]));
  });

  it("passes the spans on through the collector, whose counters its alert rules read", async () => {
    const text = await eventually("spans sent on by the collector", 30, async () => {
      const body = await (await fetch(collectorMetrics)).text();
      return counterTotal(body, "otelcol_exporter_sent_spans") > 0 ? body : undefined;
    });
    expect(counterTotal(text, "otelcol_receiver_accepted_spans")).toBeGreaterThanOrEqual(3);
    expect(counterTotal(text, "otelcol_receiver_refused_spans")).toBe(0);
    expect(counterTotal(text, "otelcol_exporter_send_failed_spans")).toBe(0);
    // The refusals' rule reads a counter the collector has from its first span on; the exporter's
    // failure counters appear only once a span failed (none here), which is why the dropped-spans
    // rule stands in a zero for a missing one (test/promtool covers both shapes).
    const refused = tracingRules({ namespace: "tracing", runbookBaseUrl: "" })
      .flatMap((g) => g.rules)
      .find((r) => "alert" in r && r.alert === "FlotillaTraceSpansRefused");
    const pattern = /__name__=~"([^"]+)"/.exec(refused!.expr)?.[1];
    expect(new RegExp(`^(?:${pattern})[{ ]`, "m").test(text), `${pattern} in the collector's metrics`).toBe(true);
    expect(text).not.toMatch(/^otelcol_exporter_(send|enqueue)_failed_spans/m);
  });
});
