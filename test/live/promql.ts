/**
 * A real Prometheus, asked through its HTTP API, and the check that every selector of a rule's or
 * a dashboard's expression finds series there: no alert or panel reads a metric that is not
 * exported, or a label that is not on it.
 */
import { expect } from "vitest";

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export type Instant = (query: string) => Promise<Sample[]>;

/** The query API of the Prometheus at `url`; a failed query throws with Prometheus' error. */
export function prometheusClient(url: string): { api: <T>(path: string, query?: string) => Promise<T>; instant: Instant } {
  async function api<T>(apiPath: string, query?: string): Promise<T> {
    const endpoint = new URL(`/api/v1/${apiPath}`, url);
    if (query !== undefined) {
      endpoint.searchParams.set("query", query);
    }
    const response = await fetch(endpoint);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") {
      throw new Error(`${apiPath} ${query ?? ""}: ${body.error ?? response.status}`);
    }
    return body.data;
  }
  return { api, instant: async (query) => (await api<{ result: Sample[] }>("query", query)).result };
}

/** Every vector selector of an expression, and whether the expression parsed cleanly. */
export async function selectors(expr: string): Promise<{ selectors: string[]; errors: number }> {
  // Prometheus' own PromQL grammar (the one its UI uses); an ES module, hence the dynamic import.
  const { parser } = await import("@prometheus-io/lezer-promql");
  const found: string[] = [];
  let errors = 0;
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) {
        errors++;
      }
      if (node.name === "VectorSelector") {
        found.push(expr.slice(node.from, node.to));
      }
    },
  });
  return { selectors: found, errors };
}

/** The selector without its regular-expression matchers (outcomes such as code=~"5.."), and their labels. */
export function withoutRegexMatchers(selector: string): { selector: string; labels: string[] } {
  const labels: string[] = [];
  const stripped = selector.replace(/,?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=~\s*"(?:[^"\\]|\\.)*"/g, (_match, label: string) => {
    labels.push(label);
    return "";
  });
  return { selector: stripped.replace("{,", "{"), labels };
}

/**
 * Asserts that the expression parses, that Prometheus accepts it, and that each of its selectors
 * finds series, but those of the metrics `skip` names. A failure selector such as code=~"5.."
 * finds nothing while nothing fails: then the metric must exist and carry the label it matches on.
 */
export async function everySelectorFindsSeries(instant: Instant, expr: string, skip: (metric: string) => boolean = () => false): Promise<void> {
  const parsed = await selectors(expr);
  expect(parsed.errors).toBe(0);
  expect(parsed.selectors.length).toBeGreaterThan(0);
  await instant(expr);
  for (const selector of parsed.selectors) {
    if (skip(selector.replace(/\{.*$/, ""))) {
      continue;
    }
    if ((await instant(`count(${selector})`)).length > 0) {
      continue;
    }
    const { selector: broad, labels } = withoutRegexMatchers(selector);
    expect(labels.length, `${selector} finds no series`).toBeGreaterThan(0);
    const series = await instant(broad);
    expect(series.length, `${broad} finds no series`).toBeGreaterThan(0);
    for (const label of labels) {
      expect(
        series.some((s) => label in s.metric),
        `${broad} has no label ${label}`,
      ).toBe(true);
    }
  }
}

/**
 * The sum of a counter's samples in a `/metrics` page, named with or without `_total`, as the
 * collector's alert rules read it (components/tracing/rules.ts); 0 when it has none.
 */
export function counterTotal(metricsText: string, name: string): number {
  return [...metricsText.matchAll(new RegExp(`^${name}(?:_total)?(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce((sum, m) => sum + Number(m[1]), 0);
}
