import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

export interface ReferencedClusterArgs {
  /** The cluster stack, as `pulumi stack ls` names it: `org/project/stack`, or `project/stack` on a self-managed backend. */
  readonly stack: string;
}

/**
 * A cluster that another stack owns (a cluster stack, `flotilla:scope: cluster`), reached through
 * that stack's outputs: its kubeconfig (a secret there and here), its default StorageClass and
 * its nodes' architecture. The app stack then never holds the cluster's resources.
 */
export class ReferencedCluster extends pulumi.ComponentResource {
  /** The provider for the cluster. */
  readonly provider: KubernetesProvider;
  /** The cluster stack's default StorageClass. */
  readonly storageClass: pulumi.Output<string>;
  /** The cluster stack's node architecture, `arm64` or `x86_64`. */
  readonly architecture: pulumi.Output<string>;
  /** The EKS cluster's name. */
  readonly clusterName: pulumi.Output<string>;

  constructor(name: string, args: ReferencedClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:cluster:ReferencedCluster", name, {}, opts);
    const reference = new pulumi.StackReference(`${name}-cluster`, { name: args.stack }, { parent: this });
    const kubeconfig = pulumi.secret(reference.requireOutput("kubeconfig").apply(String));
    this.provider = new KubernetesProvider(name, { kubeconfig, enableServerSideApply: true }, { parent: this });
    this.storageClass = reference.requireOutput("storageClass").apply(String);
    this.architecture = reference.requireOutput("architecture").apply(String);
    this.clusterName = reference.requireOutput("clusterName").apply(String);
    this.registerOutputs({ storageClass: this.storageClass, architecture: this.architecture, clusterName: this.clusterName });
  }
}
