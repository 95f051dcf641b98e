/**
 * Where a workload's pods may run: a node selector and tolerations, as a service or a feature
 * declares them (dedicated node pools, or the test cluster's real node beside kwok's).
 */
import type * as Inputs from "@pulumi/kubernetes/types/input";

export interface Toleration {
  readonly key?: string;
  readonly operator?: "Equal" | "Exists";
  readonly value?: string;
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  readonly tolerationSeconds?: number;
}

export interface Scheduling {
  /**
   * Node labels a pod's node must carry.
   * @default {}: any node
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Taints the pods tolerate.
   * @default []
   */
  readonly tolerations?: readonly Toleration[];
}

/**
 * The pod spec fields of a scheduling setting, each only when it says something, so that an
 * unset one leaves pod specs (and charts' values) exactly as they were.
 */
export function podScheduling(scheduling: Scheduling | undefined): Pick<Inputs.core.v1.PodSpec, "nodeSelector" | "tolerations"> {
  const nodeSelector = scheduling?.nodeSelector ?? {};
  const tolerations = scheduling?.tolerations ?? [];
  return {
    ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector: { ...nodeSelector } } : {}),
    ...(tolerations.length > 0 ? { tolerations: tolerations.map((t) => ({ ...t })) } : {}),
  };
}
