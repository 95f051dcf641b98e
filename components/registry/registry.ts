import * as ecr from "@pulumi/aws/ecr";
import * as pulumi from "@pulumi/pulumi";
import type { RegistryCredentials } from "./credentials";
import { ecrDefaults } from "./defaults";

export interface EcrSettings {
  /**
   * Scan each image for vulnerabilities when it is pushed.
   * @default true
   */
  readonly scanOnPush?: boolean;
  /**
   * Tagged images kept per repository; older ones expire.
   * @default 30
   */
  readonly keepTaggedImages?: number;
  /**
   * Days after which untagged images expire.
   * @default 7
   */
  readonly expireUntaggedAfterDays?: number;
}

export interface RegistryArgs {
  /** `ecr`: one private ECR repository per image. `external`: any OCI registry, such as the dev one on localhost. */
  readonly type: "ecr" | "external";
  /** The repositories to provide, one per service. */
  readonly repositories: readonly string[];
  /**
   * Prefix of every repository's name, such as the stack name, so stacks do not share repositories.
   * @default "flotilla"
   */
  readonly prefix?: string;
  /**
   * For `ecr`: scanning and lifecycle settings.
   * @default the defaults of each field
   */
  readonly ecr?: EcrSettings;
  /** For `external`: the registry's address, with port and path where needed. */
  readonly server?: string;
  /**
   * For `external`: user name to push with.
   * @default anonymous pushes
   */
  readonly username?: string;
  /**
   * For `external`: password to push with; pass a secret.
   * @default none
   */
  readonly password?: pulumi.Input<string>;
  /**
   * For `ecr`: protect the repositories, and the images deployments refer to, from `pulumi destroy`.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * Where a stack's images live: private ECR repositories with immutable tags, scanning, encryption
 * and expiry in AWS, or repositories on an existing OCI registry elsewhere.
 */
export type { RegistryCredentials };

export class Registry extends pulumi.ComponentResource {
  /** Repository address per service, without tag or digest. */
  readonly repositoryUrls: Record<string, pulumi.Output<string>>;
  /** Credentials to push with, when the registry needs any; the password is secret. */
  readonly credentials?: pulumi.Output<RegistryCredentials>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:registry:Registry", name, {}, opts);
    const d = ecrDefaults;
    const prefix = args.prefix ?? "flotilla";
    if (args.type === "ecr") {
      const settings = args.ecr ?? {};
      const repositories = args.repositories.map((repo) => {
        const repository = new ecr.Repository(
          `${name}-${repo}`,
          {
            name: `${prefix}/${repo}`,
            // A tag is written once: what a digest-pinned Deployment refers to never changes under it.
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: settings.scanOnPush ?? d.scanOnPush },
            encryptionConfigurations: [{ encryptionType: "KMS" }],
            tags: { "flotilla:registry": name },
          },
          { parent: this, protect: args.protect ?? false },
        );
        new ecr.LifecyclePolicy(
          `${name}-${repo}`,
          {
            repository: repository.name,
            policy: JSON.stringify(
              ecrLifecyclePolicy(settings.keepTaggedImages ?? d.keepTaggedImages, settings.expireUntaggedAfterDays ?? d.expireUntaggedAfterDays),
            ),
          },
          { parent: this },
        );
        return [repo, repository] as const;
      });
      this.repositoryUrls = Object.fromEntries(repositories.map(([repo, repository]) => [repo, repository.repositoryUrl]));
      const first = repositories[0]?.[1];
      if (first) {
        const token = ecr.getAuthorizationTokenOutput({ registryId: first.registryId }, { parent: this });
        this.credentials = pulumi.secret(
          pulumi.all([token.proxyEndpoint, token.userName, token.password]).apply(([server, username, password]) => ({ server, username, password })),
        );
      }
    } else {
      if (!args.server) {
        throw new pulumi.ResourceError(`${name}: an external registry needs a server`, this);
      }
      const server = args.server;
      this.repositoryUrls = Object.fromEntries(args.repositories.map((repo) => [repo, pulumi.output(`${server}/${prefix}/${repo}`)]));
      if (args.username !== undefined || args.password !== undefined) {
        this.credentials = pulumi.output({ server, username: args.username ?? "", password: pulumi.secret(args.password ?? "") });
      }
    }
    this.registerOutputs({ repositoryUrls: this.repositoryUrls });
  }
}

/**
 * ECR lifecycle rules: untagged images (left behind by failed or superseded pushes) expire after
 * `untaggedDays`; of tagged images only the newest `keepTagged` stay.
 */
export function ecrLifecyclePolicy(keepTagged: number, untaggedDays: number): object {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `expire untagged images after ${untaggedDays} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedDays },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `keep the newest ${keepTagged} tagged images`,
        selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keepTagged },
        action: { type: "expire" },
      },
    ],
  };
}
