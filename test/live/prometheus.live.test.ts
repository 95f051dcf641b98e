/**
 * A real Prometheus (started by scripts/verify-metrics) scraping the real users and gateway
 * under a little traffic, with the dev stack's rules loaded: the metrics arrive, the rules are
 * healthy and quiet, and every selector of every rule and dashboard finds series, so no alert or
 * panel reads a metric the services do not export.
 */
import { describe, expect, it } from "vitest";
import { kubeStateMetrics } from "../../components/monitoring/alertRules";
import { dashboardQueries } from "../../components/monitoring/dashboards";
import { devStackDashboards, devStackRules } from "../devStackMonitoring";
import { eventually, requiredEnv } from "./env";

const prometheus = requiredEnv("PROMETHEUS_URL");

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function api<T>(path: string, query?: string): Promise<T> {
  const url = new URL(`/api/v1/${path}`, prometheus);
  if (query !== undefined) {
    url.searchParams.set("query", query);
  }
  const response = await fetch(url);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") {
    throw new Error(`${path} ${query ?? ""}: ${body.error ?? response.status}`);
  }
  return body.data;
}

const instant = async (query: string) => (await api<{ result: Sample[] }>("query", query)).result;
const total = (samples: Sample[]) => samples.reduce((sum, s) => sum + Number(s.value[1]), 0);

/** Every vector selector of an expression, and whether the expression parsed cleanly. */
async function selectors(expr: string): Promise<{ selectors: string[]; errors: number }> {
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
function withoutRegexMatchers(selector: string): { selector: string; labels: string[] } {
  const labels: string[] = [];
  const stripped = selector.replace(/,?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=~\s*"(?:[^"\\]|\\.)*"/g, (_match, label: string) => {
    labels.push(label);
    return "";
  });
  return { selector: stripped.replace("{,", "{"), labels };
}

describe("the services scraped by a real Prometheus", () => {
  it("sees both targets up and the traffic the script drove", async () => {
    await eventually("Prometheus to count 40 gateway requests, 20 NotFound calls in users and 2 targets up", 30, async () => {
      const gateway = total(await instant('http_server_requests_total{job="gateway",namespace="flotilla",route="GET /v1/users/{id}"}'));
      const notFound = total(await instant('grpc_server_handled_total{job="users",namespace="flotilla",grpc_code="NotFound"}'));
      const up = total(await instant('up{namespace="flotilla"}'));
      return gateway === 40 && notFound === 20 && up === 2 ? true : undefined;
    });
  });

  it("loads every rule of the dev stack's services, healthy", async () => {
    const expected = devStackRules().flatMap((g) => g.rules).length;
    const groups = await eventually("the rules to be evaluated", 30, async () => {
      const data = await api<{ groups: { rules: { health: string; name: string; lastError?: string }[] }[] }>("rules");
      const rules = data.groups.flatMap((g) => g.rules);
      return rules.length === expected && rules.every((r) => r.health === "ok") ? rules : undefined;
    });
    expect(groups).toHaveLength(expected);
  });

  it("fires no alert on healthy services", async () => {
    const alerts = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>("alerts");
    expect(alerts.alerts.filter((a) => a.state === "firing")).toEqual([]);
  });

  const expressions = [
    ...devStackRules().flatMap((g) => g.rules.map((r) => ["alert" in r ? r.alert : r.record, r.expr] as const)),
    ...devStackDashboards().flatMap((d) => dashboardQueries(d).map((q) => [`${d.title}`, q] as const)),
  ];
  const external = new Set<string>(kubeStateMetrics);
  const recorded = new Set(devStackRules().flatMap((g) => g.rules.flatMap((r) => ("record" in r ? [r.record] : []))));

  it.each(expressions)("%s: every selector of %s finds series", async (_name, expr) => {
    const parsed = await selectors(expr);
    expect(parsed.errors).toBe(0);
    expect(parsed.selectors.length).toBeGreaterThan(0);
    await instant(expr); // Prometheus itself accepts the whole expression.
    for (const selector of parsed.selectors) {
      const metric = selector.replace(/\{.*$/, "");
      if (external.has(metric) || recorded.has(metric)) {
        // kube-state-metrics runs only in a cluster: its metric is checked by promtool's tests
        // alone. A recorded series is checked through the selectors of the rule that records it.
        continue;
      }
      if ((await instant(`count(${selector})`)).length > 0) {
        continue;
      }
      // A failure selector such as code=~"5.." finds nothing while nothing fails; then the metric
      // must exist and carry the label the matcher reads.
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
  });
});
