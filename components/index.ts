/**
 * Flotilla's Kubernetes components, for any Pulumi TypeScript program: `import { GoService } from
 * "@flotilla/stack"`. They need only @pulumi/pulumi and @pulumi/kubernetes. The AWS pieces are in
 * `@flotilla/stack/aws` and image builds in `@flotilla/stack/image`, so a program that uses neither
 * installs neither provider. Importing registers nothing.
 */
export {
  addressVariable,
  envProblems,
  GoService,
  type GoServiceArgs,
  goServiceDefaults,
  platformEnvNames,
  type SecretKeyEnv,
  serviceEnv,
} from "./apps/goService";
export { isCredentialName, isCredentialValue } from "./apps/credentials";
export { type Callee, type EgressPeer, serviceNetworkPolicy, type ServiceTraffic } from "./apps/networkPolicy";
export * as podSpec from "./apps/podSpec";
export { ExistingCluster, type ExistingClusterArgs } from "./cluster/existingCluster";
export { ReferencedCluster, type ReferencedClusterArgs } from "./cluster/referencedCluster";
export { AppNamespace, type AppNamespaceArgs, podSecurityLabels } from "./namespace/appNamespace";
export { charts, type ChartRef, type ChartSource, chartSource } from "./charts/charts";
export { type AlertRule, type AlertThresholds, serviceRules, type ServiceRulesArgs } from "./monitoring/alertRules";
export { overviewDashboard, serviceDashboard } from "./monitoring/dashboards";
export { loggingDefaults } from "./logging/defaults";
export { eckNames, Logging, type LoggingArgs } from "./logging/logging";
export { dataStream, fluentBitConfig, indexTemplate, type PipelineSettings, setupRequests } from "./logging/pipeline";
export { monitoringDefaults } from "./monitoring/defaults";
export { kubePrometheusStackValues, Monitoring, type MonitoringArgs } from "./monitoring/monitoring";
export { ServiceMonitoring, type ServiceMonitoringArgs } from "./monitoring/serviceMonitoring";
export { databaseDefaults } from "./data/defaults";
export { PostgresCluster, type PostgresClusterArgs, type PostgresMonitoringArgs } from "./data/postgresCluster";
export { databaseDashboard, databaseRules, type DatabaseRulesArgs } from "./data/rules";
export { tracingDefaults } from "./tracing/defaults";
export { tracingRules, type TracingRulesArgs } from "./tracing/rules";
export { collectorEndpoint, Tracing, type TracingArgs, type TracingMonitoringArgs, type TraceStorage } from "./tracing/tracing";
