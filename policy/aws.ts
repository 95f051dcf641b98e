/**
 * Policies on a stack's AWS resources: what EksCluster and Registry promise for prod.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { stackOf } from "./workloads";

export const ecrScanAndImmutableTags: ResourceValidationPolicy = {
  name: "ecr-scan-and-immutable-tags",
  description: "ECR repositories scan every push and never let a tag move.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:ecr/repository:Repository") {
      return;
    }
    if (args.props.imageScanningConfiguration?.scanOnPush !== true) {
      reportViolation("images are not scanned on push (imageScanningConfiguration.scanOnPush)");
    }
    if (args.props.imageTagMutability !== "IMMUTABLE") {
      reportViolation("tags are mutable: set imageTagMutability IMMUTABLE, as content tags never need to move");
    }
  },
};

export const eksEncryptionAndLogs: ResourceValidationPolicy = {
  name: "eks-secrets-encryption-and-audit-logs",
  description: "EKS encrypts Kubernetes Secrets with a KMS key and sends the API, audit and authenticator logs to CloudWatch.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:eks/cluster:Cluster") {
      return;
    }
    const encrypted = ((args.props.encryptionConfig?.resources ?? []) as string[]).includes("secrets");
    if (!encrypted) {
      reportViolation("Kubernetes Secrets are not encrypted with a KMS key (encryptionConfig)");
    }
    const logs = (args.props.enabledClusterLogTypes ?? []) as string[];
    const missing = ["api", "audit", "authenticator"].filter((t) => !logs.includes(t));
    if (missing.length > 0) {
      reportViolation(`control-plane logs missing: ${missing.join(", ")}`);
    }
  },
};

export const eksEndpointAllowlist: ResourceValidationPolicy = {
  name: "eks-public-endpoint-allowlist",
  description: "A public EKS endpoint is reachable only from an allowlist; AWS reads an empty list as everywhere.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:eks/cluster:Cluster" || args.props.vpcConfig?.endpointPublicAccess !== true) {
      return;
    }
    const cidrs = (args.props.vpcConfig?.publicAccessCidrs ?? []) as string[];
    if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0")) {
      reportViolation(`the public endpoint is open to everyone (publicAccessCidrs ${JSON.stringify(cidrs)})`);
    }
  },
};

export const nodesRequireImdsv2: ResourceValidationPolicy = {
  name: "nodes-require-imdsv2",
  description: "Nodes require IMDSv2 with a hop limit of 1, so no pod can act as the node's IAM role.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type === "aws:eks/nodeGroup:NodeGroup" && args.props.launchTemplate === undefined) {
      reportViolation("the node group has no launch template, so the nodes take EC2's metadata defaults (IMDSv1 allowed)");
    }
    if (args.type !== "aws:ec2/launchTemplate:LaunchTemplate") {
      return;
    }
    const metadata = args.props.metadataOptions ?? {};
    if (metadata.httpTokens !== "required") {
      reportViolation("instance metadata accepts IMDSv1 (metadataOptions.httpTokens is not required)");
    }
    if (metadata.httpPutResponseHopLimit !== 1) {
      reportViolation(`metadata hop limit is ${metadata.httpPutResponseHopLimit ?? "unset"}, not 1: containers could reach it`);
    }
  },
};

/** The AWS resource types Flotilla creates that take tags. */
const taggable = new Set([
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:iam/role:Role",
  "aws:kms/key:Key",
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/addon:Addon",
  "aws:eks/accessEntry:AccessEntry",
  "aws:ecr/repository:Repository",
]);

export const awsResourcesTagged: ResourceValidationPolicy = {
  name: "aws-resources-tagged",
  description: "AWS resources carry Flotilla's tags, so costs and ownership are traceable to a stack.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { requiredTagPrefix: { type: "string", default: "flotilla:" } } },
  validateResource: (args, reportViolation) => {
    if (!taggable.has(args.type)) {
      return;
    }
    const { requiredTagPrefix } = args.getConfig<{ requiredTagPrefix: string }>();
    const tags = Object.keys((args.props.tags ?? {}) as Record<string, string>);
    if (!tags.some((tag) => tag.startsWith(requiredTagPrefix))) {
      reportViolation(`no ${requiredTagPrefix}* tag (tags: ${tags.join(", ") || "none"})`);
    }
  },
};

/** Resources whose loss loses data or identity: the cluster, its secrets' key, the images. */
const stateful = new Set([
  "aws:eks/cluster:Cluster",
  "aws:kms/key:Key",
  "aws:ecr/repository:Repository",
  "aws:s3/bucket:Bucket",
  "kubernetes:postgresql.cnpg.io/v1:Cluster",
]);

export const protectedInProd: StackValidationPolicy = {
  name: "stateful-resources-protected-in-prod",
  description:
    "In prod, the cluster, its KMS keys, the ECR repositories, the databases (CloudNativePG Clusters) and their backup bucket are protected from `pulumi destroy`.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { protectedStacks: { type: "array", items: { type: "string" }, default: ["prod"] } } },
  validateStack: (args, reportViolation) => {
    const { protectedStacks } = args.getConfig<{ protectedStacks: string[] }>();
    for (const resource of args.resources.filter((r) => stateful.has(r.type) && protectedStacks.includes(stackOf(r.urn)))) {
      if (!resource.opts.protect) {
        reportViolation(`${resource.name} (${resource.type}) is not protected in ${stackOf(resource.urn)}`, resource.urn);
      }
    }
  },
};
