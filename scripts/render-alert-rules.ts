/**
 * Prints the dev stack's service rules as one Prometheus rule file, for promtool and a real
 * Prometheus: `tsx scripts/render-alert-rules.ts > rules.yaml`.
 */
import { stringify } from "yaml";
import { devStackRules } from "../test/devStackMonitoring";

process.stdout.write(stringify({ groups: devStackRules() }));
