/**
 * What a part of the stack asks of a node for each kind of pod it runs. Every part declares its
 * pods here (services, monitoring, logging, and each feature to come), and one check at the root
 * of the contract holds them all against the largest node type (config/crossChecks.ts), so that
 * no pod the stack makes stays Pending for want of a node that can hold it.
 */
import { quantityValue } from "./quantities";

export interface PodDemand {
  /** The pod, as a refusal names it: "Prometheus", "Kibana". */
  readonly pod: string;
  /**
   * The config key that sets its requests (an object with `cpu` and `memory`), or, for a pod of
   * a fixed size (`fixed`), the key that turns it on.
   */
  readonly key: readonly (string | number)[];
  /** Its containers' requests, summed. */
  readonly requests: { readonly cpu: string; readonly memory: string };
  /** Its size is the component's own, set by no key. */
  readonly fixed?: true;
  /** A DaemonSet's pod: one runs beside the others on every node. */
  readonly everyNode?: true;
}

/** Containers' requests summed into one pod's, in cores and bytes written as plain numbers. */
export function podRequests(...containers: { readonly cpu: string; readonly memory: string }[]): PodDemand["requests"] {
  const sum = (pick: (c: { cpu: string; memory: string }) => string) => containers.reduce((total, c) => total + quantityValue(pick(c)), 0);
  return { cpu: String(Number(sum((c) => c.cpu).toFixed(3))), memory: String(Math.ceil(sum((c) => c.memory))) };
}
