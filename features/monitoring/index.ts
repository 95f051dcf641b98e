/**
 * Monitoring as a feature: Prometheus, Alertmanager and Grafana (kube-prometheus-stack, through
 * the Monitoring component), and per service a ServiceMonitor, its alert rules and a dashboard.
 * Prometheus' namespace reaches every service's operations port, nothing else.
 */
import { charts } from "../../components/charts/charts";
import { z } from "zod";
import { Monitoring } from "../../components/monitoring/monitoring";
import { monitoringDefaults } from "../../components/monitoring/defaults";
import { monitoringPods } from "../../components/monitoring/pods";
import { ServiceMonitoring } from "../../components/monitoring/serviceMonitoring";
import { ruleWindows } from "../../components/monitoring/alertRules";
import { prometheusDuration, prometheusDurationProblem, prometheusMilliseconds } from "../../components/durations";
import { bytes, checked, operatorSchedulingSchema, resourcesSchema, schedulingSchema } from "../../config/parts";
import { defineFeature } from "../feature";

const prometheusDurationKey = checked(prometheusDurationProblem);
/**
 * The scrape interval is also the rules' evaluation interval, and rate() over the shortest window
 * the rules read needs two samples in it; retention must cover the longest window.
 */
const ruleWindowMs = ruleWindows.map((w) => prometheusMilliseconds(w) as number);
const scrapeIntervalMaxMs = Math.min(...ruleWindowMs) / 2;
const retentionMinMs = Math.max(...ruleWindowMs);
const scrapeInterval = prometheusDurationKey.superRefine((text, ctx) => {
  const ms = prometheusMilliseconds(text);
  if (ms !== undefined && (ms <= 0 || ms > scrapeIntervalMaxMs)) {
    ctx.addIssue({
      code: "custom",
      input: text,
      message: `must be above 0 and at most ${prometheusDuration(scrapeIntervalMaxMs)}: the alerts' shortest window (${prometheusDuration(Math.min(...ruleWindowMs))}) needs two samples`,
    });
  }
});
const retention = prometheusDurationKey.superRefine((text, ctx) => {
  const ms = prometheusMilliseconds(text);
  if (ms !== undefined && ms < retentionMinMs) {
    ctx.addIssue({
      code: "custom",
      input: text,
      message: `must be at least ${prometheusDuration(retentionMinMs)}: the slowest burn-rate alert reads that far back`,
    });
  }
});

const monitoringSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Deploy Prometheus, Alertmanager and Grafana, and a ServiceMonitor, rules and a dashboard per service."),
    scrapeInterval: scrapeInterval
      .default(monitoringDefaults.scrapeInterval)
      .describe(`How often Prometheus scrapes and evaluates rules: above 0, at most ${prometheusDuration(scrapeIntervalMaxMs)}.`),
    retention: retention.default(monitoringDefaults.retention).describe(`How long Prometheus keeps samples: at least ${prometheusDuration(retentionMinMs)}.`),
    storageSize: bytes
      .optional()
      .describe(
        "Persistent volume per Prometheus replica on the cluster's default storage class; an emptyDir bounded by the ephemeral-storage limit when unset.",
      ),
    storageClass: z.string().min(1).optional().describe("Storage class of the volumes; the cluster's default when unset."),
    prometheus: z
      .strictObject({
        replicas: z.number().int().min(1).max(5).default(monitoringDefaults.prometheus.replicas).describe("Prometheus replicas, each scraping every target."),
        resources: resourcesSchema(monitoringDefaults.prometheus.resources),
      })
      .prefault({}),
    alertmanager: z
      .strictObject({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .default(monitoringDefaults.alertmanager.replicas)
          .describe("Alertmanager replicas; they gossip so each alert is sent once."),
      })
      .prefault({}),
    grafana: z
      .strictObject({
        adminPassword: z
          .string()
          .min(12, "at least 12 characters")
          .optional()
          .describe("Grafana's admin password; must be set as a secret (`pulumi config set --secret --path monitoring.grafana.adminPassword`)."),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        errorRatePercent: z
          .number()
          .min(0.1)
          .max(100)
          .default(monitoringDefaults.thresholds.errorRatePercent)
          .describe("Percentage of 5xx or failed gRPC calls over 5 minutes that pages."),
        latencyP99Ms: z
          .number()
          .int()
          .min(1)
          .max(60000)
          .default(monitoringDefaults.thresholds.latencyP99Ms)
          .describe("p99 latency in milliseconds over 5 minutes that pages."),
      })
      .prefault({}),
    availabilityObjectivePercent: z
      .number()
      .min(50)
      .max(99.999)
      .default(monitoringDefaults.availabilityObjectivePercent)
      .describe("Default availability objective of every service over 30 days, for the multi-window burn-rate alerts."),
    runbookBaseUrl: z
      .string()
      .min(1)
      .default(monitoringDefaults.runbookBaseUrl)
      .describe("Where alerts' runbook links point: this project's docs/runbooks.md as your team reads it, such as its URL in your repository."),
    optionalKinds: z
      .boolean()
      .optional()
      .describe(
        `Install prometheus-operator's kinds that Flotilla does not use (${monitoringDefaults.optionalKinds.crds.join(", ")}); on in prod, off elsewhere when unset. Off, every up is shorter by their large CRDs' checks and diffs, and the operator runs without those controllers; turning it off on a stack that has them deletes their CRDs and every object of those kinds.`,
      ),
    scheduling: schedulingSchema("the monitoring pods (node-exporter's too)"),
    operatorScheduling: operatorSchedulingSchema("prometheus-operator"),
  })
  .prefault({});

export const monitoringFeature = defineFeature({
  key: "monitoring",
  schema: monitoringSchema,
  charts: () => [charts.kubePrometheusStack],
  namespaces: [
    {
      name: monitoringDefaults.namespace,
      podSecurity: monitoringDefaults.podSecurity.namespace,
      why: "the operator, Prometheus, Alertmanager, Grafana and kube-state-metrics",
    },
    {
      name: monitoringDefaults.nodeExporterNamespace,
      podSecurity: monitoringDefaults.podSecurity.nodeExporterNamespace,
      why: "node-exporter alone: it reads the host's /proc, /sys and network",
    },
  ],
  secrets: { grafanaAdminPassword: ["grafana", "adminPassword"] },
  teardown: { removedCrdGroups: ["monitoring.coreos.com"] },
  enabled: (monitoring) => monitoring.enabled,
  check(monitoring, _stack, report) {
    if (monitoring.enabled && monitoring.grafana.adminPassword === undefined) {
      report(
        ["grafana", "adminPassword"],
        undefined,
        'is required while monitoring is enabled: pulumi config set --secret --path monitoring.grafana.adminPassword "$(openssl rand -base64 18)"',
      );
    }
  },
  pods: (monitoring) => monitoringPods(monitoring),
  servicePaths: () => ({ opsIngressFrom: [monitoringDefaults.namespace] }),
  deploy(monitoring, context) {
    const component = new Monitoring(
      "monitoring",
      {
        chartSource: context.chartSource,
        grafanaAdminPassword: context.secret("grafanaAdminPassword"),
        scrapeInterval: monitoring.scrapeInterval,
        retention: monitoring.retention,
        storageSize: monitoring.storageSize,
        storageClass: monitoring.storageClass,
        prometheusReplicas: monitoring.prometheus.replicas,
        prometheusResources: monitoring.prometheus.resources,
        alertmanagerReplicas: monitoring.alertmanager.replicas,
        appNamespaces: [context.appNamespace],
        scheduling: monitoring.scheduling,
        operatorScheduling: monitoring.operatorScheduling,
        optionalKinds: monitoring.optionalKinds ?? monitoringDefaults.optionalKinds.installed(context.environment),
        ...(context.traceStore
          ? { exemplarTraces: { datasourceUid: context.traceStore.grafanaDatasourceUid, traceIdLabel: context.traceStore.traceIdField } }
          : {}),
      },
      context.opts,
    );
    return {
      outputs: { namespace: component.namespace, prometheusService: component.prometheusService, grafanaService: component.grafanaService },
      monitoring: {
        ready: component,
        scrapeInterval: monitoring.scrapeInterval,
        runbookBaseUrl: monitoring.runbookBaseUrl,
        grafanaNamespace: component.namespace,
      },
      addToService(service) {
        new ServiceMonitoring(
          service.name,
          {
            namespace: service.namespace,
            protocol: service.protocol,
            scrapeInterval: monitoring.scrapeInterval,
            thresholds: monitoring.alerts,
            availabilityObjectivePercent: service.availabilityObjectivePercent ?? monitoring.availabilityObjectivePercent,
            runbookBaseUrl: monitoring.runbookBaseUrl,
            tracesDatasourceUid: context.traceStore?.grafanaDatasourceUid,
          },
          // The custom resources need the chart's CRDs, and the Service to select.
          { ...context.opts, dependsOn: [component, service.workload] },
        );
      },
    };
  },
});
