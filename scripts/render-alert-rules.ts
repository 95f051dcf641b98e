/** Prints the alert rules for the given thresholds as YAML: `tsx scripts/render-alert-rules.ts [errorRatePercent] [latencyP99Ms]`. */
import { stringify } from "yaml";
import { alertRules } from "../components/monitoring/alertRules";

const [errorRatePercent = "5", latencyP99Ms = "500"] = process.argv.slice(2);
process.stdout.write(stringify(alertRules({ errorRatePercent: Number(errorRatePercent), latencyP99Ms: Number(latencyP99Ms) })));
