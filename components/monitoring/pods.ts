import { podRequests, type PodDemand } from "../podDemand";
import { monitoringDefaults } from "./defaults";

const support = monitoringDefaults.support;

/** The pods monitoring runs, with what each requests (see `PodDemand`); keys inside its config slice. */
export function monitoringPods(monitoring: {
  readonly enabled: boolean;
  readonly prometheus: { readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string } } };
}): PodDemand[] {
  if (!monitoring.enabled) {
    return [];
  }
  const fixed = (pod: string, ...containers: { cpu: string; memory: string }[]): PodDemand => ({
    pod,
    key: ["enabled"],
    requests: podRequests(...containers),
    fixed: true,
  });
  return [
    {
      pod: "Prometheus (with its config reloader)",
      key: ["prometheus", "resources", "requests"],
      requests: podRequests(monitoring.prometheus.resources.requests, support.configReloader.requests),
    },
    fixed("Alertmanager", support.alertmanager.requests, support.configReloader.requests),
    fixed("Grafana", support.grafana.requests, support.sidecar.requests, support.sidecar.requests),
    fixed("prometheus-operator", support.operator.requests),
    fixed("kube-state-metrics", support.kubeStateMetrics.requests),
    { ...fixed("node-exporter", support.nodeExporter.requests), everyNode: true },
  ];
}
