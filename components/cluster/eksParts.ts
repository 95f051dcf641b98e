/**
 * Pure decisions of the EKS cluster, tested alone: the nodes' architecture and AMI, the VPC's
 * address plan, and the IAM documents, each least privilege.
 */

/** EC2 instance families on AWS Graviton (arm64): a `g` after the generation digit, as in m7g, c6gn, r8g, t4g. */
const gravitonFamily = /^[a-z]+[0-9]+g[a-z]*$/;

/** The architecture of an instance type such as `m7i.large` (x86_64) or `m7g.large` (arm64). */
/** Defaults of an EKS cluster, written once: the config contract reads them too. */
export const eksDefaults = {
  vpcCidr: "10.0.0.0/16",
  availabilityZones: 3,
  nodes: { instanceTypes: ["m7i.large"], min: 3, desired: 3, max: 6, diskSizeGiB: 50 },
} as const;

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
  const { value, prefix } = parseCidr(cidr);
  const problems: string[] = [];
  if (prefix < 16 || prefix > 28) {
    problems.push(`AWS allows a VPC of /16 to /28; /${prefix} is not one`);
  }
  if (value % 2 ** (32 - prefix) !== 0) {
    problems.push(`host bits are set: the network of ${cidr} starts at ${formatAddress(value - (value % 2 ** (32 - prefix)))}/${prefix}`);
  }
  if (subnetRoomProblem(prefix, zones * 2) !== undefined) {
    problems.push(`no room for ${zones * 2} subnets (a public and a private one per zone) of /${prefix + subnetBits}: use a /24 or larger`);
  }
  return problems;
}

/** Each subnet is a sixteenth of the VPC: a public and a private one per zone, with room for zones to be added. */
const subnetBits = 4;

/** Why `count` subnets of a sixteenth do not fit a /`prefix` (AWS's smallest subnet is a /28). */
function subnetRoomProblem(prefix: number, count: number): string | undefined {
  return count > 2 ** subnetBits || prefix + subnetBits > 28 ? `cannot hold ${count} subnets of /${prefix + subnetBits}` : undefined;
}

/** Splits an IPv4 range into `count` equal subnets, each a sixteenth of it. */
export function subnetCidrs(cidr: string, count: number): string[] {
  const { value, prefix } = parseCidr(cidr);
  const problem = subnetRoomProblem(prefix, count);
  if (problem !== undefined) {
    throw new Error(`${cidr} ${problem}`);
  }
  const size = 2 ** (32 - prefix - subnetBits);
  return Array.from({ length: count }, (_, i) => `${formatAddress(value + i * size)}/${prefix + subnetBits}`);
}

function parseCidr(cidr: string): { value: number; prefix: number } {
  const [address = "", prefixText = ""] = cidr.split("/");
  return { value: address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0), prefix: Number(prefixText) };
}

function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
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

/** vCPUs per instance size, for the sizes EKS node groups use. */
const sizeCpus: Record<string, number> = { medium: 1, large: 2, xlarge: 4 };
/** GiB of memory per vCPU by instance class: compute, general, memory-optimised, extra memory. */
const classMemoryPerCpu: Record<string, number> = { c: 2, m: 4, r: 8, x: 16 };
/** Burstable t3/t4g sizes, which do not follow the ratio: [vCPU, GiB]. */
const burstable: Record<string, [number, number]> = {
  nano: [2, 0.5],
  micro: [2, 1],
  small: [2, 2],
  medium: [2, 4],
  large: [2, 8],
  xlarge: [4, 16],
  "2xlarge": [8, 32],
};

/**
 * What one node of an instance type offers pods, by EKS's AL2023 reservation formulas: CPU minus
 * kube-reserved (6% of the first core, 1% of the second, 0.5% of the next two, 0.25% beyond),
 * memory minus kube-reserved (255 MiB + 11 MiB per pod the VPC CNI allows) and the 100 MiB
 * eviction threshold. Undefined for an instance family it does not know: then nothing is refused.
 */
export function nodeAllocatable(instanceType: string): { cpuCores: number; memoryBytes: number } | undefined {
  const [family = "", size = ""] = instanceType.split(".");
  const klass = family[0] ?? "";
  const nx = /^([0-9]+)xlarge$/.exec(size);
  let cpus: number | undefined;
  let memoryGiB: number | undefined;
  if (klass === "t") {
    [cpus, memoryGiB] = burstable[size] ?? [];
  } else if (classMemoryPerCpu[klass] !== undefined) {
    cpus = sizeCpus[size] ?? (nx ? Number(nx[1]) * 4 : undefined);
    memoryGiB = cpus === undefined ? undefined : cpus * (classMemoryPerCpu[klass] as number);
  }
  if (cpus === undefined || memoryGiB === undefined) {
    return undefined;
  }
  const reservedCpu = [0.06, 0.01, 0.005, 0.005].reduce((sum, share, core) => sum + (core < cpus ? share : 0), 0) + Math.max(0, cpus - 4) * 0.0025;
  // Pods per node the VPC CNI allows (ENIs × (IPs per ENI − 1) + 2), capped as EKS caps max-pods.
  const maxPods = cpus <= 1 ? 17 : cpus <= 2 ? 29 : cpus <= 8 ? 58 : 110;
  const reservedMemory = (255 + 11 * maxPods + 100) * 2 ** 20;
  return { cpuCores: cpus - reservedCpu, memoryBytes: memoryGiB * 2 ** 30 - reservedMemory };
}
