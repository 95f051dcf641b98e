import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import * as batchv1 from "@pulumi/kubernetes/batch/v1";
import * as helm from "@pulumi/kubernetes/helm/v4";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import * as pulumi from "@pulumi/pulumi";
import { chartPostRenderer } from "../charts/postRender";
import { type Resources, resourceRequirements, standardLabels } from "../apps/podSpec";
import { podScheduling, type Scheduling } from "../apps/scheduling";
import { charts, type ChartSource, chartSource, chartValues } from "../charts/charts";
import { grafanaDatasourceLabel } from "../monitoring/serviceMonitoring";
import { AppNamespace } from "../namespace/appNamespace";
import { loggingDefaults } from "./defaults";
import { logsDatasource } from "./grafanaLogs";
import { loggingNetworkPolicies } from "./networkPolicies";
import { dataStreamPattern, setupRequests } from "./pipeline";
import { clusterName, elasticsearchSpec, fluentBitValues, logsetupJobSpec, restrictedPodTemplate } from "./specs";

export interface LoggingArgs {
  /** Environment name; the services' logs go to the data stream `logs-flotilla-<environment>`. */
  readonly environment: string;
  /** Namespaces whose containers' logs are collected. */
  readonly appNamespaces: readonly string[];
  /** Password of the collector's own Elasticsearch user; pass a secret Output. */
  readonly collectorPassword: pulumi.Input<string>;
  /** Image of the logsetup Job (services/cmd/logsetup), by digest. */
  readonly setupImage: pulumi.Input<string>;
  /**
   * Where the eck-operator and fluent-bit charts come from.
   * @default their upstream repositories
   */
  readonly chartSource?: ChartSource;
  /**
   * Elasticsearch nodes. With more than one, they spread over zones and shards are allocated
   * zone-aware, each index gets a replica, and a disruption budget keeps a quorum.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Persistent volume per node, on `storageClass`; an emptyDir (lost with the pod) when unset.
   * @default none
   */
  readonly storageSize?: string;
  /**
   * Storage class of the volumes.
   * @default the cluster's default storage class
   */
  readonly storageClass?: string;
  /**
   * JVM heap of each node, at most half its memory limit.
   * @default "512m"
   */
  readonly heap?: string;
  /**
   * Requests and limits of each Elasticsearch node.
   * @default 250m/1Gi requested, 1 CPU/1Gi limited
   */
  readonly resources?: Resources;
  /**
   * Days a log line is kept, through the data stream's lifecycle.
   * @default 3
   */
  readonly retentionDays?: number;
  /**
   * Run Kibana, with a data view of the services' logs.
   * @default true
   */
  readonly kibana?: boolean;
  /**
   * ECK's validating admission webhook, which refuses invalid Elasticsearch and Kibana resources
   * before they are stored. Turn it off where the API server cannot reach pods (some private
   * control planes); ECK then reports invalid resources in their status instead.
   * @default true
   */
  readonly validatingWebhook?: boolean;
  /**
   * Which nodes the logging pods run on: the ECK operator, Elasticsearch, Kibana, the setup Job,
   * and Fluent Bit's DaemonSet (which then collects from those nodes only).
   * @default any node
   */
  readonly scheduling?: Scheduling;
  /**
   * Which nodes the ECK operator runs on, when apart from the logging pods (a system node pool).
   * @default `scheduling`
   */
  readonly operatorScheduling?: Scheduling;
  /**
   * Users of other parts of the stack in Elasticsearch (Jaeger's), each limited by a role of its
   * own and let in to port 9200 from its pods only.
   * @default none
   */
  readonly elasticsearchClients?: readonly ElasticsearchClient[];
  /**
   * Grafana's data source for the services' logs, in Grafana's namespace, as the user
   * `grafanaReader` (components/logging/grafanaLogs.ts), whom `elasticsearchClients` must hold.
   * @default none
   */
  readonly grafana?: LoggingGrafanaArgs;
}

export interface LoggingGrafanaArgs {
  /** Grafana's namespace, where its sidecar loads data sources. */
  readonly namespace: pulumi.Input<string>;
  /** The reader's password; pass a secret Output. */
  readonly password: pulumi.Input<string>;
  /** Uid of the trace data source that a log line's trace id opens. @default no link */
  readonly tracesDatasourceUid?: string;
}

/** A user of Elasticsearch beside the log collector, and what it may do there. */
export interface ElasticsearchClient {
  readonly user: string;
  /** Its password; pass a secret Output. */
  readonly password: pulumi.Input<string>;
  /** Name of its role, and the role: cluster privileges and privileges on index patterns. */
  readonly role: string;
  readonly cluster: readonly string[];
  readonly indices: readonly { readonly names: readonly string[]; readonly privileges: readonly string[] }[];
  /** Where its pods run, and their labels: the only pods it is let in from. */
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
  /**
   * Its daily indices (named `<name>-2006-01-02`, as Jaeger names them), which a CronJob deletes,
   * signed in as this client, once their day is `afterDays` days past: the role must grant
   * `delete_index` and `view_index_metadata` on `indices`.
   * @default none: its indices are kept
   */
  readonly expiry?: { readonly indices: string; readonly afterDays: number };
}

/** The ECK resource names, so the collector's configuration and the tests can name what ECK makes. */
export const eckNames = (cluster: string) => ({
  httpService: `${cluster}-es-http`,
  caSecret: `${cluster}-es-http-certs-public`,
  elasticUserSecret: `${cluster}-es-elastic-user`,
  kibanaService: `${cluster}-kb-http`,
});

/** Name of the Elasticsearch and Kibana resources. */
/** The labels ECK gives Elasticsearch's pods, for the policies of those who reach it. */
const collectorUser = "flotilla-collector";
const collectorRole = "flotilla_log_writer";

/**
 * Elasticsearch and Kibana through ECK, Fluent Bit on every node shipping the services' JSON logs
 * into a data stream per environment, and a Job that applies the index template and Kibana's
 * data view. TLS and authentication stay on; the collector writes as a user of its own that may
 * only create documents in the services' data streams.
 */
export class Logging extends pulumi.ComponentResource {
  /** Namespace of Elasticsearch and Kibana. */
  readonly namespace: pulumi.Output<string>;
  /** Elasticsearch's HTTPS Service, port 9200. */
  readonly elasticsearchService: pulumi.Output<string>;
  /** Kibana's HTTPS Service, port 5601, when Kibana runs. */
  readonly kibanaService?: pulumi.Output<string>;
  /** Secret holding the `elastic` superuser's password, made by ECK. */
  readonly elasticUserSecret: pulumi.Output<string>;
  /** Elasticsearch's in-cluster URL, for `elasticsearchClients`. */
  readonly elasticsearchUrl: pulumi.Output<string>;
  /** The PEM certificate of ECK's CA, which signed Elasticsearch's HTTP certificate. */
  readonly caCertificate: pulumi.Output<string>;
  /** Replicas of each index: 1 where a second node can hold them, else 0 (one would never be allocated). */
  readonly indexReplicas: number;

  constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:logging:Logging", name, {}, opts);
    const child = { parent: this };
    for (const client of args.elasticsearchClients ?? []) {
      const expiry = client.expiry;
      const missing = expiry ? expiryPrivileges.filter((privilege) => !grants(client, expiry.indices, privilege)) : [];
      if (expiry && missing.length > 0) {
        throw new pulumi.ResourceError(
          `elasticsearchClients: ${client.user}'s role must grant ${missing.join(" and ")} on ${expiry.indices} for its expiry`,
          this,
        );
      }
    }
    const replicas = args.replicas ?? loggingDefaults.elasticsearch.replicas;
    const indexReplicas = replicas > 1 ? 1 : 0;
    const withKibana = args.kibana ?? loggingDefaults.kibana.enabled;
    const placed = podScheduling(args.scheduling);
    const names = eckNames(clusterName);
    const labels = (component: string) => standardLabels(name, component);
    if (args.appNamespaces.length === 0) {
      throw new pulumi.ResourceError("appNamespaces must name at least one namespace whose logs to collect", this);
    }

    const namespace = (suffix: string, namespaceName: string, podSecurity: "restricted" | "privileged", defaultDeny: boolean) =>
      new AppNamespace(`${name}-${suffix}`, { namespaceName, podSecurity, defaultDeny, labels: standardLabels(namespaceName, "logging") }, child);
    // The operator's chart brings its own (optional) policies; its namespace is not closed here.
    const operatorNamespace = namespace("operator-namespace", loggingDefaults.operatorNamespace, loggingDefaults.podSecurity.operatorNamespace, false);
    // "restricted", and closed by default: the policies below open what the pipeline needs.
    const logsNamespace = namespace("namespace", loggingDefaults.namespace, loggingDefaults.podSecurity.namespace, true);
    const agentNamespace = namespace("agent-namespace", loggingDefaults.agentNamespace, loggingDefaults.podSecurity.agentNamespace, false);

    const operator = new helm.Chart(
      `${name}-eck-operator`,
      {
        ...chartSource(charts.eckOperator, args.chartSource),
        postRenderer: chartPostRenderer(),
        name: "eck-operator",
        namespace: operatorNamespace.name,
        values: chartValues(charts.eckOperator, args.chartSource, {
          installCRDs: true,
          // Least privilege: the operator acts in the logging namespace only.
          managedNamespaces: [loggingDefaults.namespace],
          // The chart sets no seccomp profile, which "restricted" requires.
          podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          // The operator makes and rotates the webhook's certificate itself: no Helm hook needed.
          webhook: { enabled: args.validatingWebhook ?? loggingDefaults.validatingWebhook },
          resources: resourceRequirements(loggingDefaults.operator.resources),
          // Its ServiceMonitor needs prometheus-operator's CRDs, which may not be installed, and it
          // serves no metrics (config.metrics.port 0).
          serviceMonitor: { enabled: false },
          config: { metrics: { port: "0" } },
          ...podScheduling(args.operatorScheduling ?? args.scheduling),
        }),
      },
      child,
    );

    const collectorSecret = (suffix: string, namespaceRef: pulumi.Input<string>, extra: Record<string, string>) =>
      new corev1.Secret(
        `${name}-${suffix}`,
        {
          metadata: { namespace: namespaceRef, labels: labels("collector") },
          type: "kubernetes.io/basic-auth",
          stringData: pulumi.secret(pulumi.output(args.collectorPassword).apply((password) => ({ username: collectorUser, password, ...extra }))),
        },
        child,
      );
    // ECK's file realm reads the user, its password and its roles from this Secret.
    const collectorUserSecret = collectorSecret("collector-user", logsNamespace.name, { roles: collectorRole });
    const collectorRoles = new corev1.Secret(
      `${name}-collector-role`,
      {
        metadata: { namespace: logsNamespace.name, labels: labels("collector") },
        stringData: {
          "roles.yml": `${collectorRole}:\n  cluster: []\n  indices:\n    - names: ["${dataStreamPattern}"]\n      privileges: ["create_doc", "auto_configure"]\n`,
        },
      },
      child,
    );
    // Each client's user and role, in Secrets of their own that the file realm reads beside the collector's.
    const clientArgs = args.elasticsearchClients ?? [];
    const clients = clientArgs.map((client) => ({
      user: new corev1.Secret(
        `${name}-${client.user}-user`,
        {
          metadata: { namespace: logsNamespace.name, labels: labels(client.user) },
          type: "kubernetes.io/basic-auth",
          stringData: pulumi.secret(pulumi.output(client.password).apply((password) => ({ username: client.user, password, roles: client.role }))),
        },
        child,
      ).metadata.name,
      role: new corev1.Secret(
        `${name}-${client.user}-role`,
        {
          metadata: { namespace: logsNamespace.name, labels: labels(client.user) },
          // JSON is YAML: the role as Elasticsearch's roles.yml has it.
          stringData: { "roles.yml": JSON.stringify({ [client.role]: { cluster: client.cluster, indices: client.indices } }) },
        },
        child,
      ).metadata.name,
    }));

    const elasticsearch = new CustomResource(
      `${name}-elasticsearch`,
      {
        apiVersion: "elasticsearch.k8s.elastic.co/v1",
        kind: "Elasticsearch",
        metadata: {
          name: clusterName,
          namespace: logsNamespace.name,
          labels: labels("elasticsearch"),
          annotations: {
            // Each node learns its zone, for shard allocation awareness.
            "eck.k8s.elastic.co/downward-node-labels": "topology.kubernetes.io/zone",
            // `up` waits until ECK reports a phase: it does so at the end of its first full pass,
            // which makes the certificates first, so the CA Secret exists for the collector's
            // copy below. (An invalid resource gets no certificates: the copy then fails, naming
            // the missing Secret, after ECK's validation warning.)
            "pulumi.com/waitFor": "jsonpath={.status.phase}",
          },
        },
        spec: elasticsearchSpec({
          replicas,
          heap: args.heap ?? loggingDefaults.elasticsearch.heap,
          resources: args.resources ?? loggingDefaults.elasticsearch.resources,
          storageSize: args.storageSize,
          storageClass: args.storageClass,
          userSecrets: [collectorUserSecret.metadata.name, ...clients.map((c) => c.user)],
          roleSecrets: [collectorRoles.metadata.name, ...clients.map((c) => c.role)],
          scheduling: args.scheduling,
        }),
      },
      { ...child, dependsOn: [operator] },
    );

    const kibana = withKibana
      ? new CustomResource(
          `${name}-kibana`,
          {
            apiVersion: "kibana.k8s.elastic.co/v1",
            kind: "Kibana",
            metadata: { name: clusterName, namespace: logsNamespace.name, labels: labels("kibana") },
            spec: {
              version: loggingDefaults.stackVersion,
              count: 1,
              elasticsearchRef: { name: clusterName },
              podTemplate: restrictedPodTemplate("kibana", loggingDefaults.kibana.resources, [], args.scheduling),
            },
          },
          { ...child, dependsOn: [operator] },
        )
      : undefined;

    // The collector runs in another namespace and cannot mount ECK's CA Secret: the public CA
    // certificate is copied there, read after ECK made it. ECK renews its CA a day before it
    // expires (a year by default); the next `pulumi up` copies the new one.
    const eckCa = corev1.Secret.get(
      `${name}-eck-ca`,
      pulumi.all([logsNamespace.name, elasticsearch.id]).apply(([ns]) => `${ns}/${names.caSecret}`),
      { ...child, dependsOn: [elasticsearch] },
    );
    const collectorCa = new corev1.Secret(
      `${name}-collector-ca`,
      {
        metadata: { namespace: agentNamespace.name, labels: labels("collector") },
        data: { "ca.crt": eckCa.data.apply(caCertificate) },
      },
      child,
    );
    const collectorPassword = collectorSecret("collector-password", agentNamespace.name, {});

    const pipeline = {
      namespaces: args.appNamespaces,
      environment: args.environment,
      elasticsearchHost: `${names.httpService}.${loggingDefaults.namespace}.svc`,
      collectorUser,
      caFile: "/fluent-bit/tls/ca.crt",
      bufferSize: loggingDefaults.collector.bufferSize,
      retentionDays: args.retentionDays ?? loggingDefaults.retentionDays,
      indexReplicas,
    };
    new helm.Chart(
      `${name}-fluent-bit`,
      {
        ...chartSource(charts.fluentBit, args.chartSource),
        postRenderer: chartPostRenderer(),
        name: "fluent-bit",
        namespace: agentNamespace.name,
        values: chartValues(charts.fluentBit, args.chartSource, {
          ...fluentBitValues(pipeline, collectorCa.metadata.name, collectorPassword.metadata.name),
          ...(placed.nodeSelector ? { nodeSelector: placed.nodeSelector } : {}),
        }),
      },
      child,
    );

    const policies = loggingNetworkPolicies({
      cluster: clusterName,
      agentNamespace: loggingDefaults.agentNamespace,
      operatorNamespace: loggingDefaults.operatorNamespace,
      setupLabels: labels("setup"),
      expiryLabels: labels("expiry"),
      clients: clientArgs.map((c) => ({ namespace: c.namespace, podLabels: c.podLabels })),
    });
    for (const [policy, spec] of Object.entries(policies)) {
      new networkingv1.NetworkPolicy(
        `${name}-${policy}`,
        { metadata: { name: policy, namespace: logsNamespace.name, labels: labels("network") }, spec },
        child,
      );
    }

    const elasticsearchUrl = `https://${names.httpService}:9200`;
    clientArgs.forEach((client, i) => {
      if (!client.expiry) return;
      // At 00:30 UTC, once Jaeger writes the new day's indices: what it deletes no longer grows.
      new batchv1.CronJob(
        `${name}-${client.user}-expiry`,
        {
          metadata: { namespace: logsNamespace.name, labels: labels("expiry") },
          spec: {
            schedule: "30 0 * * *",
            timeZone: "Etc/UTC",
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 1,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              metadata: { labels: labels("expiry") },
              spec: logsetupJobSpec({
                image: args.setupImage,
                elasticsearchUrl,
                caSecret: names.caSecret,
                credentials: { username: client.user, secret: clients[i]!.user, key: "password" },
                env: { EXPIRE_INDICES: client.expiry.indices, EXPIRE_AFTER_DAYS: String(client.expiry.afterDays) },
                labels: labels("expiry"),
                scheduling: args.scheduling,
              }),
            },
          },
        },
        { ...child, dependsOn: [elasticsearch] },
      );
    });

    const setupConfig = new corev1.ConfigMap(
      `${name}-setup`,
      {
        metadata: { namespace: logsNamespace.name, labels: labels("setup") },
        immutable: true,
        data: { "requests.json": JSON.stringify(setupRequests(pipeline, withKibana), null, 2) },
      },
      child,
    );
    // Auto-named, so a new template (a new ConfigMap) runs a new Job; Jobs' pod templates are immutable.
    new batchv1.Job(
      `${name}-setup`,
      {
        metadata: { namespace: logsNamespace.name, labels: labels("setup") },
        spec: logsetupJobSpec({
          image: args.setupImage,
          requests: setupConfig.metadata.name,
          elasticsearchUrl,
          caSecret: names.caSecret,
          credentials: { username: "elastic", secret: names.elasticUserSecret, key: "elastic" },
          env: withKibana ? { KIBANA_URL: `https://${names.kibanaService}:5601` } : {},
          labels: labels("setup"),
          scheduling: args.scheduling,
        }),
      },
      { ...child, dependsOn: kibana ? [elasticsearch, kibana] : [elasticsearch] },
    );

    this.namespace = logsNamespace.name;
    // Known at preview, so that a chart configured with it previews its objects; its users wait
    // for the CA, which exists once Elasticsearch does.
    this.elasticsearchUrl = pulumi.output(`https://${names.httpService}.${loggingDefaults.namespace}.svc:9200`);
    this.caCertificate = eckCa.data.apply((data) => Buffer.from(caCertificate(data), "base64").toString("utf8"));
    if (args.grafana) {
      const { namespace, password, tracesDatasourceUid } = args.grafana;
      // A Secret, not a ConfigMap: the provisioning file holds the reader's password.
      new corev1.Secret(
        `${name}-grafana-datasource`,
        {
          metadata: { namespace, labels: { ...labels("grafana"), ...grafanaDatasourceLabel } },
          stringData: {
            "logs.yaml": pulumi
              .secret(pulumi.all([this.elasticsearchUrl, this.caCertificate, password]))
              .apply(([url, ca, secret]) => logsDatasource({ url, caCertificate: ca, password: secret, tracesDatasourceUid })),
          },
        },
        child,
      );
    }
    this.elasticsearchService = elasticsearch.id.apply(() => names.httpService);
    this.kibanaService = kibana?.id.apply(() => names.kibanaService);
    this.elasticUserSecret = elasticsearch.id.apply(() => names.elasticUserSecret);
    this.indexReplicas = indexReplicas;
    this.registerOutputs({
      namespace: this.namespace,
      elasticsearchService: this.elasticsearchService,
      kibanaService: this.kibanaService,
      elasticUserSecret: this.elasticUserSecret,
      elasticsearchUrl: this.elasticsearchUrl,
      caCertificate: this.caCertificate,
    });
  }
}

/**
 * The CA certificate of ECK's public certificate Secret. In a cluster the read itself fails while
 * ECK has not made the Secret; the data is empty only where nothing is read, in a render to files
 * (the provider's renderYamlToDirectory), which then writes the copy without its certificate.
 */
function caCertificate(data: Record<string, string> | undefined): string {
  return data?.["ca.crt"] ?? "";
}

/** The privileges an expiring client's role needs on its indices: list them, delete them. */
const expiryPrivileges = ["view_index_metadata", "delete_index"] as const;

/** Whether the client's role grants the privilege on exactly these indices (or all privileges). */
const grants = (client: ElasticsearchClient, indices: string, privilege: string) =>
  client.indices.some((entry) => entry.names.includes(indices) && (entry.privileges.includes(privilege) || entry.privileges.includes("all")));
