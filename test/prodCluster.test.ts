/**
 * The production cluster under mocks: what a real EKS deploy needs beyond the control plane, with
 * the properties that make it safe, and the config refusals of the cluster's shape.
 */
import { describe, expect, it } from "vitest";
import { addonVersionProblems, defaultKubernetesVersion, eksAddons, kubernetesVersions, pinnedAddonVersions } from "../components/cluster/addonVersions";
import { amiType, instanceArchitecture, nodeArchitecture, vpcCidrProblems } from "../components/cluster/eksParts";
import { ConfigError } from "../config/errors";
import { hostPlatform } from "../components/image/contextHash";
import { referencedPlatform } from "../stack";
import { registeredByLastRun, runStack } from "./harness";

const ADDON = "aws:eks/addon:Addon";

describe("the prod cluster", async () => {
  const run = await runStack("prod", (config) => {
    config["flotilla:cluster"].adminRoleArns = ["arn:aws:iam::123456789012:role/platform-admin"];
  });

  it("starts nodes from a launch template that requires IMDSv2 with one hop and encrypts a gp3 root volume", () => {
    const template = run.one("aws:ec2/launchTemplate:LaunchTemplate", "prod-nodes").inputs;
    expect(template.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(template.blockDeviceMappings[0].ebs).toMatchObject({ volumeType: "gp3", encrypted: "true", volumeSize: 50 });
    const nodes = run.one("aws:eks/nodeGroup:NodeGroup", "prod").inputs;
    expect(nodes.launchTemplate).toEqual({ id: "prod-nodes-id", version: "1" });
    expect(nodes.diskSize).toBeUndefined();
    expect(nodes.amiType).toBe("AL2023_x86_64_STANDARD");
  });

  it("runs the core add-ons, the Pod Identity agent, the EBS CSI driver and metrics-server, each at the version pinned for 1.34", () => {
    const addons = Object.fromEntries(run.ofType(ADDON).map((a) => [a.inputs.addonName, a.inputs.addonVersion]));
    expect(addons).toEqual(pinnedAddonVersions["1.34"]);
    expect(Object.keys(addons).sort()).toEqual([...eksAddons].sort());
  });

  it("pins kube-proxy to the control plane's minor version in every row of the add-on table", () => {
    expect(addonVersionProblems()).toEqual([]);
    expect(kubernetesVersions).toContain(defaultKubernetesVersion);
  });

  it("gives the EBS CSI driver its own role through Pod Identity, trusted only by that service for this account", () => {
    const csi = run.one(ADDON, "prod-aws-ebs-csi-driver").inputs;
    expect(csi.podIdentityAssociations).toEqual([{ roleArn: expect.any(String), serviceAccount: "ebs-csi-controller-sa" }]);
    const role = run.one("aws:iam/role:Role", "prod-ebs-csi").inputs;
    const [statement, ...rest] = JSON.parse(role.assumeRolePolicy).Statement;
    expect(rest).toEqual([]);
    expect(statement).toEqual({
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    expect(run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-ebs-csi").inputs.policyArn).toBe(
      "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    );
  });

  it("makes an encrypted gp3 StorageClass the default, bound where the pod lands", () => {
    const storageClass = run.one("kubernetes:storage.k8s.io/v1:StorageClass", "prod-gp3").inputs;
    expect(storageClass).toMatchObject({
      metadata: { name: "gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      volumeBindingMode: "WaitForFirstConsumer",
    });
  });

  it("gives admins cluster-admin by access entry, with no aws-auth ConfigMap", () => {
    expect(run.one("aws:eks/cluster:Cluster", "prod").inputs.accessConfig.authenticationMode).toBe("API");
    expect(run.one("aws:eks/accessEntry:AccessEntry", "prod-admin-0").inputs.principalArn).toBe("arn:aws:iam::123456789012:role/platform-admin");
    expect(run.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "prod-admin-0").inputs).toMatchObject({
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      accessScope: { type: "cluster" },
    });
    expect(run.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.name === "aws-auth")).toEqual([]);
  });

  it("protects the cluster, its KMS key, the image repositories and the database with its backups from destroy", () => {
    const protectedOnes = run.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`);
    expect(protectedOnes.sort()).toEqual(
      [
        "aws:ecr/repository:Repository prod-images-gateway",
        "aws:ecr/repository:Repository prod-images-logsetup",
        "aws:ecr/repository:Repository prod-images-users",
        "aws:eks/cluster:Cluster prod",
        "aws:kms/key:Key prod-secrets",
        "aws:kms/key:Key flotilla-prod-db-backups-key",
        "aws:s3/bucket:Bucket flotilla-prod-db-backups",
        "kubernetes:postgresql.cnpg.io/v1:Cluster users-db",
      ].sort(),
    );
  });
});

describe("the dev stack", async () => {
  const run = await runStack("dev");

  it("creates no AWS resource and protects nothing", () => {
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(run.resources.filter((r) => r.protect)).toEqual([]);
  });
});

describe("cluster shapes refused before anything is registered", () => {
  const cases: [string, (cluster: any, config: any) => void, RegExp][] = [
    ["a VPC larger than /16", (c) => (c.vpcCidr = "10.0.0.0/8"), /flotilla:cluster\.vpcCidr: AWS allows a VPC of \/16 to \/28; \/8 is not one/],
    [
      "host bits in the VPC range",
      (c) => (c.vpcCidr = "10.0.1.0/16"),
      /flotilla:cluster\.vpcCidr: host bits are set: the network of 10\.0\.1\.0\/16 starts at 10\.0\.0\.0\/16/,
    ],
    ["a VPC too small for the subnets", (c) => (c.vpcCidr = "10.0.0.0/26"), /flotilla:cluster\.vpcCidr: no room for 6 subnets/],
    ["a public endpoint open to everyone", (c) => (c.endpointPublicAccess = true), /flotilla:cluster\.publicAccessCidrs: must list the addresses allowed/],
    [
      "x86 and Graviton nodes in one group",
      (c) => (c.nodes.instanceTypes = ["m7i.large", "m7g.large"]),
      /flotilla:cluster\.nodes\.instanceTypes: must share one architecture/,
    ],
    [
      "amd64 images for Graviton nodes",
      (c, config) => {
        c.nodes.instanceTypes = ["m7g.large"];
        config["flotilla:images"] = { platform: "linux/amd64" };
      },
      /flotilla:images\.platform: must be linux\/arm64/,
    ],
    ["an admin that is not a role ARN", (c) => (c.adminRoleArns = ["admin"]), /flotilla:cluster\.adminRoleArns\[0\]: an IAM role ARN/],
    [
      "more zones than the region has",
      (c) => (c.availabilityZones = 4),
      /flotilla:cluster\.availabilityZones: the region has 3 available zones \(eu-west-1a, eu-west-1b, eu-west-1c\); 4 were asked for/,
    ],
    [
      "a foreign platform for the classic builder",
      (c, config) => {
        // Whatever this machine is, the other architecture.
        const foreign =
          hostPlatform() === "linux/amd64" ? { platform: "linux/arm64", nodes: ["m7g.large"] } : { platform: "linux/amd64", nodes: ["m7i.large"] };
        c.nodes.instanceTypes = foreign.nodes;
        config["flotilla:images"] = { platform: foreign.platform, builder: "classic" };
      },
      /flotilla:images\.platform: the classic builder builds only this machine's platform/,
    ],
  ];

  it.each(cases)("refuses %s", async (_name, change, message) => {
    const run = runStack("prod", (config) => change(config["flotilla:cluster"], config));
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(message);
    expect(registeredByLastRun()).toEqual([]);
  });

  it("builds arm64 images for Graviton nodes without being told", async () => {
    const run = await runStack("prod", (config) => {
      config["flotilla:cluster"].nodes.instanceTypes = ["m7g.large", "c7g.xlarge"];
    });
    expect(run.one("aws:eks/nodeGroup:NodeGroup", "prod").inputs.amiType).toBe("AL2023_ARM_64_STANDARD");
    expect(run.ofType("docker:index/image:Image").every((i) => i.inputs.build.platform === "linux/arm64")).toBe(true);
  });
});

describe("eks helpers", () => {
  it.each([
    ["m7i.large", "x86_64"],
    ["m6a.xlarge", "x86_64"],
    ["m7g.large", "arm64"],
    ["c6gn.2xlarge", "arm64"],
    ["t4g.small", "arm64"],
    ["r8g.medium", "arm64"],
    ["g5.xlarge", "x86_64"],
  ])("%s runs %s", (type, arch) => {
    expect(instanceArchitecture(type)).toBe(arch);
  });

  it("names the mixed types", () => {
    expect(nodeArchitecture(["m7i.large", "m7g.large"])).toEqual({ mixed: ["m7i.large (x86_64)", "m7g.large (arm64)"] });
    expect(amiType("arm64")).toBe("AL2023_ARM_64_STANDARD");
  });

  it.each([
    ["10.0.0.0/16", 3, []],
    ["10.0.0.0/24", 3, []],
    ["10.0.0.0/25", 3, ["no room for 6 subnets (a public and a private one per zone) of /29: use a /24 or larger"]],
    ["192.168.1.128/16", 2, ["host bits are set: the network of 192.168.1.128/16 starts at 192.168.0.0/16"]],
  ] as const)("checks %s for %d zones", (cidr, zones, problems) => {
    expect(vpcCidrProblems(cidr, zones)).toEqual(problems);
  });
});

describe("a cluster stack and an app stack apart", () => {
  it("deploys the cluster alone with scope cluster, exporting what app stacks read", async () => {
    const run = await runStack("prod", (config) => (config["flotilla:scope"] = "cluster"));
    expect(run.ofType("aws:eks/cluster:Cluster")).toHaveLength(1);
    expect(run.resources.filter((r) => r.type.startsWith("flotilla:") && !r.type.startsWith("flotilla:cluster:"))).toEqual([]);
    expect(run.ofType("aws:ecr/repository:Repository")).toEqual([]);
    expect(Object.keys(run.values).sort()).toEqual(["architecture", "clusterName", "kubeconfig", "storageClass"]);
    expect(run.values).toMatchObject({ storageClass: "gp3", architecture: "x86_64" });
    expect(run.secretOutputs).toEqual(new Set(["kubeconfig"]));
  });

  it("takes the app stack's cluster from the cluster stack's outputs, making no AWS cluster resource", async () => {
    const run = await runStack("prod", (config) => (config["flotilla:cluster"] = { type: "stackReference", stack: "acme/flotilla-cluster/prod" }));
    expect(run.one("pulumi:pulumi:StackReference", "prod-cluster").inputs.name).toBe("acme/flotilla-cluster/prod");
    // Only the database's Pod Identity association names an EKS cluster: the cluster stack's.
    expect(run.resources.filter((r) => r.type.startsWith("aws:eks") || r.type.startsWith("aws:ec2")).map((r) => [r.type, r.inputs.clusterName])).toEqual([
      ["aws:eks/podIdentityAssociation:PodIdentityAssociation", "cluster"],
    ]);
    const provider = run.one("pulumi:providers:kubernetes", "prod").inputs;
    expect(provider.kubeconfig).toBeDefined();
    // Still ECR: the referenced cluster is EKS, whose nodes pull with their role.
    expect(run.ofType("aws:ecr/repository:Repository")).toHaveLength(3);
    // The images follow the cluster stack's nodes (arm64 in the mocked outputs).
    expect(run.ofType("docker:index/image:Image").map((i) => i.inputs.build.platform)).toEqual(["linux/arm64", "linux/arm64", "linux/arm64"]);
  });

  it("refuses, naming the cluster stack, a classic build for nodes of another architecture than this machine's", () => {
    const foreign = hostPlatform() === "linux/amd64" ? "arm64" : "x86_64";
    const native = hostPlatform() === "linux/amd64" ? "x86_64" : "arm64";
    expect(() => referencedPlatform(foreign, "classic", "acme/cluster/prod")).toThrow(
      new RegExp(`flotilla:images\\.platform: the classic builder builds only this machine's platform .* cluster stack acme/cluster/prod are ${foreign}`),
    );
    expect(referencedPlatform(native, "classic", "acme/cluster/prod")).toBe(hostPlatform());
    expect(referencedPlatform("arm64", "buildkit", "acme/cluster/prod")).toBe("linux/arm64");
    expect(referencedPlatform("x86_64", "buildkit", "acme/cluster/prod")).toBe("linux/amd64");
  });

  it("refuses a cluster stack whose cluster it does not make", async () => {
    const run = runStack("dev", (config) => (config["flotilla:scope"] = "cluster"));
    await expect(run).rejects.toThrow(/flotilla:scope: a cluster stack makes its cluster: set cluster\.type eks/);
    expect(registeredByLastRun()).toEqual([]);
  });
});
