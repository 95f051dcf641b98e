/**
 * Prints the OpenTelemetry Collector's configuration as the Tracing component's chart renders it,
 * for the real collector that scripts/verify-logs starts: the pinned chart's default `config` (its
 * values.yaml, read from the chart mirror) with the component's overrides merged over it as Helm merges values (maps key by
 * key, null removing a key, lists replaced). Only the addresses change, to ports on 127.0.0.1:
 * `tsx scripts/render-collector-config.ts CHART_MIRROR OTLP JAEGER_OTLP HEALTH METRICS`.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { charts, mergeValues } from "../components/charts/charts";
import { collectorConfigOverrides } from "../components/tracing/tracing";

type Tree = Record<string, unknown>;

const [mirror, ...ports] = process.argv.slice(2);
const [otlp, jaegerOtlp, health, metrics] = ports.map(Number);
if (!mirror || ports.length !== 4 || ports.map(Number).some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
  process.stderr.write("usage: render-collector-config.ts CHART_MIRROR OTLP JAEGER_OTLP HEALTH METRICS (ports 1-65535)\n");
  process.exit(2);
}
const { chart, version } = charts.otelCollector;
const values = execFileSync("tar", ["-xzOf", path.join(mirror, `${chart}-${version}.tgz`), `${chart}/values.yaml`], { encoding: "utf8" });
const chartDefault = (parse(values) as { config: Tree }).config;
const config = mergeValues(chartDefault, collectorConfigOverrides(`127.0.0.1:${jaegerOtlp}`)) as {
  receivers: { otlp: { protocols: { grpc: { endpoint: string } } } };
  extensions: { health_check: { endpoint: string } };
  service: { telemetry: { metrics: { readers: { pull: { exporter: { prometheus: { host: string; port: number } } } }[] } } };
};
config.receivers.otlp.protocols.grpc.endpoint = `127.0.0.1:${otlp}`;
config.extensions.health_check.endpoint = `127.0.0.1:${health}`;
config.service.telemetry.metrics.readers = [{ pull: { exporter: { prometheus: { host: "127.0.0.1", port: metrics! } } } }];
process.stdout.write(stringify(config));
