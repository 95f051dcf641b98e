import * as helm from "@pulumi/kubernetes/helm/v4";
import * as pulumi from "@pulumi/pulumi";
import { resourceRequirements, standardLabels } from "../../components/apps/podSpec";
import { podScheduling } from "../../components/apps/scheduling";
import { charts, chartSource, chartValues } from "../../components/charts/charts";
import { chartPostRenderer } from "../../components/charts/postRender";
import { BackupBucket } from "../../components/data/backupBucket";
import { databaseDefaults as d } from "../../components/data/defaults";
import { PluginCertificates } from "../../components/data/pluginCertificates";
import type { FeatureContext } from "../feature";
import type { DatabasesSlice } from "./schema";

/**
 * What backups need once for every database: the bucket, the plugin (in the operator's namespace,
 * where the operator looks for it) and the certificates they trust each other by.
 */
export function deployBackups(slice: DatabasesSlice, context: FeatureContext, namespace: pulumi.Input<string>, operator: pulumi.Resource) {
  const { eksClusterName } = context;
  if (eksClusterName === undefined) {
    // The contract refuses this first (check above); a caller of deploy() alone meets it here.
    throw new Error("databases.backups: backups need the EKS cluster's name, for Pod Identity");
  }
  const labels = standardLabels(d.backups.pluginService, "databases");
  const certificates = new PluginCertificates("barman-cloud-certificates", { namespace, labels }, context.opts);
  const plugin = new helm.Chart(
    "barman-cloud",
    {
      ...chartSource(charts.barmanCloud, context.chartSource),
      // The chart asks cert-manager for the certificates; the stack makes them (PluginCertificates).
      postRenderer: chartPostRenderer({ drop: ["cert-manager.io/Issuer"] }),
      name: "barman-cloud",
      namespace,
      values: chartValues(charts.barmanCloud, context.chartSource, {
        certificate: { createClientCertificate: false, createServerCertificate: false },
        resources: resourceRequirements(d.backups.pluginResources),
        // A new certificate restarts the plugin, which reads its certificates at start.
        podAnnotations: { "flotilla.dev/certificates": certificates.rotation },
        ...podScheduling(slice.operatorScheduling ?? slice.scheduling),
      }),
    },
    { ...context.opts, dependsOn: [operator, certificates] },
  );
  const bucket = new BackupBucket(`flotilla-${pulumi.getStack()}-db-backups`, { protect: context.protect });
  return { bucket, plugin, eksClusterName };
}
