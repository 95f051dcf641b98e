import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";

export interface ExistingClusterArgs {
  /**
   * A whole kubeconfig, best as a secret Output; takes precedence over `kubeconfigPath`.
   * @default none
   */
  readonly kubeconfig?: pulumi.Input<string>;
  /**
   * Path of a kubeconfig file.
   * @default `$KUBECONFIG`, then `~/.kube/config`
   */
  readonly kubeconfigPath?: string;
  /**
   * Context in the kubeconfig.
   * @default the kubeconfig's current context
   */
  readonly context?: string;
}

/**
 * A cluster that already exists (kind on a laptop, or one a platform team runs), reached through a
 * kubeconfig. Exposes the Kubernetes provider every other component deploys with.
 */
export class ExistingCluster extends pulumi.ComponentResource {
  /** The provider for the cluster. */
  readonly provider: KubernetesProvider;

  constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:cluster:ExistingCluster", name, {}, opts);
    this.provider = new KubernetesProvider(
      name,
      {
        kubeconfig: args.kubeconfig ?? args.kubeconfigPath,
        context: args.context,
        // Objects are applied server-side so that fields other managers own are left alone.
        enableServerSideApply: true,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
