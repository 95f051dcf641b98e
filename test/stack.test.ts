import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors";
import { hostPlatform } from "../components/image/contextHash";
import { fakeDigest, registeredByLastRun, runProgram, runStack, stackConfigWithSecrets, type ProgramRun } from "./harness";
import { secretSignatureKey } from "./manifests";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

/** Every pod the stack runs must pass the Pod Security Standard "restricted", and more. */
function expectRestricted(run: ProgramRun): void {
  const deployments = run.ofType(DEPLOYMENT);
  expect(deployments.length).toBeGreaterThan(0);
  for (const { inputs } of deployments) {
    const pod = inputs.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.securityContext.runAsUser).toBeGreaterThanOrEqual(10000);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork ?? false).toBe(false);
    for (const container of pod.containers) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        privileged: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(container.image).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect(container.imagePullPolicy).toBe("Always");
      for (const kind of ["requests", "limits"]) {
        expect(Object.keys(container.resources[kind]).sort()).toEqual(["cpu", "ephemeral-storage", "memory"]);
      }
      expect(container.livenessProbe.httpGet.path).not.toBe(container.readinessProbe.httpGet.path);
    }
  }
}

describe("dev stack", async () => {
  const run = await runStack("dev");

  it("deploys each service to an existing cluster through the kind context", () => {
    expect(run.one("pulumi:providers:kubernetes", "dev").inputs.context).toBe("kind-flotilla");
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(run.ofType(DEPLOYMENT).map((d) => d.inputs.metadata.name)).toEqual(["users", "gateway"]);
    expect(run.ofType("kubernetes:core/v1:Service").map((s) => s.inputs.spec.type)).toEqual(["ClusterIP", "ClusterIP"]);
  });

  it("makes the gRPC service headless, so the gateway balances over its pods; the HTTP one keeps a virtual IP", () => {
    expect(run.one("kubernetes:core/v1:Service", "users").inputs.spec.clusterIP).toBe("None");
    expect(run.one("kubernetes:core/v1:Service", "gateway").inputs.spec.clusterIP).toBeUndefined();
  });

  it("leaves readiness to the Deployments' await, not the Services' fixed 10 s settling", () => {
    for (const service of run.ofType("kubernetes:core/v1:Service")) {
      expect(service.inputs.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    }
    for (const deployment of run.ofType(DEPLOYMENT)) {
      expect(deployment.inputs.metadata.annotations?.["pulumi.com/skipAwait"]).toBeUndefined();
    }
  });

  it("awaits each Deployment until every replica runs the new template and is available (components/awaits.ts)", () => {
    const replicas = run.ofType(DEPLOYMENT).map((d) => [d.inputs.spec.replicas, JSON.parse(d.inputs.metadata.annotations["pulumi.com/waitFor"])]);
    expect(replicas).toEqual(
      [1, 1].map((n) => [n, [`jsonpath={.status.updatedReplicas}=${n}`, `jsonpath={.status.replicas}=${n}`, `jsonpath={.status.availableReplicas}=${n}`]]),
    );
  });

  it("labels the namespace to enforce the restricted Pod Security Standard, and denies by default", () => {
    const namespace = run.one("kubernetes:core/v1:Namespace", "flotilla");
    expect(namespace.inputs.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    expect(run.one(POLICY, "flotilla-default-deny").inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("runs every pod restricted, by digest, with requests and limits", () => expectRestricted(run));

  it("builds each image with this machine's Go, dev's builder, and pushes it to the local registry under a content tag", () => {
    const images = run.ofType("pulumi-nodejs:dynamic/image:GoImage");
    expect(run.ofType("docker:index/image:Image")).toEqual([]);
    expect(images.map((i) => `${i.inputs.repository}:${i.inputs.tag}`)).toEqual([
      expect.stringMatching(/^localhost:5001\/flotilla-dev\/users:src-[0-9a-f]{24}$/),
      expect.stringMatching(/^localhost:5001\/flotilla-dev\/gateway:src-[0-9a-f]{24}$/),
      // The logging setup Job's image, from the same module.
      expect.stringMatching(/^localhost:5001\/flotilla-dev\/logsetup:src-[0-9a-f]{24}$/),
    ]);
    // An existing cluster (kind) runs on this machine, so its images are built for it.
    expect(images[0]?.inputs.platform).toBe(hostPlatform());
    // Each service builds from a context of its own: what its main package compiles from.
    expect(images[0]?.inputs.context).toMatch(/\.flotilla\/contexts\/users$/);
  });

  it("deploys the digest the push reported", () => {
    const gateway = run.one(DEPLOYMENT, "gateway").inputs;
    expect(gateway.spec.template.spec.containers[0].image).toBe((run.values.services as any).gateway.image);
  });

  it("keeps one replica per service, so no autoscaler or disruption budget", () => {
    expect(run.ofType(DEPLOYMENT).map((d) => d.inputs.spec.replicas)).toEqual([1, 1]);
    expect(run.ofType(HPA)).toEqual([]);
    expect(run.ofType(PDB)).toEqual([]);
  });

  it("tells the gateway where users is, and opens exactly that path", () => {
    const env = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.name === "gateway-env")?.inputs;
    expect(env?.data).toMatchObject({ USERS_ADDR: "users:9090", LISTEN_ADDR: ":8080", OPS_ADDR: ":8081", DEBUG_ADDR: "127.0.0.1:6060", ENVIRONMENT: "dev" });
    expect(env?.immutable).toBe(true);
    const users = run.one(POLICY, "users").inputs.spec;
    expect(users.ingress[0]).toEqual({
      from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "gateway", "app.kubernetes.io/part-of": "flotilla" } } }],
      ports: [{ protocol: "TCP", port: 9090 }],
    });
    const gateway = run.one(POLICY, "gateway").inputs.spec;
    expect(gateway.ingress[0]).toEqual({ ports: [{ protocol: "TCP", port: 8080 }] });
    expect(gateway.egress[1]).toEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "users", "app.kubernetes.io/part-of": "flotilla" } } }],
      ports: [{ protocol: "TCP", port: 9090 }],
    });
  });

  it("drains in the service, not by a preStop sleep, and waits longer than the drain and the shutdown", () => {
    const pod = run.one(DEPLOYMENT, "users").inputs.spec.template.spec;
    const env = run.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.name === "users-env")?.inputs.data;
    expect(env).toMatchObject({ DRAIN_PERIOD: "5s", SHUTDOWN_TIMEOUT: "20s" });
    expect(pod.containers[0].lifecycle).toBeUndefined();
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(5 + 20);
    expect(run.one(DEPLOYMENT, "users").inputs.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });
});

describe("prod stack", async () => {
  const run = await runStack("prod");

  it("creates EKS in its own VPC, private nodes, encrypted secrets, audit logs", () => {
    const cluster = run.one("aws:eks/cluster:Cluster", "prod").inputs;
    expect(cluster.version).toBe("1.34");
    expect(cluster.vpcConfig).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
    expect(cluster.encryptionConfig.resources).toEqual(["secrets"]);
    expect(cluster.enabledClusterLogTypes).toContain("audit");
    expect(run.ofType("aws:ec2/subnet:Subnet")).toHaveLength(6);
    expect(run.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    const nodes = run.one("aws:eks/nodeGroup:NodeGroup", "prod").inputs;
    expect(nodes.scalingConfig).toEqual({ minSize: 3, desiredSize: 3, maxSize: 9 });
    expect(nodes.instanceTypes).toEqual(["m7i.large", "m6i.large"]);
    expect(run.one("aws:kms/key:Key", "prod-secrets").inputs.enableKeyRotation).toBe(true);
  });

  it("gives IAM roles only the managed policies EKS requires, each trusted by one service", () => {
    const attachments = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => String(a.inputs.policyArn).split("/").pop());
    expect(attachments.sort()).toEqual([
      "AmazonEBSCSIDriverPolicy",
      "AmazonEC2ContainerRegistryReadOnly",
      "AmazonEKSClusterPolicy",
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
    ]);
    const trusted = run.ofType("aws:iam/role:Role").map((r) => JSON.parse(r.inputs.assumeRolePolicy).Statement[0].Principal.Service);
    // The EBS CSI driver's, and users' database's for its backups.
    expect(trusted).toEqual(["eks.amazonaws.com", "ec2.amazonaws.com", "pods.eks.amazonaws.com", "pods.eks.amazonaws.com"]);
    expect(run.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => p.name)).toEqual(["users-db-backups"]);
  });

  it("keeps images in ECR: immutable tags, scanned, encrypted, expiring", () => {
    const repositories = run.ofType("aws:ecr/repository:Repository");
    expect(repositories.map((r) => r.inputs.name)).toEqual(["flotilla-prod/users", "flotilla-prod/gateway", "flotilla-prod/logsetup"]);
    for (const { inputs } of repositories) {
      expect(inputs).toMatchObject({
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
      });
    }
    const policy = JSON.parse(run.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy")[0]?.inputs.policy);
    expect(policy.rules.map((r: { selection: { countNumber: number } }) => r.selection.countNumber)).toEqual([3, 50]);
  });

  it("pushes to ECR with a token held as a secret", () => {
    const images = run.ofType("docker:index/image:Image");
    expect(images[0]?.inputs.imageName).toMatch(/^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/flotilla-prod\/users:src-/);
    // Pulumi's wire form of a secret: the value travels wrapped, with the secret signature.
    expect(images[0]?.inputs.registry).toEqual({
      [secretSignatureKey]: secretSignature,
      value: expect.objectContaining({ username: "AWS", password: "token" }),
    });
  });

  it("autoscales every service and guards it with a disruption budget", () => {
    expect(run.ofType(DEPLOYMENT).map((d) => d.inputs.spec.replicas)).toEqual([undefined, undefined]);
    expect(
      run
        .ofType(HPA)
        .map((h) => [h.inputs.metadata.name, h.inputs.spec.minReplicas, h.inputs.spec.maxReplicas])
        .sort(),
    ).toEqual([
      ["gateway", 3, 20],
      ["users", 3, 12],
    ]);
    expect(run.ofType(PDB).map((p) => p.inputs.spec.maxUnavailable)).toEqual([1, 1]);
  });

  it("awaits an autoscaled Deployment on its rollout's end alone, its replica count being the autoscaler's", () => {
    for (const deployment of run.ofType(DEPLOYMENT)) {
      expect(JSON.parse(deployment.inputs.metadata.annotations["pulumi.com/waitFor"])).toEqual([
        'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}=NewReplicaSetAvailable',
      ]);
    }
  });

  it("runs every pod restricted, by digest, with requests and limits", () => expectRestricted(run));

  it("exports the kubeconfig only as a secret", async () => {
    expect(run.secretOutputs.has("kubeconfig")).toBe(true);
    expect(run.values.kubeconfig).toContain("get-token");
    expect(await pulumi.isSecret(run.outputs.kubeconfig!)).toBe(true);
  });
});

/** The dev stack pushing to a registry that asks for credentials, its images built by `builder`. */
function devWithCredentials(builder: "buildkit" | "go"): Promise<ProgramRun> {
  const { values, secretKeys } = stackConfigWithSecrets("dev");
  return runProgram(
    "dev",
    {
      ...values,
      "flotilla:images": { builder },
      "flotilla:registry": { type: "external", server: "registry.example.com/team", username: "ci", password: "hunter2" },
    },
    [...secretKeys, "flotilla:registry"],
  );
}

describe("an external registry with credentials", () => {
  it("pushes with the password only as a secret", async () => {
    const run = await devWithCredentials("buildkit");
    const image = run.one("docker:index/image:Image", "users").inputs;
    expect(image.imageName).toMatch(/^registry\.example\.com\/team\/flotilla-dev\/users:src-/);
    expect(image.registry).toEqual({
      [secretSignatureKey]: secretSignature,
      value: { server: "registry.example.com/team", username: "ci", password: "hunter2" },
    });
  });
});

describe("the Docker builder", async () => {
  const run = await runStack("dev", (config) => (config["flotilla:images"] = { builder: "buildkit" }));

  it("builds each image from the services' Dockerfile with BuildKit, from each service's own context, and pushes it", () => {
    const images = run.ofType("docker:index/image:Image");
    expect(images.map((i) => i.inputs.imageName)).toEqual([
      expect.stringMatching(/^localhost:5001\/flotilla-dev\/users:src-[0-9a-f]{24}$/),
      expect.stringMatching(/^localhost:5001\/flotilla-dev\/gateway:src-[0-9a-f]{24}$/),
      expect.stringMatching(/^localhost:5001\/flotilla-dev\/logsetup:src-[0-9a-f]{24}$/),
    ]);
    expect(images[0]?.inputs.build).toMatchObject({ args: { SERVICE: "users" }, platform: hostPlatform(), builderVersion: "BuilderBuildKit" });
    expect(images[0]?.inputs.build.context).toMatch(/\.flotilla\/contexts\/users$/);
    expect(images[0]?.inputs.build.dockerfile).toMatch(/\.flotilla\/contexts\/users\/Dockerfile$/);
    expect(images[0]?.inputs.skipPush).toBe(false);
    expect(run.ofType("pulumi-nodejs:dynamic/image:GoImage")).toEqual([]);
  });
});

describe("the go builder", async () => {
  const buildkit = await devWithCredentials("buildkit");
  const run = await devWithCredentials("go");
  const images = run.ofType("pulumi-nodejs:dynamic/image:GoImage");

  it("builds every image with this machine's Go, no Docker build, from each service's own context", () => {
    expect(run.ofType("docker:index/image:Image")).toEqual([]);
    expect(images.map((i) => [i.name, i.inputs.mainPackage, i.inputs.repository])).toEqual([
      ["users", "./cmd/users", "registry.example.com/team/flotilla-dev/users"],
      ["gateway", "./cmd/gateway", "registry.example.com/team/flotilla-dev/gateway"],
      ["logsetup", "./cmd/logsetup", "registry.example.com/team/flotilla-dev/logsetup"],
    ]);
    expect(images[0]?.inputs.context).toMatch(/\.flotilla\/contexts\/users$/);
    expect(images[0]?.inputs.platform).toBe(hostPlatform());
  });

  it("gives the image the Dockerfile's user, entrypoint and the platform's ports", () => {
    expect(images[0]?.inputs.settings).toEqual({
      user: "65532:65532",
      entrypoint: ["/service"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      exposedPorts: [8080, 8081],
    });
  });

  it("tags by content, apart from the Dockerfile's tags: the Go toolchain and the builder are part of it", () => {
    const dockerTag = (name: string) => String(buildkit.one("docker:index/image:Image", name).inputs.imageName).split(":").pop();
    for (const image of images) {
      expect(image.inputs.tag).toMatch(/^src-[0-9a-f]{24}$/);
      expect(image.inputs.tag).not.toBe(dockerTag(image.name));
    }
  });

  it("pushes with the password only as a secret", () => {
    expect(images[0]?.inputs.credentials).toEqual({ [secretSignatureKey]: secretSignature, value: { username: "ci", password: "hunter2" } });
  });

  it("deploys the digest the push reported", () => {
    const users = run.one("pulumi-nodejs:dynamic/image:GoImage", "users").inputs;
    expect(run.one(DEPLOYMENT, "users").inputs.spec.template.spec.containers[0].image).toBe(
      `${users.repository}@${fakeDigest(`${users.repository}:${users.tag}`)}`,
    );
  });
});

describe("bad sources", () => {
  it("refuses a missing Dockerfile before registering anything", async () => {
    const run = runStack("dev", (config: any) => {
      config["flotilla:images"] = { builder: "buildkit" };
      config["flotilla:services"].gateway.build = { dockerfile: "Dockerfile.missing" };
    });
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(/flotilla:services\.gateway\.build\.dockerfile: .*Dockerfile\.missing is not a file/);
    expect(registeredByLastRun()).toEqual([]);
  });

  it("refuses a service without a main package", async () => {
    await expect(runStack("dev", (config: any) => (config["flotilla:services"].orders = {}))).rejects.toThrow(
      /flotilla:services\.orders\.main: .*cmd\/orders\/main\.go is not a Go main package/,
    );
  });
});
