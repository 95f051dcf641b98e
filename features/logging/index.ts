/**
 * Logging as a feature: Elasticsearch and Kibana through ECK, Fluent Bit on every node shipping
 * the services' JSON logs, and the setup Job (services/cmd/logsetup) that applies the index
 * template and Kibana's data view. It opens nothing in the services' policies: the collector reads
 * the nodes' log files.
 */
import { charts } from "../../components/charts/charts";
import { z } from "zod";
import { loggingDefaults } from "../../components/logging/defaults";
import { grafanaReader, tracesToLogs } from "../../components/logging/grafanaLogs";
import { Logging } from "../../components/logging/logging";
import { elasticsearchPodLabels } from "../../components/logging/specs";
import { monitoringDefaults } from "../../components/monitoring/defaults";
import { loggingPods } from "../../components/logging/pods";
import { quantityValue, bytesProblem } from "../../components/quantities";
import { bytes, digestProblem, imageReferencePattern, operatorSchedulingSchema, resourcesSchema, schedulingSchema } from "../../config/parts";
import { defineFeature } from "../feature";

/** The setup Job's Go main package (services/cmd/logsetup), built from the services' Dockerfile. */
const setupImageName = "logsetup";

const loggingSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Deploy Elasticsearch and Kibana through ECK, and Fluent Bit on every node shipping the services' logs."),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(loggingDefaults.retentionDays)
      .describe("Days a log line is kept before its data stream drops it."),
    collectorPassword: z
      .string()
      .min(16, "at least 16 characters")
      .optional()
      .describe("Password of the collector's own Elasticsearch user; must be set as a secret (`pulumi config set --secret --path logging.collectorPassword`)."),
    grafanaPassword: z
      .string()
      .min(16, "at least 16 characters")
      .optional()
      .describe(
        "Password of Grafana's own Elasticsearch user, which may only read the services' logs; must be set as a secret (`pulumi config set --secret --path logging.grafanaPassword`). With monitoring on, Grafana then gets the logs as a data source, linked to and from traces; without it, no such data source.",
      ),
    setupImage: z
      .string()
      .regex(imageReferencePattern, "an image reference such as registry:5000/logsetup@sha256:<64 hex>")
      .optional()
      .describe("A prebuilt image of services/cmd/logsetup for the setup Job; built from the services' Dockerfile when unset."),
    elasticsearch: z
      .strictObject({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(9)
          .default(loggingDefaults.elasticsearch.replicas)
          .describe("Elasticsearch nodes; more than one spread over zones."),
        storageSize: bytes.optional().describe("Persistent volume per node on the cluster's default storage class; an emptyDir when unset."),
        storageClass: z.string().min(1).optional().describe("Storage class of the volumes; the cluster's default when unset."),
        heap: z
          .string()
          .regex(/^[0-9]+[mg]$/, "a JVM heap size such as 512m or 2g")
          .default(loggingDefaults.elasticsearch.heap)
          .describe("JVM heap of each node: at most half its memory limit."),
        resources: resourcesSchema(loggingDefaults.elasticsearch.resources),
      })
      .prefault({}),
    kibana: z
      .strictObject({ enabled: z.boolean().default(loggingDefaults.kibana.enabled).describe("Run Kibana, with a data view of the services' logs.") })
      .prefault({}),
    validatingWebhook: z
      .boolean()
      .default(loggingDefaults.validatingWebhook)
      .describe("ECK's validating admission webhook; off where the API server cannot reach pods (some private control planes)."),
    scheduling: schedulingSchema("the logging pods (Fluent Bit's too, which then collects from those nodes only)"),
    operatorScheduling: operatorSchedulingSchema("the ECK operator"),
  })
  .prefault({});

export const loggingFeature = defineFeature({
  key: "logging",
  schema: loggingSchema,
  charts: () => [charts.eckOperator, charts.fluentBit],
  namespaces: [
    { name: loggingDefaults.namespace, podSecurity: loggingDefaults.podSecurity.namespace, why: "Elasticsearch, Kibana and the setup Job, closed by default" },
    {
      name: loggingDefaults.agentNamespace,
      podSecurity: loggingDefaults.podSecurity.agentNamespace,
      why: "Fluent Bit alone: it reads the nodes' log files through hostPath",
    },
    { name: loggingDefaults.operatorNamespace, podSecurity: loggingDefaults.podSecurity.operatorNamespace, why: "the ECK operator" },
  ],
  secrets: { loggingCollectorPassword: ["collectorPassword"], loggingGrafanaPassword: ["grafanaPassword"] },
  // ECK's chart keeps its CRDs on uninstall (helm.sh/resource-policy: keep); no object of theirs may stay.
  teardown: { keptCrds: [{ groupSuffix: ".k8s.elastic.co", kinds: ["elasticsearches", "kibanas"] }] },
  enabled: (logging) => logging.enabled,
  check(logging, stack, report) {
    if (logging.enabled && logging.collectorPassword === undefined) {
      report(
        ["collectorPassword"],
        undefined,
        'is required while logging is enabled: pulumi config set --secret --path logging.collectorPassword "$(openssl rand -base64 24)"',
      );
    }
    const digest = digestProblem(stack.environment, logging.setupImage);
    if (digest !== undefined) {
      report(["setupImage"], logging.setupImage, digest);
    }
    const heapBytes = (heap: string) => quantityValue(heap.replace(/m$/, "Mi").replace(/g$/, "Gi"));
    const { heap, resources } = logging.elasticsearch;
    const memory = resources.limits.memory;
    if (/^[0-9]+[mg]$/.test(heap) && bytesProblem(memory) === undefined && heapBytes(heap) * 2 > quantityValue(memory)) {
      report(["elasticsearch", "heap"], heap, `must be at most half of resources.limits.memory (${memory}); the rest is Lucene's file system cache`);
    }
  },
  pods: (logging) => loggingPods(logging),
  // Grafana's reader, let in from Grafana's pods alone; there when its password is set.
  elasticsearchClients: () => [
    { ...grafanaReader, passwordSecret: "loggingGrafanaPassword", namespace: monitoringDefaults.namespace, podLabels: monitoringDefaults.grafanaPodLabels },
  ],
  images: (logging) => [{ name: setupImageName, ...(logging.setupImage !== undefined ? { prebuilt: logging.setupImage } : {}) }],
  servicePaths: () => ({}),
  deploy(logging, context) {
    // Grafana reads the logs where it runs and its reader has a password.
    const grafana = context.hasSecret("loggingGrafanaPassword") ? context.monitoring() : undefined;
    const component = new Logging(
      "logging",
      {
        environment: context.environment,
        appNamespaces: [context.appNamespace],
        collectorPassword: context.secret("loggingCollectorPassword"),
        setupImage: context.image(setupImageName),
        chartSource: context.chartSource,
        replicas: logging.elasticsearch.replicas,
        storageSize: logging.elasticsearch.storageSize,
        storageClass: logging.elasticsearch.storageClass,
        heap: logging.elasticsearch.heap,
        resources: logging.elasticsearch.resources,
        retentionDays: logging.retentionDays,
        kibana: logging.kibana.enabled,
        validatingWebhook: logging.validatingWebhook,
        scheduling: logging.scheduling,
        operatorScheduling: logging.operatorScheduling,
        elasticsearchClients: context.elasticsearchClients,
        ...(grafana
          ? {
              grafana: {
                namespace: grafana.grafanaNamespace,
                password: context.secret("loggingGrafanaPassword"),
                tracesDatasourceUid: context.traceStore?.grafanaDatasourceUid,
              },
            }
          : {}),
      },
      context.opts,
    );
    return {
      outputs: { namespace: component.namespace, elasticsearchService: component.elasticsearchService, kibanaService: component.kibanaService },
      elasticsearch: {
        url: component.elasticsearchUrl,
        caCertificate: component.caCertificate,
        namespace: loggingDefaults.namespace,
        podLabels: elasticsearchPodLabels,
        indexReplicas: component.indexReplicas,
      },
      ...(grafana ? { logs: { tracesToLogs } } : {}),
    };
  },
});
