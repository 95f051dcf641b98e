/**
 * Prints Flotilla's alert rules as one Prometheus rule file:
 * `tsx scripts/render-alert-rules.ts [all|services] > rules.yaml`.
 * - all (the default): the dev stack's service rules, a managed database's and the tracing
 *   pipeline's, which promtool checks and unit-tests;
 * - services: the dev stack's service rules alone, which the real Prometheus of
 *   scripts/verify-metrics loads, since it scrapes the services and nothing else.
 */
import { stringify } from "yaml";
import { devStackRules, exampleDatabaseRules, tracingPipelineRules } from "../test/devStackMonitoring";

const scope = process.argv[2] ?? "all";
if (scope !== "all" && scope !== "services") {
  process.stderr.write(`render-alert-rules: unknown scope "${scope}" (expected all or services)\n`);
  process.exit(2);
}
const groups = scope === "all" ? [...devStackRules(), ...exampleDatabaseRules(), ...tracingPipelineRules()] : devStackRules();
process.stdout.write(stringify({ groups }));
