/**
 * The network policy of one service: nothing in or out except what its declaration names.
 */
import type * as k8s from "@pulumi/kubernetes";
import { selectorLabels } from "./podSpec";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** A service this one calls, and the port it listens on. */
export interface Callee {
  readonly name: string;
  readonly port: number;
}

export interface ServiceTraffic {
  /** Labels of the service's own pods. */
  readonly podSelector: Record<string, string>;
  /** The application (`app.kubernetes.io/part-of`) of the service and of its callers and callees. */
  readonly partOf: string;
  /** The public port, reachable by `callers`. */
  readonly port: number;
  /** Services allowed to call the public port; `"anyone"` when the service is exposed. */
  readonly callers: readonly string[] | "anyone";
  /** The operations port, reachable from the namespaces `opsIngressFrom` (Prometheus'). */
  readonly opsPort: number;
  readonly opsIngressFrom?: readonly string[];
  /** Services this one calls, in the same namespace. */
  readonly callees: readonly Callee[];
  /** Other destinations outside the namespace, such as a trace collector. */
  readonly egress?: readonly EgressPeer[];
}

/**
 * Where else a service may send, on a TCP port: pods of a namespace (all of them when `podLabels`
 * is unset), or addresses outside the cluster (`cidr`, such as a managed database's subnet).
 */
export type EgressPeer =
  | { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>>; readonly port: number }
  | { readonly cidr: string; readonly port: number };

/** A policy peer: every pod of a namespace. */
export const inNamespace = (namespace: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } });
/** A policy's ports: each a TCP port. */
export const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/** Cluster DNS, which every pod needs to find the services it calls. */
export const dnsEgress = {
  to: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

export function serviceNetworkPolicy(traffic: ServiceTraffic): NetworkPolicySpec {
  const callers =
    traffic.callers === "anyone" ? {} : { from: traffic.callers.map((caller) => ({ podSelector: { matchLabels: selectorLabels(caller, traffic.partOf) } })) };
  const publicIngress = traffic.callers === "anyone" || traffic.callers.length > 0 ? [{ ...callers, ports: tcp(traffic.port) }] : [];
  const opsFrom = traffic.opsIngressFrom ?? [];
  const scrapeIngress = opsFrom.length > 0 ? [{ from: opsFrom.map(inNamespace), ports: tcp(traffic.opsPort) }] : [];
  const calleeEgress = traffic.callees.map((callee) => ({
    to: [{ podSelector: { matchLabels: selectorLabels(callee.name, traffic.partOf) } }],
    ports: tcp(callee.port),
  }));
  const otherEgress = (traffic.egress ?? []).map((peer) => ({
    to: [
      "cidr" in peer
        ? { ipBlock: { cidr: peer.cidr } }
        : { ...inNamespace(peer.namespace), ...(peer.podLabels ? { podSelector: { matchLabels: { ...peer.podLabels } } } : {}) },
    ],
    ports: tcp(peer.port),
  }));
  return {
    podSelector: { matchLabels: traffic.podSelector },
    policyTypes: ["Ingress", "Egress"],
    ingress: [...publicIngress, ...scrapeIngress],
    egress: [dnsEgress, ...calleeEgress, ...otherEgress],
  };
}
