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
import { everySelectorFindsSeries, prometheusClient, type Sample } from "./promql";

const { api, instant } = prometheusClient(requiredEnv("PROMETHEUS_URL"));
const total = (samples: Sample[]) => samples.reduce((sum, s) => sum + Number(s.value[1]), 0);

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
    // kube-state-metrics runs only in a cluster: its metric is checked by promtool's tests alone.
    // A recorded series is checked through the selectors of the rule that records it.
    await everySelectorFindsSeries(instant, expr, (metric) => external.has(metric) || recorded.has(metric));
  });
});
