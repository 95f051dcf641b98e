/**
 * Pure decisions of the EKS cluster, tested alone: the nodes' architecture and AMI, the VPC's
 * address plan, and the IAM documents, each least privilege.
 */

/** EC2 instance families on AWS Graviton (arm64): a `g` after the generation digit, as in m7g, c6gn, r8g, t4g. */
const gravitonFamily = /^[a-z]+[0-9]+g[a-z]*$/;

/** The architecture of an instance type such as `m7i.large` (x86_64) or `m7g.large` (arm64). */
export function instanceArchitecture(instanceType: string): "arm64" | "x86_64" {
  const family = instanceType.split(".")[0] ?? "";
  return gravitonFamily.test(family) ? "arm64" : "x86_64";
}

/**
 * The one architecture of a node group's instance types, or the mixed ones: a managed node group
 * runs one AMI, so it cannot mix them.
 */
export function nodeArchitecture(instanceTypes: readonly string[]): { architecture: "arm64" | "x86_64" } | { mixed: string[] } {
  const architectures = new Set(instanceTypes.map(instanceArchitecture));
  if (architectures.size !== 1) {
    return { mixed: instanceTypes.map((t) => `${t} (${instanceArchitecture(t)})`) };
  }
  return { architecture: [...architectures][0] as "arm64" | "x86_64" };
}

/** The EKS-optimised Amazon Linux 2023 AMI type for an architecture. */
export const amiType = (architecture: "arm64" | "x86_64") => (architecture === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD");

/** The image platform that runs on nodes of an architecture. */
export const imagePlatform = (architecture: "arm64" | "x86_64") => (architecture === "arm64" ? "linux/arm64" : "linux/amd64");

/** Problems of an IPv4 CIDR as the VPC of a cluster with `zones` zones; empty when it is usable. */
export function vpcCidrProblems(cidr: string, zones: number): string[] {
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number(prefixText);
  const problems: string[] = [];
  if (prefix < 16 || prefix > 28) {
    problems.push(`AWS allows a VPC of /16 to /28; /${prefix} is not one`);
  }
  const value = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  if (value % 2 ** (32 - prefix) !== 0) {
    problems.push(`host bits are set: the network of ${cidr} starts at ${networkAddress(value, prefix)}/${prefix}`);
  }
  // One public and one private subnet per zone, each a sixteenth of the VPC.
  if (prefix + 4 > 28 || zones * 2 > 16) {
    problems.push(`no room for ${zones * 2} subnets (a public and a private one per zone) of /${prefix + 4}: use a /24 or larger`);
  }
  return problems;
}

function networkAddress(value: number, prefix: number): string {
  const network = value - (value % 2 ** (32 - prefix));
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
}

/** A trust policy that lets one AWS service, and nothing else, assume the role. */
export function assumeRolePolicy(service: string): object {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}

/**
 * The trust policy of a role for pods, through EKS Pod Identity: only the EKS Pod Identity
 * service assumes it, and only for this account's clusters.
 */
export function podIdentityTrustPolicy(accountId: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}
