import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import * as pulumi from "@pulumi/pulumi";
import { standardLabels } from "../apps/podSpec";

export interface AppNamespaceArgs {
  /**
   * Name of the namespace.
   * @default the component's name
   */
  readonly namespaceName?: string;
  /**
   * Pod Security Standard level the namespace enforces, audits and warns about.
   * @default "restricted"
   */
  readonly podSecurity?: "restricted" | "baseline" | "privileged";
  /**
   * Extra labels, for example for a network policy elsewhere to select this namespace.
   * @default {}
   */
  readonly labels?: Record<string, string>;
  /**
   * Deny all traffic to and from the namespace's pods unless another policy allows it. Off only
   * for namespaces of third-party charts that bring no policies of their own.
   * @default true
   */
  readonly defaultDeny?: boolean;
}

/**
 * A namespace that refuses pods below its Pod Security Standard and denies all traffic to and from
 * its pods unless another policy allows it, so a workload added by hand starts closed.
 */
export class AppNamespace extends pulumi.ComponentResource {
  /** The namespace's name, known only once it exists, so that dependents wait for it. */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: AppNamespaceArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:namespace:AppNamespace", name, {}, opts);
    const namespace = new corev1.Namespace(
      name,
      {
        metadata: {
          name: args.namespaceName ?? name,
          labels: { ...args.labels, ...standardLabels(args.namespaceName ?? name, "namespace"), ...podSecurityLabels(args.podSecurity ?? "restricted") },
        },
      },
      { parent: this },
    );
    if (args.defaultDeny ?? true) {
      new networkingv1.NetworkPolicy(
        `${name}-default-deny`,
        {
          metadata: { name: "default-deny", namespace: namespace.metadata.name, labels: standardLabels("default-deny", "namespace") },
          spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        },
        { parent: this },
      );
    }
    this.name = namespace.metadata.name;
    this.registerOutputs({ name: this.name });
  }
}

/** The labels by which the built-in Pod Security admission enforces a level on a namespace. */
export function podSecurityLabels(level: string): Record<string, string> {
  return Object.fromEntries(
    ["enforce", "audit", "warn"].flatMap((mode) => [
      [`pod-security.kubernetes.io/${mode}`, level],
      [`pod-security.kubernetes.io/${mode}-version`, "latest"],
    ]),
  );
}
