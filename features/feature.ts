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
import type { GoService } from "../components/apps/goService";
import type { ChartSource } from "../components/charts/charts";
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

export interface EgressPath {
  readonly namespace: string;
  readonly podLabels?: Readonly<Record<string, string>>;
  readonly port: number;
}

/** What the stack hands a feature it deploys. */
export interface FeatureContext {
  readonly environment: string;
  /** The namespace the services run in. */
  readonly appNamespace: string;
  readonly chartSource: ChartSource;
  /** The feature's secrets (`Feature.secrets`), by name, as secret Outputs. */
  readonly secret: (name: string) => pulumi.Output<string>;
  /** The image of one of `Feature.images`, by name: built and pushed by the stack, or the prebuilt one. */
  readonly image: (name: string) => pulumi.Output<string>;
  /** The cluster's provider. */
  readonly opts: pulumi.ComponentResourceOptions;
}

/** A service as a feature sees it, once deployed. */
export interface DeployedService {
  readonly name: string;
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
  /** Paths inside the slice whose values must be Pulumi secrets, by the name `FeatureContext.secret` takes. */
  readonly secrets?: Readonly<Record<string, readonly string[]>>;
  /** The teardown check's part. */
  readonly teardown?: Teardown;
  enabled(slice: z.output<Schema>): boolean;
  /** Rules across the slice's keys and the environment; `report` takes a path inside the slice. */
  check?(
    slice: z.output<Schema>,
    stack: { readonly environment: string },
    report: (path: readonly (string | number)[], input: unknown, message: string) => void,
  ): void;
  /** The pods it runs and what each requests, for the check against the nodes; keys inside the slice. */
  pods(slice: z.output<Schema>): PodDemand[];
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

/** The paths the enabled features open in every service's NetworkPolicy, merged. */
export function servicePathsOf(list: readonly AnyFeature[], config: object): Required<ServicePaths> {
  const enabled = list.filter((f) => f.enabled(sliceOf(config, f)));
  const paths = enabled.map((f) => f.servicePaths(sliceOf(config, f)));
  return { opsIngressFrom: paths.flatMap((p) => p.opsIngressFrom ?? []), egress: paths.flatMap((p) => p.egress ?? []) };
}
