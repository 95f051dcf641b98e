import * as corev1 from "@pulumi/kubernetes/core/v1";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";
import { goServiceDefaults, opsPortName } from "../apps/goService";
import { selectorLabels, standardLabels } from "../apps/podSpec";
import { type AlertThresholds, type RuleGroup, serviceRules } from "./alertRules";
import { type Dashboard, grafanaJson, serviceDashboard } from "./dashboards";
import { monitoringDefaults } from "./defaults";

export interface ServiceMonitoringArgs {
  /** Namespace of the service; the monitoring objects go beside it. */
  readonly namespace: pulumi.Input<string>;
  /**
   * The service's name, as its Service and the `app.kubernetes.io/name` label know it.
   * @default the component's name
   */
  readonly serviceName?: string;
  /**
   * The application the service is part of, as its GoService's `partOf`: the ServiceMonitor
   * selects the Service by both labels.
   * @default "flotilla"
   */
  readonly partOf?: string;
  /**
   * Protocol of the public port, which decides the server metrics the rules and dashboard read.
   * @default "http"
   */
  readonly protocol?: "http" | "grpc";
  /**
   * Name of the Service port that serves `/metrics`.
   * @default "ops"
   */
  readonly metricsPortName?: string;
  /**
   * How often Prometheus scrapes the service.
   * @default "30s"
   */
  readonly scrapeInterval?: string;
  /**
   * Error ratio and p99 latency that page.
   * @default 5% and 500 ms
   */
  readonly thresholds?: AlertThresholds;
  /**
   * Availability objective over 30 days, in percent, for the burn-rate alerts.
   * @default 99.9
   */
  readonly availabilityObjectivePercent?: number;
  /**
   * Where alerts' `runbook_url` annotations point: the runbooks, whose sections are named after the alerts.
   * @default "docs/runbooks.md"
   */
  readonly runbookBaseUrl?: string;
  /**
   * Uid of the Grafana data source that holds the service's traces: its dashboard then shows the
   * latency exemplars, each a link to a trace, and lists recent traces.
   * @default no traces
   */
  readonly tracesDatasourceUid?: string;
}

/** Label by which the Grafana sidecar of kube-prometheus-stack picks up dashboards. */
export const grafanaDashboardLabel = { grafana_dashboard: "1" } as const;
/** Label by which Grafana's other sidecar picks up data sources, from ConfigMaps and Secrets alike. */
export const grafanaDatasourceLabel = { grafana_datasource: "1" } as const;
/** Grafana's provisioning file for one data source, in JSON, which is YAML too. */
export const grafanaDatasourceFile = (datasource: Readonly<Record<string, unknown>>): string => JSON.stringify({ apiVersion: 1, datasources: [datasource] });

/**
 * What makes one service monitored: a ServiceMonitor for its operations port, its alerting and
 * SLO rules as a PrometheusRule, and its Grafana dashboard. The custom resources need
 * prometheus-operator's CRDs: give this component `dependsOn` the Monitoring component.
 */
export class ServiceMonitoring extends pulumi.ComponentResource {
  /** Name of the ServiceMonitor. */
  readonly serviceMonitorName: pulumi.Output<string>;
  /** Name of the PrometheusRule. */
  readonly ruleName: pulumi.Output<string>;

  constructor(name: string, args: ServiceMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:monitoring:ServiceMonitoring", name, {}, opts);
    const service = args.serviceName ?? name;
    const protocol = args.protocol ?? goServiceDefaults.protocol;
    const labels = standardLabels(service, "monitoring", args.partOf);
    const metadata = { name: service, namespace: args.namespace, labels };
    const child = { parent: this };

    const monitor = new CustomResource(
      `${name}-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata,
        spec: {
          selector: { matchLabels: selectorLabels(service, args.partOf) },
          endpoints: [
            { port: args.metricsPortName ?? opsPortName, path: "/metrics", scheme: "http", interval: args.scrapeInterval ?? monitoringDefaults.scrapeInterval },
          ],
        },
      },
      child,
    );

    const rule = prometheusRule(
      `${name}-rules`,
      metadata,
      pulumi.output(args.namespace).apply((namespace) =>
        serviceRules({
          service,
          namespace,
          protocol,
          thresholds: args.thresholds ?? monitoringDefaults.thresholds,
          availabilityObjectivePercent: args.availabilityObjectivePercent ?? monitoringDefaults.availabilityObjectivePercent,
          runbookBaseUrl: args.runbookBaseUrl ?? monitoringDefaults.runbookBaseUrl,
        }),
      ),
      child,
    );

    dashboardConfigMap(
      `${name}-dashboard`,
      args.namespace,
      pulumi.output(args.namespace).apply((namespace) => serviceDashboard({ service, namespace, protocol, tracesDatasourceUid: args.tracesDatasourceUid })),
      labels,
      child,
    );

    this.serviceMonitorName = monitor.metadata.name;
    this.ruleName = rule.metadata.name;
    this.registerOutputs({ serviceMonitorName: this.serviceMonitorName, ruleName: this.ruleName });
  }
}

/** A PrometheusRule of `groups`, which the operator of the Monitoring component loads, wherever it is. */
export function prometheusRule(
  name: string,
  metadata: pulumi.Input<k8sInput.meta.v1.ObjectMeta>,
  groups: pulumi.Input<RuleGroup[]>,
  opts: pulumi.CustomResourceOptions,
): CustomResource {
  return new CustomResource(
    name,
    { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata, spec: pulumi.output(groups).apply((g) => ({ groups: g })) },
    opts,
  );
}

/** A dashboard as a ConfigMap that the Grafana sidecar loads, from whichever namespace. */
export function dashboardConfigMap(
  name: string,
  namespace: pulumi.Input<string>,
  dashboard: pulumi.Input<Dashboard>,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): corev1.ConfigMap {
  return new corev1.ConfigMap(
    name,
    {
      metadata: { namespace, labels: { ...labels, ...grafanaDashboardLabel } },
      data: pulumi.output(dashboard).apply((d) => ({ [`${d.uid}.json`]: grafanaJson(d) })),
    },
    opts,
  );
}
