/**
 * The Helm charts the stack installs, pinned, and where they are fetched from: the upstream
 * repositories by default, or a mirror (a chart repository URL, or a directory of the chart
 * packages) for air-gapped clusters. Every chart goes through `chartSource`, so one setting moves
 * them all.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as path from "node:path";

/** A chart at a pinned version, and the repository that publishes it. */
export interface ChartRef {
  readonly chart: string;
  readonly version: string;
  readonly repository: string;
  /** The chart's values that take every image it runs from `registry`, under its upstream path. */
  readonly mirroredImages: (registry: string) => Record<string, unknown>;
}

/** Every chart Flotilla installs. A version changes here and nowhere else. */
export const charts = {
  /** Prometheus Operator v0.93.1, Prometheus, Alertmanager, Grafana, kube-state-metrics, node-exporter. */
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    repository: "https://prometheus-community.github.io/helm-charts",
    // The chart and its subcharts prefix every image with it, the operator's Prometheus and
    // Alertmanager (and their config reloader) included.
    mirroredImages: (registry: string) => ({ global: { imageRegistry: registry } }),
  },
  /** Elastic Cloud on Kubernetes 3.5.0, which runs Elasticsearch and Kibana. */
  eckOperator: {
    chart: "eck-operator",
    version: "3.5.0",
    repository: "https://helm.elastic.co",
    // The operator's own image, and the registry it takes Elasticsearch's and Kibana's from.
    mirroredImages: (registry: string) => ({ image: { repository: `${registry}/eck/eck-operator` }, config: { containerRegistry: registry } }),
  },
  /** Fluent Bit 5.1, the log collector on every node. */
  fluentBit: {
    chart: "fluent-bit",
    version: "0.58.1",
    repository: "https://fluent.github.io/helm-charts",
    mirroredImages: (registry: string) => ({ image: { repository: `${registry}/fluent/fluent-bit` } }),
  },
  /** The CloudNativePG operator 1.30.0, which runs each service's PostgreSQL cluster. */
  cloudnativePg: {
    chart: "cloudnative-pg",
    version: "0.29.0",
    repository: "https://cloudnative-pg.github.io/charts",
    mirroredImages: (registry: string) => ({ image: { repository: `${registry}/cloudnative-pg/cloudnative-pg` } }),
  },
  /**
   * CloudNativePG's Barman Cloud plugin v0.13.0, which archives a cluster's WAL and base backups to
   * an object store (and the sidecar it puts into each instance pod).
   */
  barmanCloud: {
    chart: "plugin-barman-cloud",
    version: "0.7.0",
    repository: "https://cloudnative-pg.github.io/charts",
    mirroredImages: (registry: string) => ({ image: { registry }, sidecarImage: { registry } }),
  },
  /** The OpenTelemetry Collector 0.158 (its Kubernetes distribution), which receives the services' spans. */
  otelCollector: {
    chart: "opentelemetry-collector",
    version: "0.170.0",
    repository: "https://open-telemetry.github.io/opentelemetry-helm-charts",
    mirroredImages: (registry: string) => ({ image: { repository: `${registry}/otel/opentelemetry-collector-k8s` } }),
  },
  /** Jaeger 2.13, which stores traces in Elasticsearch and serves the query API and UI. */
  jaeger: {
    chart: "jaeger",
    version: "4.2.3",
    repository: "https://jaegertracing.github.io/helm-charts",
    mirroredImages: (registry: string) => ({ global: { imageRegistry: registry } }),
  },
} as const satisfies Record<string, ChartRef>;

/**
 * Where charts come from. Unset: each chart's upstream repository.
 */
export interface ChartSource {
  /** A Helm repository serving every chart above (an Artifactory or Harbor proxy, `helm serve`, …). */
  readonly repository?: string;
  /** A directory holding the chart packages as `helm pull` names them: `<chart>-<version>.tgz`. */
  readonly directory?: string;
  /**
   * A registry mirroring every image the charts run, under the upstream paths (`<registry>/eck/
   * eck-operator`, `<registry>/prometheus/prometheus`, …), for clusters that reach no public one.
   */
  readonly imageRegistry?: string;
}

/** A chart's values, with its images taken from the source's mirror registry when it names one. */
export function chartValues(ref: ChartRef, source: ChartSource = {}, values: Record<string, unknown>): Record<string, unknown> {
  return source.imageRegistry === undefined ? values : mergeValues(values, ref.mirroredImages(source.imageRegistry));
}

/** `override` laid over `base`, object by object, as Helm merges values files (null removes a key). */
export function mergeValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    if (value === null) delete merged[key];
    else merged[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : value;
  }
  return merged;
}

/** The `chart`, `version` and `repositoryOpts` arguments of a `helm.v4.Chart` for `ref`. */
export function chartSource(ref: ChartRef, source: ChartSource = {}): Pick<k8s.helm.v4.ChartArgs, "chart" | "version" | "repositoryOpts"> {
  if (source.directory !== undefined) {
    // A package file carries its own version.
    return { chart: chartPackagePath(ref, source.directory) };
  }
  return { chart: ref.chart, version: ref.version, repositoryOpts: { repo: source.repository ?? ref.repository } };
}

/** The file `helm pull` writes for `ref` into `directory`. */
export function chartPackagePath(ref: ChartRef, directory: string): string {
  return path.join(directory, `${ref.chart}-${ref.version}.tgz`);
}
