/**
 * The rules and dashboards the dev stack's services get (`Pulumi.dev.yaml`, namespace flotilla,
 * default thresholds and objective): what promtool and a real Prometheus check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { databaseRules } from "../components/data/rules";
import { tracingRules } from "../components/tracing/rules";
import { type RuleGroup, serviceRules } from "../components/monitoring/alertRules";
import { type Dashboard, overviewDashboard, serviceDashboard } from "../components/monitoring/dashboards";
import { monitoringDefaults } from "../components/monitoring/defaults";

const namespace = "flotilla";
const stackFile = parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.dev.yaml"), "utf8")) as {
  config: { "flotilla:services": Record<string, { protocol?: "http" | "grpc" }> };
};
const services = Object.entries(stackFile.config["flotilla:services"]).map(([service, declaration]) => ({
  service,
  namespace,
  protocol: declaration.protocol ?? "http",
}));

export const devStackRules = (): RuleGroup[] =>
  services.flatMap((s) =>
    serviceRules({
      ...s,
      thresholds: monitoringDefaults.thresholds,
      availabilityObjectivePercent: monitoringDefaults.availabilityObjectivePercent,
      runbookBaseUrl: monitoringDefaults.runbookBaseUrl,
    }),
  );

export const devStackDashboards = (): Dashboard[] => [...services.map(serviceDashboard), overviewDashboard(namespace)];

/**
 * The rules of a managed database for users as prod runs it (three instances): the dev stack's
 * users reads an external database, so these are checked by promtool alone (test/promtool), not
 * by the real Prometheus, which has no CloudNativePG instance to scrape.
 */
export const exampleDatabaseRules = (): RuleGroup[] =>
  databaseRules({ cluster: "users-db", namespace, instances: 3, runbookBaseUrl: monitoringDefaults.runbookBaseUrl, backups: true });

/** The tracing pipeline's rules, as the dev stack deploys them: promtool checks them alone, too. */
export const tracingPipelineRules = (): RuleGroup[] => tracingRules({ namespace: "tracing", runbookBaseUrl: monitoringDefaults.runbookBaseUrl });
