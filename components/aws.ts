/**
 * Flotilla's AWS components: `import { EksCluster } from "@flotilla/stack/aws"`. They need
 * @pulumi/aws beside @pulumi/pulumi and @pulumi/kubernetes. Importing registers nothing.
 */
export { defaultKubernetesVersion, eksAddons, type EksAddon, type KubernetesVersion, kubernetesVersions, pinnedAddonVersions } from "./cluster/addonVersions";
export { EksCluster, type EksClusterArgs, type EksNodes, kubeconfigFor } from "./cluster/eksCluster";
export { subnetCidrs } from "./cluster/eksParts";
export { amiType, imagePlatform, instanceArchitecture, nodeAllocatable, nodeArchitecture, vpcCidrProblems } from "./cluster/eksParts";
export { BackupAccess, type BackupAccessArgs, backupAccessPolicy, BackupBucket, type BackupBucketArgs, tlsOnlyPolicy } from "./data/backupBucket";
export { ecrLifecyclePolicy, Registry, type RegistryArgs, type RegistryCredentials } from "./registry/registry";
