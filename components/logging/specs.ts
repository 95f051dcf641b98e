/**
 * What the Logging component (logging.ts) puts inside its objects: Elasticsearch's spec and ECK's
 * pod templates, the fluent-bit chart's values, and the Job that runs services/cmd/logsetup. Plain
 * functions of their settings, kept apart so the component reads in one sitting.
 */
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import type * as pulumi from "@pulumi/pulumi";
import { type Resources, resourceRequirements, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../apps/podSpec";
import { podScheduling, type Scheduling } from "../apps/scheduling";
import { loggingDefaults } from "./defaults";
import { bufferPath, collectorPasswordEnv, fluentBitConfig } from "./pipeline";

/** The Elasticsearch cluster's name, which ECK puts in its objects' names and its pods' labels. */
export const clusterName = "logs";
export const elasticsearchPodLabels = { "elasticsearch.k8s.elastic.co/cluster-name": clusterName };

export interface ElasticsearchSettings {
  readonly replicas: number;
  readonly heap: string;
  readonly resources: Resources;
  readonly storageSize?: string;
  readonly storageClass?: string;
  /** Secrets of the file realm's users (the collector's first) and of their roles. */
  readonly userSecrets: readonly pulumi.Input<string>[];
  readonly roleSecrets: readonly pulumi.Input<string>[];
  readonly scheduling?: Scheduling;
}

/** The Elasticsearch resource's spec; each departure from ECK's defaults says why. */
export function elasticsearchSpec(s: ElasticsearchSettings): Record<string, unknown> {
  const spread = s.replicas > 1;
  const template = restrictedPodTemplate("elasticsearch", s.resources, [{ name: "ES_JAVA_OPTS", value: `-Xms${s.heap} -Xmx${s.heap}` }], s.scheduling);
  const podSpec = template.spec as Record<string, unknown>;
  if (spread) {
    podSpec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: elasticsearchPodLabels },
      },
    ];
  }
  if (!s.storageSize) {
    podSpec.volumes = [{ name: "elasticsearch-data", emptyDir: {} }];
  }
  return {
    version: loggingDefaults.stackVersion,
    auth: { fileRealm: s.userSecrets.map((secretName) => ({ secretName })), roles: s.roleSecrets.map((secretName) => ({ secretName })) },
    ...(spread ? { podDisruptionBudget: { spec: { maxUnavailable: 1, selector: { matchLabels: elasticsearchPodLabels } } } } : {}),
    nodeSets: [
      {
        name: "default",
        count: s.replicas,
        config: {
          // No mmap: the node needs no vm.max_map_count sysctl, so no privileged init container.
          "node.store.allow_mmap": false,
          ...(spread ? { "node.attr.zone": "${ZONE}", "cluster.routing.allocation.awareness.attributes": "k8s_node_name,zone" } : {}),
        },
        podTemplate: template,
        ...(s.storageSize
          ? {
              volumeClaimTemplates: [
                {
                  metadata: { name: "elasticsearch-data" },
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: s.storageSize } },
                    ...(s.storageClass ? { storageClassName: s.storageClass } : {}),
                  },
                },
              ],
            }
          : {}),
      },
    ],
  };
}

/** A pod template for ECK that the "restricted" Pod Security Standard admits, with requests and limits. */
export function restrictedPodTemplate(
  container: string,
  resources: Resources,
  env: { name: string; value: string }[] = [],
  scheduling?: Scheduling,
): Record<string, unknown> {
  // ECK's images run as uid 1000; the read-only root file system is left to ECK, which mounts
  // what Elasticsearch and Kibana write to only in recent versions.
  const {
    runAsUser: _user,
    runAsGroup: _group,
    readOnlyRootFilesystem: _readOnly,
    ...containerContext
  } = restrictedContainerSecurityContext() as Record<string, unknown>;
  const { runAsUser: _podUser, runAsGroup: _podGroup, fsGroup: _fsGroup, ...podContext } = restrictedPodSecurityContext() as Record<string, unknown>;
  return {
    spec: {
      securityContext: { ...podContext, fsGroup: 1000 },
      ...podScheduling(scheduling),
      containers: [{ name: container, resources: resourceRequirements(resources), securityContext: containerContext, ...(env.length ? { env } : {}) }],
    },
  };
}

/** The fluent-bit chart's values: the pipeline's configuration and the least the collector needs. */
export function fluentBitValues(pipeline: Parameters<typeof fluentBitConfig>[0], caSecret: pulumi.Input<string>, passwordSecret: pulumi.Input<string>) {
  return {
    kind: "DaemonSet",
    // Helm test pods are hooks, which helm.v4.Chart does not run.
    testFramework: { enabled: false },
    // get, list and watch on pods and namespaces, for the kubernetes filter; nothing on nodes.
    rbac: { create: true, nodeAccess: false, eventsAccess: false },
    config: fluentBitConfig(pipeline),
    // The platform's restricted container, but root, to read the nodes' log files (root-owned,
    // 0640): no capabilities, no privilege escalation, a read-only root file system.
    securityContext: { ...restrictedContainerSecurityContext(), runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
    resources: resourceRequirements(loggingDefaults.collector.resources),
    tolerations: [{ operator: "Exists" }],
    env: [{ name: collectorPasswordEnv, valueFrom: { secretKeyRef: { name: passwordSecret, key: "password" } } }],
    // The chart's default mounts (Docker's container directory, machine-id) are replaced: the node's
    // logs read-only, and the buffer, the one place the collector writes.
    daemonSetVolumes: [
      { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
      { name: "buffer", hostPath: { path: bufferPath, type: "DirectoryOrCreate" } },
      { name: "elasticsearch-ca", secret: { secretName: caSecret } },
    ],
    daemonSetVolumeMounts: [
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      { name: "buffer", mountPath: bufferPath },
      { name: "elasticsearch-ca", mountPath: "/fluent-bit/tls", readOnly: true },
    ],
  };
}

export interface LogsetupRun {
  readonly image: pulumi.Input<string>;
  /** The ConfigMap with requests.json, for the setup Job; the expiry reads its variables instead. */
  readonly requests?: pulumi.Input<string>;
  readonly elasticsearchUrl: string;
  readonly caSecret: string;
  /** The Elasticsearch user it signs in as, and the Secret key that holds the password. */
  readonly credentials: { readonly username: string; readonly secret: pulumi.Input<string>; readonly key: string };
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Record<string, string>;
  readonly scheduling?: Scheduling;
}

/** A Job of services/cmd/logsetup: retried by Kubernetes, and by itself request by request. */
export function logsetupJobSpec(s: LogsetupRun): k8sInput.batch.v1.JobSpec {
  return {
    backoffLimit: 6,
    activeDeadlineSeconds: 1800,
    template: {
      metadata: { labels: s.labels },
      spec: {
        restartPolicy: "OnFailure",
        automountServiceAccountToken: false,
        ...podScheduling(s.scheduling),
        securityContext: restrictedPodSecurityContext(),
        containers: [
          {
            name: "logsetup",
            image: s.image,
            imagePullPolicy: "Always",
            env: [
              { name: "ELASTICSEARCH_URL", value: s.elasticsearchUrl },
              { name: "CA_FILE", value: "/ca/ca.crt" },
              { name: "ELASTICSEARCH_USERNAME", value: s.credentials.username },
              { name: "ELASTICSEARCH_PASSWORD_FILE", value: "/credentials/password" },
              ...(s.requests ? [{ name: "REQUESTS_FILE", value: "/config/requests.json" }] : []),
              ...Object.entries(s.env).map(([name, value]) => ({ name, value })),
            ],
            resources: resourceRequirements(loggingDefaults.setupJob.resources),
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [
              ...(s.requests ? [{ name: "config", mountPath: "/config", readOnly: true }] : []),
              { name: "ca", mountPath: "/ca", readOnly: true },
              { name: "credentials", mountPath: "/credentials", readOnly: true },
            ],
          },
        ],
        volumes: [
          ...(s.requests ? [{ name: "config", configMap: { name: s.requests } }] : []),
          { name: "ca", secret: { secretName: s.caSecret, items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { name: "credentials", secret: { secretName: s.credentials.secret, items: [{ key: s.credentials.key, path: "password" }] } },
        ],
      },
    },
  };
}
