import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as helm from "@pulumi/kubernetes/helm/v4";
import * as pulumi from "@pulumi/pulumi";
import { chartPostRenderer } from "../charts/postRender";
import { type Resources, resourceRequirements, standardLabels } from "../apps/podSpec";
import { podScheduling, type Scheduling } from "../apps/scheduling";
import { charts, type ChartSource, chartSource, chartValues } from "../charts/charts";
import { AppNamespace } from "../namespace/appNamespace";
import { overviewDashboard } from "./dashboards";
import { monitoringDefaults, operatorCrd } from "./defaults";
import { dashboardConfigMap } from "./serviceMonitoring";
import { quantityValue } from "../quantities";

export interface MonitoringArgs {
  /**
   * Namespace of the operator, Prometheus, Alertmanager, Grafana and kube-state-metrics. It
   * enforces the "restricted" Pod Security Standard; services open their operations port to it.
   * @default "monitoring"
   */
  readonly namespace?: string;
  /**
   * Namespace of node-exporter alone, which reads the host's /proc, /sys and network and so needs
   * the "privileged" level that no other pod of the stack gets.
   * @default "monitoring-node"
   */
  readonly nodeExporterNamespace?: string;
  /**
   * Where the kube-prometheus-stack chart is fetched from.
   * @default its upstream repository
   */
  readonly chartSource?: ChartSource;
  /** Grafana's `admin` password; pass a secret Output. It is held in a Kubernetes Secret of its own. */
  readonly grafanaAdminPassword: pulumi.Input<string>;
  /**
   * How often Prometheus scrapes and evaluates rules.
   * @default "30s"
   */
  readonly scrapeInterval?: string;
  /**
   * How long Prometheus keeps samples.
   * @default "15d"
   */
  readonly retention?: string;
  /**
   * Size of each Prometheus replica's persistent volume, on `storageClass`. Without it, data lives
   * in an emptyDir bounded by the ephemeral-storage limit and is lost with the pod.
   * @default none
   */
  readonly storageSize?: string;
  /**
   * Storage class of the persistent volumes.
   * @default the cluster's default storage class
   */
  readonly storageClass?: string;
  /**
   * Prometheus replicas; each scrapes every target, so one can be lost without a gap.
   * @default 1
   */
  readonly prometheusReplicas?: number;
  /**
   * Requests and limits of each Prometheus.
   * @default 100m/384Mi requested, 1 CPU/1Gi limited
   */
  readonly prometheusResources?: Resources;
  /**
   * Alertmanager replicas; they gossip so that each alert is sent once.
   * @default 1
   */
  readonly alertmanagerReplicas?: number;
  /**
   * Namespaces of Flotilla services, each of which gets an overview dashboard.
   * @default []
   */
  readonly appNamespaces?: readonly string[];
  /**
   * Which nodes the chart's pods run on: the operator, Prometheus, Alertmanager, Grafana,
   * kube-state-metrics, and node-exporter's DaemonSet (then on those nodes only).
   * @default any node
   */
  readonly scheduling?: Scheduling;
  /**
   * Which nodes prometheus-operator runs on, when apart from the chart's other pods (a system
   * node pool).
   * @default `scheduling`
   */
  readonly operatorScheduling?: Scheduling;
  /**
   * A Grafana data source that opens traces by id: the services' latency exemplars, whose label
   * `traceIdLabel` holds a trace's id, then link to it from Grafana's Prometheus data source.
   * @default no links
   */
  readonly exemplarTraces?: ExemplarTraces;
  /**
   * Install prometheus-operator's kinds that Flotilla does not use (ScrapeConfig, PrometheusAgent,
   * ThanosRuler; `monitoringDefaults.optionalKinds`). Without them every `up` is shorter by their
   * CRDs' checks and diffs; the operator runs without those controllers.
   * @default false
   */
  readonly optionalKinds?: boolean;
}

/** Where Grafana opens the trace an exemplar names. */
export interface ExemplarTraces {
  /** Uid of the Grafana data source that opens traces. */
  readonly datasourceUid: string;
  /** The exemplars' label that holds the trace's id. */
  readonly traceIdLabel: string;
}

/**
 * Prometheus, Alertmanager and Grafana for the stack, from the kube-prometheus-stack chart: the
 * Prometheus Operator selects every ServiceMonitor and PrometheusRule of the cluster, so each
 * service's ServiceMonitoring is picked up without a Helm release label.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** The namespace Prometheus runs in. */
  readonly namespace: pulumi.Output<string>;
  /** Service for `kubectl port-forward` to Prometheus' UI, port 9090. */
  readonly prometheusService: pulumi.Output<string>;
  /** Service for `kubectl port-forward` to Grafana, port 80. */
  readonly grafanaService: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:monitoring:Monitoring", name, {}, opts);
    const child = { parent: this };
    const namespaceName = args.namespace ?? monitoringDefaults.namespace;
    const nodeNamespaceName = args.nodeExporterNamespace ?? monitoringDefaults.nodeExporterNamespace;
    if (namespaceName === nodeNamespaceName) {
      throw new pulumi.ResourceError("nodeExporterNamespace must differ from namespace: it is the only one that allows host access", this);
    }
    // No default-deny policy here: the chart's pods talk to the API server and to every
    // service's operations port, which each service's own policy already restricts.
    const monitoringNamespace = (suffix: string, namespaceName: string, podSecurity: "restricted" | "privileged") =>
      new AppNamespace(`${name}-${suffix}`, { namespaceName, podSecurity, defaultDeny: false, labels: standardLabels(namespaceName, "monitoring") }, child);
    const namespace = monitoringNamespace("namespace", namespaceName, monitoringDefaults.podSecurity.namespace);
    const nodeNamespace = monitoringNamespace("node-namespace", nodeNamespaceName, monitoringDefaults.podSecurity.nodeExporterNamespace);

    const grafanaAdmin = new corev1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { namespace: namespace.name, labels: standardLabels("grafana", "monitoring") },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(args.grafanaAdminPassword) },
      },
      child,
    );

    const releaseName = name;
    const omittedCrds = args.optionalKinds ? [] : monitoringDefaults.optionalKinds.crds;
    const chart = new helm.Chart(
      name,
      {
        ...chartSource(charts.kubePrometheusStack, args.chartSource),
        postRenderer: chartPostRenderer({ drop: omittedCrds.map(crdReference) }),
        name: releaseName,
        namespace: namespace.name,
        values: chartValues(
          charts.kubePrometheusStack,
          args.chartSource,
          kubePrometheusStackValues({
            fullname: releaseName,
            namespace: namespaceName,
            nodeExporterNamespace: nodeNamespace.name,
            grafanaAdminSecret: grafanaAdmin.metadata.name,
            scrapeInterval: args.scrapeInterval ?? monitoringDefaults.scrapeInterval,
            retention: args.retention ?? monitoringDefaults.retention,
            storageSize: args.storageSize,
            storageClass: args.storageClass,
            prometheusReplicas: args.prometheusReplicas ?? monitoringDefaults.prometheus.replicas,
            prometheusResources: args.prometheusResources ?? monitoringDefaults.prometheus.resources,
            alertmanagerReplicas: args.alertmanagerReplicas ?? monitoringDefaults.alertmanager.replicas,
            scheduling: args.scheduling,
            operatorScheduling: args.operatorScheduling,
            exemplarTraces: args.exemplarTraces,
            omittedCrds,
          }),
        ),
      },
      { ...child, dependsOn: [nodeNamespace] },
    );

    for (const appNamespace of args.appNamespaces ?? []) {
      dashboardConfigMap(`${name}-${appNamespace}-overview`, namespace.name, overviewDashboard(appNamespace), standardLabels("grafana", "monitoring"), child);
    }

    this.namespace = namespace.name;
    this.prometheusService = chart.resources.apply(() => `${releaseName}-prometheus`);
    this.grafanaService = chart.resources.apply(() => `${releaseName}-grafana`);
    this.registerOutputs({
      namespace: this.namespace,
      prometheusService: this.prometheusService,
      grafanaService: this.grafanaService,
    });
  }
}

/** What decides kube-prometheus-stack's values. */
export interface KubePrometheusStackSettings {
  readonly fullname: string;
  readonly namespace: string;
  readonly nodeExporterNamespace: pulumi.Input<string>;
  readonly grafanaAdminSecret: pulumi.Input<string>;
  readonly scrapeInterval: string;
  readonly retention: string;
  readonly storageSize?: string;
  readonly storageClass?: string;
  readonly prometheusReplicas: number;
  readonly prometheusResources: Resources;
  readonly alertmanagerReplicas: number;
  readonly scheduling?: Scheduling;
  /** @default `scheduling` */
  readonly operatorScheduling?: Scheduling;
  readonly exemplarTraces?: ExemplarTraces;
  /** The CRDs left out of the chart's (`monitoringDefaults.optionalKinds.crds`). @default none */
  readonly omittedCrds?: readonly string[];
}

const supportResources = monitoringDefaults.support;

/** The CRDs kube-prometheus-stack installs (its `crds` subchart), which prometheus-operator serves. */
export const prometheusOperatorCrds = [
  "alertmanagerconfigs",
  "alertmanagers",
  "podmonitors",
  "probes",
  "prometheusagents",
  "prometheuses",
  "prometheusrules",
  "scrapeconfigs",
  "servicemonitors",
  "thanosrulers",
].map(operatorCrd);

/** A CRD as cli-utils' depends-on annotation and the post-renderer's `drop` name it. */
const crdReference = (name: string) => `apiextensions.k8s.io/CustomResourceDefinition/${name}`;

/**
 * The chart's values. Each setting that departs from the chart's defaults says why.
 */
export function kubePrometheusStackValues(s: KubePrometheusStackSettings): Record<string, unknown> {
  const placed = podScheduling(s.scheduling);
  const selectEverything = Object.fromEntries(
    ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"].map((kind) => [`${kind}SelectorNilUsesHelmValues`, false]),
  );
  return {
    fullnameOverride: s.fullname,
    // CRDs of 350 to 480 KB exceed the 262,144-byte last-applied annotation of client-side apply;
    // they are applied server-side, the Kubernetes provider's default in v4 (and the stack's
    // provider sets enableServerSideApply explicitly).
    crds: { enabled: true },
    // Control-plane components that managed clusters (EKS) and kind do not expose to Prometheus:
    // scraping them would only raise target-down alerts.
    kubeEtcd: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeProxy: { enabled: false },
    // node-exporter runs on Linux nodes alone (its chart's selector): the chart's AIX and macOS node
    // dashboards, beside Linux's, could never show a series.
    nodeExporter: { operatingSystems: { aix: { enabled: false }, darwin: { enabled: false } } },
    // The operator writes the kubelets' Service itself, owned by nothing: in kube-system (the
    // chart's default) it would outlive `pulumi destroy`; in this namespace it goes with it.
    kubelet: { namespace: s.namespace },
    prometheusOperator: {
      // The operator looks for its CRDs once, when it starts: started before they are established,
      // it runs without its Prometheus and Alertmanager controllers until restarted, and no
      // Prometheus ever comes (seen on the e2e's real node, where its pod started in 2 s). Helm
      // installs a chart's CRDs first; helm.v4.Chart orders a chart's objects by this annotation
      // instead (cli-utils' dependency graph), and awaits each CRD's Established condition.
      annotations: {
        "config.kubernetes.io/depends-on": prometheusOperatorCrds
          .filter((crd) => !s.omittedCrds?.includes(crd))
          .map(crdReference)
          .join(","),
      },
      kubeletService: { namespace: s.namespace },
      // helm.v4.Chart drops Helm hooks (pulumi-kubernetes#3284), and the admission webhook's
      // certificate is made and patched in by hook Jobs. Without them the webhook would point at
      // a Secret nobody makes, so it is off; rules are checked by promtool in the tests instead.
      admissionWebhooks: { enabled: false, patch: { enabled: false } },
      // The operator's TLS listener reads that same webhook Secret: with it the pod could not start.
      tls: { enabled: false },
      resources: supportResources.operator,
      ...podScheduling(s.operatorScheduling ?? s.scheduling),
      prometheusConfigReloader: { resources: supportResources.configReloader },
    },
    prometheus: {
      prometheusSpec: {
        replicas: s.prometheusReplicas,
        scrapeInterval: s.scrapeInterval,
        evaluationInterval: s.scrapeInterval,
        retention: s.retention,
        // Deletes the oldest blocks before the volume (or the emptyDir's limit) is full.
        retentionSize: retentionSize(s.storageSize ?? s.prometheusResources.limits.ephemeralStorage),
        // Select every ServiceMonitor, PodMonitor, PrometheusRule, Probe and ScrapeConfig, not only
        // those carrying this Helm release's label, which Flotilla's own objects do not.
        ...selectEverything,
        resources: resourceRequirements(s.prometheusResources),
        storageSpec: s.storageSize ? volumeClaim(s.storageSize, s.storageClass) : { emptyDir: { sizeLimit: s.prometheusResources.limits.ephemeralStorage } },
        ...placed,
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        replicas: s.alertmanagerReplicas,
        resources: supportResources.alertmanager,
        ...placed,
        ...(s.storageSize ? { storage: volumeClaim("1Gi", s.storageClass) } : {}),
      },
    },
    grafana: {
      admin: { existingSecret: s.grafanaAdminSecret, userKey: "admin-user", passwordKey: "admin-password" },
      resources: supportResources.grafana,
      sidecar: {
        resources: supportResources.sidecar,
        // The chart's Prometheus data source links an exemplar's trace id to the trace.
        ...(s.exemplarTraces
          ? {
              datasources: {
                exemplarTraceIdDestinations: {
                  datasourceUid: s.exemplarTraces.datasourceUid,
                  traceIdLabelName: s.exemplarTraces.traceIdLabel,
                  urlDisplayLabel: "Trace",
                },
              },
            }
          : {}),
      },
      ...placed,
      // Helm test pods are hooks, which helm.v4.Chart does not run.
      testFramework: { enabled: false },
    },
    "kube-state-metrics": { resources: supportResources.kubeStateMetrics, ...placed },
    "prometheus-node-exporter": {
      namespaceOverride: s.nodeExporterNamespace,
      resources: supportResources.nodeExporter,
      // The chart's own selector (Linux nodes) is kept beside the stack's.
      ...(placed.nodeSelector ? { nodeSelector: { "kubernetes.io/os": "linux", ...placed.nodeSelector } } : {}),
      ...(placed.tolerations ? { tolerations: placed.tolerations } : {}),
    },
  };
}

/** 85% of a volume's size, in the unit Prometheus reads (MB), so compaction has room left. */
export function retentionSize(volumeSize: string): string {
  return `${Math.floor((quantityValue(volumeSize) * 0.85) / 2 ** 20)}MB`;
}

function volumeClaim(size: string, storageClass: string | undefined) {
  return {
    volumeClaimTemplate: {
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, ...(storageClass ? { storageClassName: storageClass } : {}) },
    },
  };
}
