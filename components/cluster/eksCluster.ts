import * as ec2 from "@pulumi/aws/ec2";
import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as storagev1 from "@pulumi/kubernetes/storage/v1";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { defaultKubernetesVersion, type EksAddon, type KubernetesVersion, pinnedAddonVersions } from "./addonVersions";
import { amiType, assumeRolePolicy, eksDefaults, nodeArchitecture, podIdentityTrustPolicy, subnetCidrs } from "./eksParts";

export interface EksNodes {
  /** EC2 instance types of the managed node group, in order of preference. */
  readonly instanceTypes: readonly string[];
  readonly min: number;
  readonly desired: number;
  readonly max: number;
  /** Root volume size of each node, in GiB. */
  readonly diskSizeGiB: number;
}

export interface EksClusterArgs {
  /**
   * Kubernetes minor version; one of those with pinned add-on versions (`addonVersions.ts`).
   * @default "1.34"
   */
  readonly version?: KubernetesVersion;
  /**
   * Add-on versions that replace the pinned ones, for trying a newer build before the table has it.
   * @default the versions pinned for `version`
   */
  readonly addonVersions?: Partial<Record<EksAddon, string>>;
  /**
   * Address range of the VPC; subnets are carved from it, one public and one private per zone.
   * @default "10.0.0.0/16"
   */
  readonly vpcCidr?: string;
  /**
   * Availability zones to spread subnets and nodes over.
   * @default 3
   */
  readonly availabilityZones?: number;
  /**
   * Whether the API endpoint is reachable from the internet; it is always reachable from the VPC.
   * @default false
   */
  readonly endpointPublicAccess?: boolean;
  /**
   * Addresses allowed to the public endpoint, when there is one.
   * @default [] (which AWS reads as everywhere: set it whenever the endpoint is public)
   */
  readonly publicAccessCidrs?: readonly string[];
  /**
   * The managed node group.
   * @default three m7i.large nodes, up to six, 50 GiB disks
   */
  readonly nodes?: EksNodes;
  /**
   * IAM roles given cluster-admin through EKS access entries (no aws-auth ConfigMap).
   * @default [] (only the identity that created the cluster)
   */
  readonly adminRoleArns?: readonly string[];
  /**
   * Protect the cluster and its secrets' KMS key from `pulumi destroy` (`pulumi state unprotect` first).
   * @default false
   */
  readonly protect?: boolean;
}

/** Name of the default StorageClass: encrypted gp3, bound where the pod lands. */
export const defaultStorageClass = "gp3";

/**
 * An EKS cluster in a VPC of its own: private nodes behind one NAT gateway, secrets encrypted with
 * a KMS key of the cluster's, control-plane audit logs on, and IAM roles holding only the AWS
 * managed policies EKS requires. Nodes come from a launch template that requires IMDSv2 (no pod
 * reaches the node's role) and encrypts the root volume. The managed add-ons include the EBS CSI
 * driver, given its AWS access through EKS Pod Identity, and metrics-server for the autoscalers;
 * an encrypted gp3 StorageClass is the default. Exposes a Kubernetes provider for it.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly provider: KubernetesProvider;
  /** A kubeconfig that authenticates with `aws eks get-token`; secret, as it names the endpoint. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly vpcId: pulumi.Output<string>;
  /** Role of the nodes, for granting them more (such as pulls from another account's ECR). */
  readonly nodeRoleArn: pulumi.Output<string>;
  /** The nodes' CPU architecture, which images must be built for. */
  readonly architecture: "arm64" | "x86_64";
  /** The default StorageClass, which volumes use unless they name another. */
  readonly storageClass: pulumi.Output<string>;

  constructor(name: string, args: EksClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:cluster:EksCluster", name, {}, opts);
    const child = { parent: this };
    const vpcCidr = args.vpcCidr ?? eksDefaults.vpcCidr;
    const zoneCount = args.availabilityZones ?? eksDefaults.availabilityZones;
    const nodes = args.nodes ?? eksDefaults.nodes;
    const tags = { "flotilla:cluster": name };
    const version = args.version ?? defaultKubernetesVersion;
    const addonVersions = { ...pinnedAddonVersions[version], ...args.addonVersions };
    const arch = nodeArchitecture(nodes.instanceTypes);
    if ("mixed" in arch) {
      throw new pulumi.ResourceError(`nodes.instanceTypes mixes architectures (${arch.mixed.join(", ")}): a node group runs one AMI`, this);
    }
    const kept = { ...child, protect: args.protect ?? false };

    // The stack checks the region has enough zones before registering anything (stack.ts).
    const zones = getAvailabilityZonesOutput({ state: "available" }, child).names.apply((names) => names.slice(0, zoneCount));
    const vpc = new ec2.Vpc(name, { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: name } }, child);
    const gateway = new ec2.InternetGateway(name, { vpcId: vpc.id, tags }, child);
    const cidrs = subnetCidrs(vpcCidr, zoneCount * 2);
    const publicRoutes = new ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags }, child);
    const subnets = (kind: "public" | "private") =>
      Array.from({ length: zoneCount }, (_, i) => {
        const subnet = new ec2.Subnet(
          `${name}-${kind}-${i}`,
          {
            vpcId: vpc.id,
            availabilityZone: zones.apply((z) => z[i] as string),
            cidrBlock: cidrs[kind === "public" ? i : zoneCount + i] as string,
            mapPublicIpOnLaunch: false,
            // Tells the AWS load balancer controller where internet-facing and internal balancers go.
            tags: { ...tags, [kind === "public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]: "1" },
          },
          child,
        );
        return subnet;
      });
    const publicSubnets = subnets("public");
    const privateSubnets = subnets("private");
    publicSubnets.forEach((subnet, i) => new ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, child));
    // One NAT gateway: the nodes' egress survives only while its zone does, at a third of the cost.
    const natAddress = new ec2.Eip(`${name}-nat`, { domain: "vpc", tags }, child);
    const nat = new ec2.NatGateway(
      name,
      { subnetId: (publicSubnets[0] as ec2.Subnet).id, allocationId: natAddress.id, tags },
      { ...child, dependsOn: [gateway] },
    );
    const privateRoutes = new ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags }, child);
    privateSubnets.forEach(
      (subnet, i) => new ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: privateRoutes.id }, child),
    );

    // One lookup of the partition (aws, aws-cn, aws-us-gov) for every ARN built below.
    const partition = getPartitionOutput({}, child).partition;
    const managedPolicy = (policyName: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${policyName}`;
    const clusterRole = new iam.Role(`${name}-cluster`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("eks.amazonaws.com")), tags }, child);
    new iam.RolePolicyAttachment(`${name}-cluster`, { role: clusterRole.name, policyArn: managedPolicy("AmazonEKSClusterPolicy") }, child);
    const nodeRole = new iam.Role(`${name}-nodes`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("ec2.amazonaws.com")), tags }, child);
    const nodePolicies = nodePolicyNames.map(
      (policy) => new iam.RolePolicyAttachment(`${name}-nodes-${policy}`, { role: nodeRole.name, policyArn: managedPolicy(policy) }, child),
    );
    const secretsKey = new kms.Key(
      `${name}-secrets`,
      { description: `${name} Kubernetes secrets`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      kept,
    );

    const cluster = new eks.Cluster(
      name,
      {
        roleArn: clusterRole.arn,
        version,
        vpcConfig: {
          subnetIds: [...privateSubnets, ...publicSubnets].map((s) => s.id),
          endpointPrivateAccess: true,
          endpointPublicAccess: args.endpointPublicAccess ?? false,
          publicAccessCidrs: args.endpointPublicAccess ? [...(args.publicAccessCidrs ?? [])] : undefined,
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
        enabledClusterLogTypes: ["api", "audit", "authenticator"],
        tags,
      },
      kept,
    );
    // vpc-cni and kube-proxy before the nodes, which cannot become ready without a network.
    const addon = (addonName: EksAddon, extra: Partial<eks.AddonArgs> = {}, dependsOn: pulumi.Resource[] = []) =>
      new eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: cluster.name,
          addonName,
          addonVersion: addonVersions[addonName],
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
          tags,
          ...extra,
        },
        { ...child, dependsOn },
      );
    const networkAddons = [addon("vpc-cni"), addon("kube-proxy"), addon("eks-pod-identity-agent")];

    // IMDSv2 only, one hop: containers cannot reach the instance metadata, so no pod acts as the node's role.
    const launchTemplate = new ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [
          { deviceName: "/dev/xvda", ebs: { volumeSize: nodes.diskSizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
        ],
        tagSpecifications: [{ resourceType: "instance", tags }],
        tags,
      },
      child,
    );
    const nodeGroup = new eks.NodeGroup(
      name,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: privateSubnets.map((s) => s.id),
        instanceTypes: [...nodes.instanceTypes],
        amiType: amiType(arch.architecture),
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
        scalingConfig: { minSize: nodes.min, desiredSize: nodes.desired, maxSize: nodes.max },
        updateConfig: { maxUnavailable: 1 },
        tags,
      },
      { ...child, dependsOn: [...nodePolicies, ...networkAddons] },
    );

    // The EBS CSI driver's controller acts in AWS through EKS Pod Identity: a role only the
    // Pod Identity service assumes, for this account, holding only the driver's managed policy.
    const accountId = getCallerIdentityOutput({}, child).accountId;
    const ebsCsiRole = new iam.Role(`${name}-ebs-csi`, { assumeRolePolicy: accountId.apply((id) => JSON.stringify(podIdentityTrustPolicy(id))), tags }, child);
    new iam.RolePolicyAttachment(`${name}-ebs-csi`, { role: ebsCsiRole.name, policyArn: managedPolicy("service-role/AmazonEBSCSIDriverPolicy") }, child);
    const podAddons = [
      addon("coredns", {}, [nodeGroup]),
      addon("aws-ebs-csi-driver", { podIdentityAssociations: [{ roleArn: ebsCsiRole.arn, serviceAccount: "ebs-csi-controller-sa" }] }, [
        nodeGroup,
        ...networkAddons,
      ]),
      // Resource metrics for the services' HorizontalPodAutoscalers.
      addon("metrics-server", {}, [nodeGroup]),
    ];

    // Cluster administrators by access entry, the API authentication mode's replacement for aws-auth.
    for (const [i, principalArn] of (args.adminRoleArns ?? []).entries()) {
      const entry = new eks.AccessEntry(`${name}-admin-${i}`, { clusterName: cluster.name, principalArn, type: "STANDARD", tags }, child);
      new eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn,
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        { ...child, dependsOn: [entry] },
      );
    }

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data])
        .apply(([clusterName, endpoint, ca]) => kubeconfigFor(clusterName, endpoint, ca)),
    );
    this.provider = new KubernetesProvider(
      name,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { ...child, dependsOn: [nodeGroup, ...podAddons] },
    );
    // EKS makes no default StorageClass since 1.30: this one is, encrypted, and binds a volume in
    // the zone of the pod that claims it.
    const storageClass = new storagev1.StorageClass(
      `${name}-${defaultStorageClass}`,
      {
        metadata: { name: defaultStorageClass, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: "Delete",
      },
      { parent: this, provider: this.provider },
    );
    this.clusterName = cluster.name;
    this.vpcId = vpc.id;
    this.nodeRoleArn = nodeRole.arn;
    this.architecture = arch.architecture;
    this.storageClass = storageClass.metadata.name;
    this.registerOutputs({ clusterName: this.clusterName, vpcId: this.vpcId, nodeRoleArn: this.nodeRoleArn, storageClass: this.storageClass });
  }
}

/** The managed policies EKS nodes need: join the cluster, run the VPC CNI, pull from ECR. */
export const nodePolicyNames = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"] as const;

/** A kubeconfig that gets short-lived tokens from the AWS CLI instead of holding a credential. */
export function kubeconfigFor(clusterName: string, endpoint: string, certificateAuthority: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": certificateAuthority } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", clusterName, "--output", "json"],
          },
        },
      },
    ],
  });
}
