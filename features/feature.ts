/**
 * A feature is one optional capability of the stack (monitoring, logging, and those to come),
 * declared once, in its own folder: its config slice, the namespaces it owns, the paths it opens
 * in the services' network policies, what it adds per service, its pods, its images, its outputs
 * and its part of the teardown check. The stack, the contract and the policy pack read the list in
 * `features/index.ts`; none of them names a feature.
 *
 * A feature composes the reusable components of `components/` (the `@flotilla/stack` package);
 * the declaration lives here, beside the stack, because the contract (zod) is the stack's.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { GoService, SecretKeyEnv } from "../components/apps/goService";
import type { EgressPeer } from "../components/apps/networkPolicy";
import type { ChartRef, ChartSource } from "../components/charts/charts";
import type { ElasticsearchClient } from "../components/logging/logging";
import type { PodDemand } from "../components/podDemand";

/** A namespace a feature owns: no app may be deployed into it. */
export interface FeatureNamespace {
  readonly name: string;
  /** The Pod Security level it enforces; "privileged" grants the policy pack's exception. */
  readonly podSecurity: "restricted" | "baseline" | "privileged";
  /** Why it is apart, and why at that level. */
  readonly why: string;
}

/** What a feature opens in every service's NetworkPolicy. */
export interface ServicePaths {
  /** Namespaces whose pods may reach the services' operations port (a metrics scraper). */
  readonly opsIngressFrom?: readonly string[];
  /** Where the services may send: pods of a namespace (all of them when `podLabels` is unset), on a TCP port. */
  readonly egress?: readonly EgressPath[];
}

/** Pods of a namespace (all of them when `podLabels` is unset), or addresses outside the cluster (`cidr`), on a TCP port. */
export type EgressPath = EgressPeer;

/** The stack's own keys, as a feature's rules and pods see them. */
export interface StackView {
  readonly environment: string;
  /** How the stack reaches its cluster: `existing`, `eks` (made by the stack) or `stackReference` (a cluster stack's). */
  readonly cluster: { readonly type: string };
  /** Each service's declaration, with the keys features add (`serviceKey`). */
  readonly services: Readonly<Record<string, Readonly<Record<string, unknown>> & { readonly resources?: unknown }>>;
}

/** What a feature gives one service before its workload exists. */
export interface ServiceAdditions {
  /** Plain variables; the feature's `check` refuses a service that sets them itself. */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables from keys of Secrets that exist apart from the config (an operator's credentials). */
  readonly secretKeyEnv?: readonly SecretKeyEnv[];
  /** Destinations only this service may reach. */
  readonly egress?: readonly EgressPath[];
}

/** What the stack hands a feature it deploys. */
export interface FeatureContext {
  readonly environment: string;
  /** The whole validated config, for what a feature reads beyond its slice (the services' declarations). */
  readonly stack: StackView;
  /** Namespaces the enabled features let scrape metrics (`opsIngressFrom`), for a feature's own pods' metrics ports. */
  readonly scrapers: readonly string[];
  /** The namespace the services run in. */
  readonly appNamespace: string;
  readonly chartSource: ChartSource;
  /** The feature's secrets (`Feature.secrets`), by name, as secret Outputs. */
  readonly secret: (name: string) => pulumi.Output<string>;
  /** Whether the config sets that secret: an optional one may be left out. */
  readonly hasSecret: (name: string) => boolean;
  /** The image of one of `Feature.images`, by name: built and pushed by the stack, or the prebuilt one. */
  readonly image: (name: string) => pulumi.Output<string>;
  /** The users the enabled features declare in Elasticsearch (`Feature.elasticsearchClients`), passwords resolved. */
  readonly elasticsearchClients: readonly ElasticsearchClient[];
  /** The Elasticsearch a feature deployed before this one offers (`FeatureDeployment.elasticsearch`), if any. */
  readonly elasticsearch: () => SharedElasticsearch | undefined;
  /** The Prometheus a feature deployed before this one runs (`FeatureDeployment.monitoring`), if any. */
  readonly monitoring: () => SharedMonitoring | undefined;
  /** The logs' Grafana data source a feature deployed before this one offers (`FeatureDeployment.logs`), if any. */
  readonly logs: () => SharedLogs | undefined;
  /** Where an enabled feature keeps traces (`Feature.traceStore`), whether deployed before this one or after. */
  readonly traceStore: TraceStore | undefined;
  /** The cluster's provider. */
  readonly opts: pulumi.ComponentResourceOptions;
  /** The EKS cluster's name, where the stack knows it (it made the cluster, or reads it from a cluster stack). */
  readonly eksClusterName: pulumi.Output<string> | undefined;
  /** Whether stateful pieces are protected from `pulumi destroy` (prod). */
  readonly protect: boolean;
}

/** An Elasticsearch that one feature runs and others use, each as a user of its own. */
export interface SharedElasticsearch {
  readonly url: pulumi.Output<string>;
  /** PEM certificate of the CA that signed its HTTP certificate. */
  readonly caCertificate: pulumi.Output<string>;
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
  /** Replicas an index there should have: 1 where there is a second node to hold them. */
  readonly indexReplicas: number;
}

/**
 * Where one feature keeps traces, as Grafana opens them: the other features link to it from what
 * carries a trace's id (a latency exemplar, a log line).
 */
export interface TraceStore {
  /** Uid of the Grafana data source that opens a trace by its id. */
  readonly grafanaDatasourceUid: string;
  /** The exemplar label and log field that carry a trace's id. */
  readonly traceIdField: string;
}

/** Logs that one feature offers as a Grafana data source, for links to them from traces. */
export interface SharedLogs {
  /** What a trace data source adds to open a trace's log lines (Grafana's `tracesToLogsV2`). */
  readonly tracesToLogs: Readonly<Record<string, unknown>>;
}

/** A Prometheus (and Grafana) that one feature runs and others' monitors, rules and dashboards join. */
export interface SharedMonitoring {
  /** What a PodMonitor, ServiceMonitor or PrometheusRule waits for: the operator's CRDs. */
  readonly ready: pulumi.Resource;
  readonly scrapeInterval: string;
  /** Where alerts' `runbook_url` annotations point. */
  readonly runbookBaseUrl: string;
  /** Grafana's namespace: its data source sidecar reads ConfigMaps there alone. */
  readonly grafanaNamespace: pulumi.Output<string>;
}

/** A user a feature needs in the shared Elasticsearch; its password is one of the feature's `secrets`, by name. */
export type ElasticsearchClientDeclaration = Omit<ElasticsearchClient, "password"> & { readonly passwordSecret: string };

/** A service as a feature sees it, once deployed. */
export interface DeployedService {
  readonly name: string;
  /** Its declaration, with the keys features add. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly namespace: pulumi.Output<string>;
  readonly protocol: "http" | "grpc";
  readonly availabilityObjectivePercent?: number;
  readonly workload: GoService;
}

export interface FeatureDeployment {
  /** The feature's stack outputs, under its key: where its parts are, for `kubectl port-forward`. */
  readonly outputs: Readonly<Record<string, pulumi.Output<string> | undefined>>;
  /** Adds what the feature gives each service (monitors, rules, dashboards). */
  addToService?(service: DeployedService): void;
  /** The Elasticsearch it runs, for the features deployed after it. */
  readonly elasticsearch?: SharedElasticsearch;
  /** The Prometheus it runs, for the features deployed after it. */
  readonly monitoring?: SharedMonitoring;
  /** The logs' Grafana data source it made, for the features deployed after it. */
  readonly logs?: SharedLogs;
}

/** What the feature leaves after `pulumi destroy`, for the end-to-end teardown check. */
export interface Teardown {
  /** CRD groups that must be gone. */
  readonly removedCrdGroups?: readonly string[];
  /** CRD groups whose chart keeps them on uninstall, and the kinds of which no object may be left. */
  readonly keptCrds?: readonly { readonly groupSuffix: string; readonly kinds: readonly string[] }[];
}

/**
 * One feature. `Slice` is its config slice as validated, defaults filled in. The methods take the
 * slice of a stack where the feature is enabled, except `pods` and `check`, which see any.
 */
export interface Feature<Key extends string = string, Schema extends z.ZodType = z.ZodType> {
  /** Its top-level config key, `flotilla:<key>`. */
  readonly key: Key;
  /** Its config slice, with defaults; `enabled` decides whether it deploys. */
  readonly schema: Schema;
  readonly namespaces: readonly FeatureNamespace[];
  /** The Helm charts it installs for this config (the slice of an enabled feature); a chart directory must hold these. */
  charts?(slice: z.output<Schema>, stack: StackView): readonly ChartRef[];
  /** Paths inside the slice whose values must be Pulumi secrets, by the name `FeatureContext.secret` takes. */
  readonly secrets?: Readonly<Record<string, readonly string[]>>;
  /** The teardown check's part. */
  readonly teardown?: Teardown;
  /** Keys of the features it needs enabled beside it, deployed before it (earlier in the list). */
  readonly requires?: readonly string[];
  /** Where it keeps traces, for links from the other features' metrics and logs. */
  traceStore?(slice: z.output<Schema>): TraceStore;
  /** Users it needs in the shared Elasticsearch (`FeatureDeployment.elasticsearch`); one whose password the config does not set is left out. */
  elasticsearchClients?(slice: z.output<Schema>, stack: StackView): readonly ElasticsearchClientDeclaration[];
  /** A key the feature adds to every service's declaration (`services.<name>.<key>`), optional there. */
  readonly serviceKey?: { readonly key: string; readonly schema: z.ZodType };
  enabled(slice: z.output<Schema>, stack: StackView): boolean;
  /**
   * Rules across the slice's keys, the environment and the services; `report` takes a path inside
   * the slice, or from the config's root when it starts with "services".
   */
  check?(slice: z.output<Schema>, stack: StackView, report: (path: readonly (string | number)[], input: unknown, message: string) => void): void;
  /** Its pods and what each requests, for the check against the nodes; keys as `check`'s paths. */
  pods(slice: z.output<Schema>, stack: StackView): PodDemand[];
  /** What it gives a service before the service's workload is made. */
  forService?(
    slice: z.output<Schema>,
    service: { readonly name: string; readonly config: Readonly<Record<string, unknown>>; readonly namespace: string; readonly environment: string },
  ): ServiceAdditions;
  /** Images built from the services' Dockerfile (`services/cmd/<name>`), or prebuilt when `prebuilt` is set. */
  images?(slice: z.output<Schema>): readonly { readonly name: string; readonly prebuilt?: string }[];
  servicePaths(slice: z.output<Schema>): ServicePaths;
  deploy(slice: z.output<Schema>, context: FeatureContext): FeatureDeployment;
}

/** A feature of any slice, as lists hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFeature = Feature<string, any>;

/** Types a feature's declaration from its schema. */
export const defineFeature = <const Key extends string, Schema extends z.ZodType>(feature: Feature<Key, Schema>): Feature<Key, Schema> => feature;

/** The features' config slices as the contract's keys. */
export type FeatureShape<List extends readonly AnyFeature[]> = { [F in List[number] as F["key"]]: F["schema"] };

/** Prefixes a path reported inside a feature's slice with its key, unless it starts from the root ("services"). */
export const pathFrom = (feature: AnyFeature, path: readonly (string | number)[]) => (path[0] === "services" ? [...path] : [feature.key, ...path]);

/** The config slice of `feature` in a validated stack config. */
export const sliceOf = <Schema extends z.ZodType>(config: object, feature: Feature<string, Schema>): z.output<Schema> =>
  (config as Record<string, z.output<Schema>>)[feature.key] as z.output<Schema>;

/** The namespaces every feature owns, whether it is enabled or not: no app may take them. */
export const featureNamespaces = (list: readonly AnyFeature[]): FeatureNamespace[] => list.flatMap((f) => f.namespaces);

/** Namespaces that may run privileged pods (node agents reading the host), by the features' declarations. */
export const privilegedNamespacesOf = (list: readonly AnyFeature[]): string[] =>
  featureNamespaces(list)
    .filter((n) => n.podSecurity === "privileged")
    .map((n) => n.name);

/** The features' secret paths, from the config's root. */
export const featureSecretPaths = (list: readonly AnyFeature[]): Record<string, readonly string[]> =>
  Object.fromEntries(list.flatMap((f) => Object.entries(f.secrets ?? {}).map(([name, path]) => [name, [f.key, ...path]])));

/** The features of `list` that `config` enables. */
export const enabledFeatures = (list: readonly AnyFeature[], config: StackView): AnyFeature[] => list.filter((f) => f.enabled(sliceOf(config, f), config));

/** The paths the enabled features open in every service's NetworkPolicy, merged. */
export function servicePathsOf(list: readonly AnyFeature[], config: StackView): Required<ServicePaths> {
  const enabled = enabledFeatures(list, config);
  const paths = enabled.map((f) => f.servicePaths(sliceOf(config, f)));
  return { opsIngressFrom: paths.flatMap((p) => p.opsIngressFrom ?? []), egress: paths.flatMap((p) => p.egress ?? []) };
}
