/**
 * Flotilla's components, for use from any Pulumi TypeScript program:
 * `import { GoService } from "@flotilla/stack"`.
 */
export { GoService, type GoServiceArgs, goServiceDefaults, serviceEnv } from "./apps/goService";
export { type Callee, serviceNetworkPolicy, type ServiceTraffic } from "./apps/networkPolicy";
export * as podSpec from "./apps/podSpec";
export { eksAddons, type EksAddon, type KubernetesVersion, pinnedAddonVersions } from "./cluster/addonVersions";
export { EksCluster, type EksClusterArgs, type EksNodes } from "./cluster/eksCluster";
export { ExistingCluster, type ExistingClusterArgs } from "./cluster/existingCluster";
export { buildContextHash } from "./image/contextHash";
export { contentTag, type ImageBuild, parseImageReference, ServiceImage, type ServiceImageArgs } from "./image/serviceImage";
export { AppNamespace, type AppNamespaceArgs, podSecurityLabels } from "./namespace/appNamespace";
export { ecrLifecyclePolicy, Registry, type RegistryArgs, type RegistryCredentials } from "./registry/registry";
export { charts, type ChartRef, type ChartSource, chartSource } from "./charts/charts";
export { type AlertRule, type AlertThresholds, serviceRules, type ServiceRulesArgs } from "./monitoring/alertRules";
export { overviewDashboard, serviceDashboard } from "./monitoring/dashboards";
export { loggingDefaults } from "./logging/defaults";
export { eckNames, Logging, type LoggingArgs } from "./logging/logging";
export { dataStream, fluentBitConfig, indexTemplate, type PipelineSettings, setupRequests } from "./logging/pipeline";
export { monitoringDefaults } from "./monitoring/defaults";
export { kubePrometheusStackValues, Monitoring, type MonitoringArgs } from "./monitoring/monitoring";
export { ServiceMonitoring, type ServiceMonitoringArgs } from "./monitoring/serviceMonitoring";
