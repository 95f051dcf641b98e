/**
 * EKS managed add-on versions, pinned per Kubernetes minor version so that a `pulumi up` months
 * from now installs what was reviewed, not whatever AWS calls latest that day. Each is a version
 * AWS lists as compatible with that Kubernetes version (`aws eks describe-addon-versions
 * --kubernetes-version <v> --addon-name <name>`); raising one is a reviewed change to this table.
 */
export const eksAddons = ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver", "metrics-server"] as const;

export type EksAddon = (typeof eksAddons)[number];

/** The Kubernetes minor versions Flotilla has pinned add-ons for; the contract allows only these. */
export const pinnedAddonVersions = {
  "1.33": {
    "vpc-cni": "v1.20.1-eksbuild.3",
    "kube-proxy": "v1.33.3-eksbuild.11",
    coredns: "v1.12.4-eksbuild.1",
    "eks-pod-identity-agent": "v1.3.9-eksbuild.3",
    "aws-ebs-csi-driver": "v1.48.0-eksbuild.2",
    "metrics-server": "v0.8.0-eksbuild.2",
  },
  "1.34": {
    "vpc-cni": "v1.20.1-eksbuild.3",
    "kube-proxy": "v1.34.0-eksbuild.5",
    coredns: "v1.12.4-eksbuild.1",
    "eks-pod-identity-agent": "v1.3.9-eksbuild.3",
    "aws-ebs-csi-driver": "v1.48.0-eksbuild.2",
    "metrics-server": "v0.8.0-eksbuild.2",
  },
} as const satisfies Record<string, Record<EksAddon, string>>;

export type KubernetesVersion = keyof typeof pinnedAddonVersions;

export const kubernetesVersions = Object.keys(pinnedAddonVersions) as [KubernetesVersion, ...KubernetesVersion[]];

/** The newest Kubernetes version with pinned add-ons: what a new cluster runs. */
export const defaultKubernetesVersion: KubernetesVersion = "1.34";

/** kube-proxy must match the control plane's minor version; the table is wrong if it does not. */
export function addonVersionProblems(): string[] {
  return Object.entries(pinnedAddonVersions).flatMap(([version, addons]) =>
    addons["kube-proxy"].startsWith(`v${version}.`) ? [] : [`kube-proxy ${addons["kube-proxy"]} is not for Kubernetes ${version}`],
  );
}
