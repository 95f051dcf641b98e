/**
 * The stack's index template and the services' real log lines in a real Elasticsearch
 * (scripts/verify-logs): the mappings apply, the lines index as the collector sends them, and a
 * request is found across services by its request id and trace id. This test build of
 * Elasticsearch has no data stream or lifecycle module, so those two parts of the template are
 * left out here and checked by the unit tests only, as are Kibana's data view and the
 * collector's TLS and user.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import logContract from "../../components/logging/logFields.json";
import { dataStream, indexTemplate } from "../../components/logging/pipeline";
import { requiredEnv } from "./env";

const elasticsearch = requiredEnv("ELASTICSEARCH_URL");
/** The X-Request-Id the gateway answered a request without ids with. */
const madeRequestId = requiredEnv("FLOTILLA_MADE_REQUEST_ID");
const index = dataStream("dev");

async function call<T = any>(method: string, path: string, body?: unknown, ndjson = false): Promise<T> {
  const response = await fetch(`${elasticsearch}${path}`, {
    method,
    headers: { "Content-Type": ndjson ? "application/x-ndjson" : "application/json" },
    body: body === undefined ? undefined : ndjson ? (body as string) : JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  }
  return json;
}

/** The lines the services wrote, as the collector ships them: the JSON merged, @timestamp from time. */
const lines = requiredEnv("FLOTILLA_LOG_FILES")
  .split(",")
  .flatMap((file) => fs.readFileSync(file, "utf8").split("\n").filter(Boolean))
  .map((line) => JSON.parse(line) as Record<string, string>)
  .map((record) => ({ ...record, "@timestamp": record[logContract.timeKey], kubernetes: { namespace_name: "flotilla", container_name: record.service } }));

const search = async (query: object) =>
  (await call<{ hits: { hits: { _source: Record<string, string> }[] } }>("POST", `/${index}/_search`, { size: 100, query })).hits.hits.map((h) => h._source);

describe("the services' logs in a real Elasticsearch", async () => {
  const template = indexTemplate({ retentionDays: 3, indexReplicas: 0 }) as { template: Record<string, unknown> } & Record<string, unknown>;
  const { data_stream: _stream, ...classic } = template;
  const { lifecycle: _lifecycle, ...settings } = template.template;
  await call("PUT", "/_index_template/flotilla-logs", { ...classic, template: settings });
  const bulk = lines.map((line) => `${JSON.stringify({ create: {} })}\n${JSON.stringify(line)}\n`).join("");
  const result = await call<{ errors: boolean; items: unknown[] }>("POST", `/${index}/_bulk?refresh=true`, bulk, true);

  it("takes every captured line, as the collector's creates", () => {
    expect(lines.length).toBeGreaterThan(20);
    expect(result.errors).toBe(false);
    expect(result.items).toHaveLength(lines.length);
  });

  it("maps the contract's fields as the template says: time a date, level and the ids keywords", async () => {
    const mapping = await call<Record<string, { mappings: { properties: Record<string, { type: string }> } }>>("GET", `/${index}/_mapping`);
    const properties = mapping[index]!.mappings.properties;
    for (const [field, expected] of Object.entries(logContract.fields)) {
      expect(properties[field]?.type, field).toBe(expected.type);
    }
    expect(properties["@timestamp"]?.type).toBe("date");
  });

  it("finds one request in both services by its request id", async () => {
    const hits = await search({ term: { request_id: "verify-logs-3" } });
    expect(new Set(hits.map((h) => h.service))).toEqual(new Set(["gateway", "users"]));
  });

  it("finds one request in both services by the request id the gateway made for it", async () => {
    expect(madeRequestId).toMatch(/^[0-9a-f]{16}$/);
    const hits = await search({ term: { request_id: madeRequestId } });
    expect(new Set(hits.map((h) => h.service))).toEqual(new Set(["gateway", "users"]));
  });

  it("finds one request in both services by its W3C trace id", async () => {
    const hits = await search({ term: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4707" } });
    expect(new Set(hits.map((h) => h.service))).toEqual(new Set(["gateway", "users"]));
  });

  it("filters by level and by time", async () => {
    const levels = await call<{ aggregations: { levels: { buckets: { key: string }[] } } }>("POST", `/${index}/_search`, {
      size: 0,
      aggs: { levels: { terms: { field: "level" } } },
    });
    expect(levels.aggregations.levels.buckets.map((b) => b.key)).toEqual(expect.arrayContaining(["DEBUG", "INFO"]));
    const recent = await search({ range: { time: { gte: "now-1h" } } });
    expect(recent.length).toBeGreaterThan(0);
  });
});
