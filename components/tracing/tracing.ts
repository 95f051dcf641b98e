import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import * as helm from "@pulumi/kubernetes/helm/v4";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";
import { chartPostRenderer } from "../charts/postRender";
import { dnsEgress, inNamespace, tcp } from "../apps/networkPolicy";
import { type Resources, resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext, standardLabels } from "../apps/podSpec";
import { podScheduling, type Scheduling } from "../apps/scheduling";
import { charts, type ChartSource, chartSource, chartValues } from "../charts/charts";
import { monitoringDefaults } from "../monitoring/defaults";
import { grafanaDatasourceFile, grafanaDatasourceLabel, prometheusRule } from "../monitoring/serviceMonitoring";
import { AppNamespace } from "../namespace/appNamespace";
import { tracingDefaults as d } from "./defaults";
import { jaegerConfig } from "./jaegerConfig";
import { tracingRules } from "./rules";

/** Where Jaeger stores traces: an Elasticsearch over HTTPS, as a user of its own. */
export interface TraceStorage {
  /** Elasticsearch's URL, `https://<service>.<namespace>.svc:9200`. */
  readonly url: pulumi.Input<string>;
  /** The PEM CA certificate that signed its HTTP certificate. */
  readonly caCertificate: pulumi.Input<string>;
  /** Namespace of the Elasticsearch pods, which Jaeger may reach on 9200. */
  readonly namespace: string;
  /** Labels of the Elasticsearch pods. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Jaeger's user there, whose role limits it to Jaeger's indices. */
  readonly username: string;
  /** Its password; pass a secret Output. */
  readonly password: pulumi.Input<string>;
  /**
   * Replicas of each of Jaeger's indices.
   * @default 0
   */
  readonly indexReplicas?: number;
}

export interface TracingArgs {
  /** Namespaces whose services send spans to the collector. */
  readonly appNamespaces: readonly string[];
  readonly storage: TraceStorage;
  /**
   * Namespaces whose pods scrape metrics (Prometheus), let in to the collector's metrics port and
   * to Jaeger's query API (Grafana's data source).
   * @default none
   */
  readonly scrapers?: readonly string[];
  /**
   * Collector replicas; more than one survive a node's loss.
   * @default 1
   */
  readonly collectorReplicas?: number;
  /** @default 50m/96Mi requested, 500m/256Mi limited */
  readonly collectorResources?: Resources;
  /** @default 50m/128Mi requested, 500m/512Mi limited */
  readonly jaegerResources?: Resources;
  /**
   * Where the opentelemetry-collector and jaeger charts come from.
   * @default their upstream repositories
   */
  readonly chartSource?: ChartSource;
  /**
   * Which nodes Jaeger runs on, and the collector unless `collectorScheduling` says otherwise.
   * @default any node
   */
  readonly scheduling?: Scheduling;
  /**
   * Which nodes the collector runs on, when apart from Jaeger: near the services that send to it,
   * say, while Jaeger has nodes of its own.
   * @default `scheduling`
   */
  readonly collectorScheduling?: Scheduling;
  /**
   * Monitoring by prometheus-operator and Grafana: a PodMonitor on the collector's metrics port,
   * alerts on spans refused or dropped, and Jaeger as a Grafana data source.
   * @default not monitored
   */
  readonly monitoring?: TracingMonitoringArgs;
}

export interface TracingMonitoringArgs {
  /** What the PodMonitor and PrometheusRule wait for: the operator's CRDs (the Monitoring component). */
  readonly ready?: pulumi.Input<pulumi.Resource>;
  /** @default "30s" */
  readonly scrapeInterval?: string;
  /** Where alerts' `runbook_url` annotations point. @default "docs/runbooks.md" */
  readonly runbookBaseUrl?: string;
  /** Grafana's namespace, where its sidecar loads data sources; none is made without it. */
  readonly grafanaNamespace?: pulumi.Input<string>;
  /**
   * The Jaeger data source's link from a trace to its log lines (Grafana's `tracesToLogsV2` and
   * what it needs), from the logs' data source (components/logging/grafanaLogs.ts).
   * @default no link
   */
  readonly tracesToLogs?: Readonly<Record<string, unknown>>;
}

const collectorRelease = "collector";
const jaegerRelease = "jaeger";
/** The charts' selector labels, for the policies and the services' egress. */
export const collectorPodLabels = { "app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": collectorRelease };
export const jaegerPodLabels = { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/instance": jaegerRelease };
/** Where Jaeger reads its Elasticsearch password and CA, mounted from a Secret. */
const storageSecretPath = "/etc/jaeger-es";

/** The collector's OTLP gRPC endpoint, as the services' OTEL_EXPORTER_OTLP_ENDPOINT. */
export const collectorEndpoint = `http://${collectorRelease}.${d.namespace}.svc.cluster.local:${d.otlpPort}`;

/**
 * Traces: the OpenTelemetry Collector (OTLP in, memory_limiter and batch, OTLP out to Jaeger) and
 * Jaeger v2, which stores them in an Elasticsearch (the logging feature's) as a user limited to its
 * own indices and serves the query API and UI. Both from their upstream charts, in a namespace of
 * their own, closed by default: only the services reach the collector, only the collector reaches
 * Jaeger's OTLP port, and Jaeger reaches only Elasticsearch.
 */
export class Tracing extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  /** The collector's OTLP gRPC endpoint. */
  readonly collectorEndpoint: pulumi.Output<string>;
  /** Jaeger's query Service: UI and API on port 16686. */
  readonly queryService: pulumi.Output<string>;

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:tracing:Tracing", name, {}, opts);
    const child = { parent: this };
    if (args.appNamespaces.length === 0) {
      throw new pulumi.ResourceError("appNamespaces must name at least one namespace whose services send spans", this);
    }
    const replicas = args.collectorReplicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new pulumi.ResourceError(`collectorReplicas must be a whole number of at least 1, not ${replicas}`, this);
    }
    const placed = podScheduling(args.scheduling);
    const collectorPlaced = podScheduling(args.collectorScheduling ?? args.scheduling);
    const labels = (component: string) => standardLabels(name, component);
    const namespace = new AppNamespace(
      `${name}-namespace`,
      { namespaceName: d.namespace, podSecurity: "restricted", defaultDeny: true, labels: standardLabels(d.namespace, "tracing") },
      child,
    );
    const security = { podSecurityContext: restrictedPodSecurityContext(), securityContext: restrictedContainerSecurityContext() };

    new helm.Chart(
      `${name}-collector`,
      {
        ...chartSource(charts.otelCollector, args.chartSource),
        postRenderer: chartPostRenderer(),
        name: collectorRelease,
        namespace: namespace.name,
        values: chartValues(charts.otelCollector, args.chartSource, {
          mode: "deployment",
          fullnameOverride: collectorRelease,
          // The Kubernetes distribution: OTLP, memory_limiter, batch and the OTLP exporter are in it.
          image: { repository: "otel/opentelemetry-collector-k8s" },
          replicaCount: replicas,
          // It calls no Kubernetes API.
          serviceAccount: { automountServiceAccountToken: false },
          ...security,
          resources: resourceRequirements(args.collectorResources ?? d.collector.resources),
          // GOMEMLIMIT at 80% of the memory limit, so memory_limiter and the Go runtime agree.
          useGOMEMLIMIT: true,
          ports: {
            // OTLP over gRPC only; the other receivers the chart opens by default are turned off.
            "otlp-http": { enabled: false },
            "jaeger-compact": { enabled: false },
            "jaeger-thrift": { enabled: false },
            "jaeger-grpc": { enabled: false },
            zipkin: { enabled: false },
            metrics: { enabled: true },
          },
          config: collectorConfigOverrides(`${jaegerRelease}.${d.namespace}.svc.cluster.local:${d.otlpPort}`),
          ...collectorPlaced,
        }),
      },
      child,
    );

    // Named, not auto-named: the chart's values name it, and a name known at preview lets the
    // chart's objects preview too. Jaeger rereads the password file every minute (reload_interval).
    const storageSecret = new corev1.Secret(
      `${name}-storage`,
      {
        metadata: { name: "jaeger-elasticsearch", namespace: namespace.name, labels: labels("jaeger") },
        stringData: pulumi.secret(pulumi.all([args.storage.password, args.storage.caCertificate]).apply(([password, ca]) => ({ password, "ca.crt": ca }))),
      },
      child,
    );
    const config = pulumi.output(args.storage.url).apply((url) =>
      jaegerConfig({
        elasticsearchUrl: url,
        username: args.storage.username,
        passwordFile: `${storageSecretPath}/password`,
        caFile: `${storageSecretPath}/ca.crt`,
        indexReplicas: args.storage.indexReplicas ?? 0,
      }),
    );

    const jaeger = new helm.Chart(
      `${name}-jaeger`,
      {
        ...chartSource(charts.jaeger, args.chartSource),
        postRenderer: chartPostRenderer(),
        name: jaegerRelease,
        namespace: namespace.name,
        values: config.apply((config) =>
          chartValues(charts.jaeger, args.chartSource, {
            // "memory" keeps the chart from writing Elasticsearch settings (a default password
            // among them) into plain environment variables that Jaeger v2 does not read anyway;
            // the whole configuration is ours (userconfig).
            storage: { type: "memory" },
            userconfig: JSON.stringify(config),
            jaeger: {
              serviceAccount: { automountServiceAccountToken: false },
              ...security,
              resources: resourceRequirements(args.jaegerResources ?? d.jaeger.resources),
              extraSecretMounts: [{ name: "storage", mountPath: storageSecretPath, subPath: "", secretName: "jaeger-elasticsearch", readOnly: true }],
              ...placed,
            },
          }),
        ),
      },
      // Its pod mounts the Secret, which holds Elasticsearch's CA: made once Elasticsearch is.
      { ...child, dependsOn: [storageSecret] },
    );

    const policy = (suffix: string, spec: k8sInput.networking.v1.NetworkPolicySpec) =>
      new networkingv1.NetworkPolicy(`${name}-${suffix}`, { metadata: { namespace: namespace.name, labels: labels(suffix) }, spec }, child);
    policy("collector", {
      podSelector: { matchLabels: collectorPodLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: args.appNamespaces.map(inNamespace), ports: tcp(d.otlpPort) },
        ...(args.scrapers?.length ? [{ from: args.scrapers.map(inNamespace), ports: tcp(d.collectorMetricsPort) }] : []),
      ],
      egress: [dnsEgress, { to: [{ podSelector: { matchLabels: jaegerPodLabels } }], ports: tcp(d.otlpPort) }],
    });
    policy("jaeger", {
      podSelector: { matchLabels: jaegerPodLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [{ podSelector: { matchLabels: collectorPodLabels } }], ports: tcp(d.otlpPort) },
        ...(args.scrapers?.length ? [{ from: args.scrapers.map(inNamespace), ports: tcp(d.queryPort) }] : []),
      ],
      egress: [dnsEgress, { to: [{ ...inNamespace(args.storage.namespace), podSelector: { matchLabels: { ...args.storage.podLabels } } }], ports: tcp(9200) }],
    });

    if (args.monitoring) {
      this.monitor(name, args.monitoring, namespace.name, labels);
    }

    this.namespace = namespace.name;
    this.collectorEndpoint = pulumi.output(collectorEndpoint);
    this.queryService = pulumi.all([namespace.name, jaeger.urn]).apply(([ns]) => `${ns}/${jaegerRelease}`);
    this.registerOutputs({ namespace: this.namespace, collectorEndpoint: this.collectorEndpoint, queryService: this.queryService });
  }

  private monitor(name: string, monitoring: TracingMonitoringArgs, namespace: pulumi.Output<string>, labels: (part: string) => Record<string, string>): void {
    const opts = { parent: this, dependsOn: monitoring.ready ? [monitoring.ready] : [] };
    const metadata = { name: collectorRelease, namespace, labels: labels("monitoring") };
    new CustomResource(
      `${name}-collector-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata,
        spec: {
          selector: { matchLabels: collectorPodLabels },
          podMetricsEndpoints: [{ port: "metrics", interval: monitoring.scrapeInterval ?? monitoringDefaults.scrapeInterval }],
        },
      },
      opts,
    );
    prometheusRule(
      `${name}-rules`,
      metadata,
      namespace.apply((ns) => tracingRules({ namespace: ns, runbookBaseUrl: monitoring.runbookBaseUrl ?? monitoringDefaults.runbookBaseUrl })),
      opts,
    );
    if (monitoring.grafanaNamespace !== undefined) {
      // Grafana reaches Jaeger's query port: the Jaeger policy lets the scrapers' namespaces in.
      new corev1.ConfigMap(
        `${name}-grafana-datasource`,
        {
          metadata: { namespace: monitoring.grafanaNamespace, labels: { ...labels("grafana"), ...grafanaDatasourceLabel } },
          data: namespace.apply((ns) => ({
            "jaeger.yaml": jaegerDatasource(`http://${jaegerRelease}.${ns}.svc.cluster.local:${d.queryPort}`, monitoring.tracesToLogs),
          })),
        },
        { parent: this },
      );
    }
  }
}

/**
 * What the collector's configuration changes of the chart's default one, which Helm merges it
 * over (null removes a default): OTLP over gRPC in, through memory_limiter and batch, out over
 * OTLP to Jaeger at `jaegerOtlp` (host:port). Apart from the component so that a test can run a
 * real collector on the chart's default merged with these (scripts/render-collector-config.ts).
 */
export function collectorConfigOverrides(jaegerOtlp: string): Record<string, unknown> {
  return {
    receivers: {
      otlp: { protocols: { grpc: { endpoint: `\${env:MY_POD_IP}:${d.otlpPort}` }, http: null } },
      jaeger: null,
      zipkin: null,
      prometheus: null,
    },
    exporters: {
      debug: null,
      // In-cluster, in plain text: the policies let only this collector reach Jaeger's port.
      // `otlp_grpc`, the name 0.158 gives the OTLP gRPC exporter (`otlp` is its deprecated alias).
      otlp_grpc: { endpoint: jaegerOtlp, tls: { insecure: true } },
    },
    service: {
      pipelines: {
        logs: null,
        metrics: null,
        traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp_grpc"] },
      },
    },
  };
}

/** Jaeger as a Grafana data source, linking each trace to its logs when given how. */
export function jaegerDatasource(url: string, tracesToLogs?: Readonly<Record<string, unknown>>): string {
  return grafanaDatasourceFile({
    name: "Jaeger",
    type: "jaeger",
    uid: d.grafanaDatasourceUid,
    access: "proxy",
    url,
    editable: false,
    ...(tracesToLogs ? { jsonData: tracesToLogs } : {}),
  });
}
