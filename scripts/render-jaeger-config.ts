/**
 * Prints Jaeger's configuration as the Tracing component deploys it (components/tracing/
 * jaegerConfig.ts), listening on 127.0.0.1, for the real Jaeger that scripts/verify-logs starts
 * (two keys added for the test build of Elasticsearch, below):
 * `tsx scripts/render-jaeger-config.ts ES_URL PASSWORD_FILE OTLP QUERY QUERY_GRPC HEALTH METRICS`.
 */
import { stringify } from "yaml";
import { tracingDefaults } from "../components/tracing/defaults";
import { jaegerConfig } from "../components/tracing/jaegerConfig";

const [elasticsearchUrl, passwordFile, ...ports] = process.argv.slice(2);
const [otlp, query, queryGrpc, health, metrics] = ports.map(Number);
if (!elasticsearchUrl || !passwordFile || ports.length !== 5 || ports.map(Number).some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
  process.stderr.write("usage: render-jaeger-config.ts ES_URL PASSWORD_FILE OTLP QUERY QUERY_GRPC HEALTH METRICS (ports 1-65535)\n");
  process.exit(2);
}
const config = jaegerConfig({
  elasticsearchUrl,
  username: tracingDefaults.elasticsearchUser,
  passwordFile,
  indexReplicas: 0,
  listen: { host: "127.0.0.1", otlp: otlp!, query: query!, queryGrpc: queryGrpc!, health: health!, metrics: metrics! },
});
// The test build of Elasticsearch that verify-logs runs has no handler for `GET /`, which Jaeger's
// client asks for its health and version: those two are given instead. Nothing else differs from
// what the stack deploys.
const store = (config as { extensions: { jaeger_storage: { backends: { primary_store: { elasticsearch: Record<string, unknown> } } } } }).extensions
  .jaeger_storage.backends.primary_store.elasticsearch;
store.disable_health_check = true;
store.version = 8;
process.stdout.write(stringify(config));
