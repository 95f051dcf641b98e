/**
 * Who may talk to Elasticsearch and Kibana in the logging namespace, on top of its default-deny
 * policy: the collector's namespace, the ECK operator, Kibana, the setup Job, the expiry CronJobs
 * and the pods of the declared clients (Jaeger), and nobody else.
 */
import type * as k8s from "@pulumi/kubernetes";
import { dnsEgress, inNamespace, tcp } from "../apps/networkPolicy";

type Spec = k8s.types.input.networking.v1.NetworkPolicySpec;

export interface LoggingTraffic {
  /** Name of the Elasticsearch and Kibana resources. */
  readonly cluster: string;
  /** Namespace of the collector, which writes to Elasticsearch. */
  readonly agentNamespace: string;
  /** Namespace of the ECK operator, which manages Elasticsearch through its API. */
  readonly operatorNamespace: string;
  /** Labels of the setup Job's pods. */
  readonly setupLabels: Record<string, string>;
  /** Labels of the expiry CronJobs' pods, which delete clients' old indices. */
  readonly expiryLabels: Record<string, string>;
  /** Pods of other features that have a user of their own in Elasticsearch (Jaeger). */
  readonly clients?: readonly { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> }[];
}

/** The policies by name: `elasticsearch`, `kibana`, `logsetup` and `index-expiry`. */
export function loggingNetworkPolicies(t: LoggingTraffic): Record<string, Spec> {
  const elasticsearch = { podSelector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": t.cluster } } };
  const kibana = { podSelector: { matchLabels: { "kibana.k8s.elastic.co/name": t.cluster } } };
  const setup = { podSelector: { matchLabels: t.setupLabels } };
  const expiry = { podSelector: { matchLabels: t.expiryLabels } };
  return {
    elasticsearch: {
      ...elasticsearch,
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            inNamespace(t.agentNamespace),
            inNamespace(t.operatorNamespace),
            kibana,
            setup,
            expiry,
            ...(t.clients ?? []).map((c) => ({ ...inNamespace(c.namespace), podSelector: { matchLabels: { ...c.podLabels } } })),
          ],
          ports: tcp(9200),
        },
        // Node-to-node transport.
        { from: [elasticsearch], ports: tcp(9300) },
      ],
      egress: [dnsEgress, { to: [elasticsearch], ports: tcp(9300) }],
    },
    kibana: {
      ...kibana,
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [inNamespace(t.operatorNamespace), setup], ports: tcp(5601) }],
      egress: [dnsEgress, { to: [elasticsearch], ports: tcp(9200) }],
    },
    logsetup: {
      ...setup,
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [dnsEgress, { to: [elasticsearch], ports: tcp(9200) }, { to: [kibana], ports: tcp(5601) }],
    },
    "index-expiry": {
      ...expiry,
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [dnsEgress, { to: [elasticsearch], ports: tcp(9200) }],
    },
  };
}
