import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

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
   * Kubernetes minor version.
   * @default "1.34"
   */
  readonly version?: string;
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
}

/**
 * An EKS cluster in a VPC of its own: private nodes behind one NAT gateway, secrets encrypted with
 * a KMS key of the cluster's, control-plane audit logs on, and IAM roles holding only the AWS
 * managed policies EKS requires. Exposes a Kubernetes provider for it.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  /** A kubeconfig that authenticates with `aws eks get-token`; secret, as it names the endpoint. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly vpcId: pulumi.Output<string>;
  /** Role of the nodes, for granting them more (such as pulls from another account's ECR). */
  readonly nodeRoleArn: pulumi.Output<string>;

  constructor(name: string, args: EksClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:cluster:EksCluster", name, {}, opts);
    const child = { parent: this };
    const vpcCidr = args.vpcCidr ?? "10.0.0.0/16";
    const zoneCount = args.availabilityZones ?? 3;
    const nodes = args.nodes ?? { instanceTypes: ["m7i.large"], min: 3, desired: 3, max: 6, diskSizeGiB: 50 };
    const tags = { "flotilla:cluster": name };

    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, child).names.apply((names) => {
      if (names.length < zoneCount) {
        throw new Error(`${name}: the region has ${names.length} availability zones; ${zoneCount} were asked for`);
      }
      return names.slice(0, zoneCount);
    });
    const vpc = new aws.ec2.Vpc(name, { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: name } }, child);
    const gateway = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags }, child);
    const cidrs = subnetCidrs(vpcCidr, zoneCount * 2);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags }, child);
    const subnets = (kind: "public" | "private") =>
      Array.from({ length: zoneCount }, (_, i) => {
        const subnet = new aws.ec2.Subnet(
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
    publicSubnets.forEach(
      (subnet, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, child),
    );
    // One NAT gateway: the nodes' egress survives only while its zone does, at a third of the cost.
    const natAddress = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags }, child);
    const nat = new aws.ec2.NatGateway(
      name,
      { subnetId: (publicSubnets[0] as aws.ec2.Subnet).id, allocationId: natAddress.id, tags },
      { ...child, dependsOn: [gateway] },
    );
    const privateRoutes = new aws.ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags }, child);
    privateSubnets.forEach(
      (subnet, i) => new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: privateRoutes.id }, child),
    );

    const clusterRole = new aws.iam.Role(`${name}-cluster`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("eks.amazonaws.com")), tags }, child);
    new aws.iam.RolePolicyAttachment(`${name}-cluster`, { role: clusterRole.name, policyArn: managedPolicy("AmazonEKSClusterPolicy") }, child);
    const nodeRole = new aws.iam.Role(`${name}-nodes`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("ec2.amazonaws.com")), tags }, child);
    const nodePolicies = nodePolicyNames.map(
      (policy) => new aws.iam.RolePolicyAttachment(`${name}-nodes-${policy}`, { role: nodeRole.name, policyArn: managedPolicy(policy) }, child),
    );
    const secretsKey = new aws.kms.Key(
      `${name}-secrets`,
      { description: `${name} Kubernetes secrets`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      child,
    );

    const cluster = new aws.eks.Cluster(
      name,
      {
        roleArn: clusterRole.arn,
        version: args.version ?? "1.34",
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
      child,
    );
    const nodeGroup = new aws.eks.NodeGroup(
      name,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: privateSubnets.map((s) => s.id),
        instanceTypes: [...nodes.instanceTypes],
        amiType: "AL2023_x86_64_STANDARD",
        diskSize: nodes.diskSizeGiB,
        scalingConfig: { minSize: nodes.min, desiredSize: nodes.desired, maxSize: nodes.max },
        updateConfig: { maxUnavailable: 1 },
        tags,
      },
      { ...child, dependsOn: nodePolicies },
    );

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data])
        .apply(([clusterName, endpoint, ca]) => kubeconfigFor(clusterName, endpoint, ca)),
    );
    this.provider = new k8s.Provider(name, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { ...child, dependsOn: [nodeGroup] });
    this.clusterName = cluster.name;
    this.vpcId = vpc.id;
    this.nodeRoleArn = nodeRole.arn;
    this.registerOutputs({ clusterName: this.clusterName, vpcId: this.vpcId, nodeRoleArn: this.nodeRoleArn });
  }
}

/** The managed policies EKS nodes need: join the cluster, run the VPC CNI, pull from ECR. */
export const nodePolicyNames = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"] as const;

function managedPolicy(policyName: string): pulumi.Output<string> {
  return aws.getPartitionOutput().partition.apply((partition) => `arn:${partition}:iam::aws:policy/${policyName}`);
}

/** A trust policy that lets one AWS service, and nothing else, assume the role. */
export function assumeRolePolicy(service: string): object {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}

/** Splits an IPv4 range into `count` equal subnets, each 1/16 of it: room for zones to be added. */
export function subnetCidrs(cidr: string, count: number): string[] {
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number(prefixText);
  const subnetPrefix = prefix + 4;
  if (count > 16 || subnetPrefix > 28) {
    throw new Error(`${cidr} cannot hold ${count} subnets of /${subnetPrefix}`);
  }
  const base = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - subnetPrefix);
  return Array.from({ length: count }, (_, i) => {
    const start = base + i * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join(".")}/${subnetPrefix}`;
  });
}

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
