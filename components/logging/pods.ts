import { podRequests, type PodDemand } from "../podDemand";
import { loggingDefaults } from "./defaults";

/** The pods logging runs, with what each requests (see `PodDemand`); keys inside its config slice. */
export function loggingPods(logging: {
  readonly enabled: boolean;
  readonly elasticsearch: { readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string } } };
  readonly kibana: { readonly enabled: boolean };
}): PodDemand[] {
  if (!logging.enabled) {
    return [];
  }
  const fixed = (pod: string, key: string[], requests: { cpu: string; memory: string }): PodDemand => ({
    pod,
    key,
    requests: podRequests(requests),
    fixed: true,
  });
  return [
    { pod: "Elasticsearch", key: ["elasticsearch", "resources", "requests"], requests: podRequests(logging.elasticsearch.resources.requests) },
    ...(logging.kibana.enabled ? [fixed("Kibana", ["kibana", "enabled"], loggingDefaults.kibana.resources.requests)] : []),
    fixed("the ECK operator", ["enabled"], loggingDefaults.operator.resources.requests),
    fixed("the logs' setup Job", ["enabled"], loggingDefaults.setupJob.resources.requests),
    { ...fixed("Fluent Bit", ["enabled"], loggingDefaults.collector.resources.requests), everyNode: true },
  ];
}
