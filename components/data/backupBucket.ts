import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityTrustPolicy } from "../cluster/eksParts";
import { databaseDefaults as d } from "./defaults";

export interface BackupBucketArgs {
  /** Protect the bucket and its key from `pulumi destroy` (prod). @default false */
  readonly protect?: boolean;
  /** Days S3 keeps an object's overwritten or deleted versions. @default 30 */
  readonly noncurrentVersionDays?: number;
  /** Tags beside `flotilla:backups`, on every AWS resource that takes tags. */
  readonly tags?: Record<string, string>;
}

/**
 * The S3 bucket that the databases' backups go to: encrypted with a KMS key of its own (rotated
 * yearly), versioned, closed to the public, refusing requests without TLS, with ACLs disabled. An
 * object Barman deletes past its retention stays as a noncurrent version for
 * `noncurrentVersionDays`, so a mistaken deletion can be undone. Each database reaches only its own
 * prefix, through a `BackupAccess`.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:data:BackupBucket", name, {}, opts);
    const child = { parent: this };
    const kept = { parent: this, protect: args.protect ?? false };
    const tags = { "flotilla:backups": name, ...args.tags };
    const key = new kms.Key(`${name}-key`, { description: `${name}: database backups`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, kept);
    // Emptied by hand before it goes (forceDestroy off): a destroy never deletes backups on its own.
    // S3 names: lower-case letters, digits and '-'; a prefix of at most 37 characters.
    const bucketPrefix = `${name.toLowerCase().replace(/[^a-z0-9-]/g, "-")}-`.slice(0, 37);
    const bucket = new s3.Bucket(name, { bucketPrefix, forceDestroy: false, tags }, kept);
    new s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    new s3.BucketPublicAccessBlock(
      name,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new s3.BucketVersioning(name, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
    new s3.BucketServerSideEncryptionConfiguration(
      name,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] },
      child,
    );
    new s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? d.backups.noncurrentVersionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      child,
    );
    new s3.BucketPolicy(name, { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyPolicy(arn))) }, child);
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.keyArn = key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, keyArn: this.keyArn });
  }
}

export interface BackupAccessArgs {
  readonly bucketArn: pulumi.Input<string>;
  readonly keyArn: pulumi.Input<string>;
  /** The one prefix of the bucket this identity may read, write and delete under, without a trailing slash. */
  readonly prefix: string;
  /** The EKS cluster whose pods take the identity. */
  readonly eksClusterName: pulumi.Input<string>;
  readonly namespace: pulumi.Input<string>;
  /** The ServiceAccount of the pods that take it: CloudNativePG names a Cluster's after the Cluster. */
  readonly serviceAccount: pulumi.Input<string>;
  /** Tags beside `flotilla:backups`, on every AWS resource that takes tags. */
  readonly tags?: Record<string, string>;
}

/**
 * An AWS identity for one database's pods, by EKS Pod Identity: an IAM role that only the Pod
 * Identity service assumes, for this account, allowed to list, read, write and delete objects under
 * one prefix of the backup bucket and to use the bucket's key through S3, and nothing else.
 */
export class BackupAccess extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: BackupAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flotilla:data:BackupAccess", name, {}, opts);
    const child = { parent: this };
    const tags = { "flotilla:backups": name, ...args.tags };
    // The key's ARN names its account and region (arn:<partition>:kms:<region>:<account>:key/<id>),
    // the bucket's: no lookup per database.
    const keyArn = pulumi.output(args.keyArn);
    const role = new iam.Role(name, { assumeRolePolicy: keyArn.apply((arn) => JSON.stringify(podIdentityTrustPolicy(arnField(arn, "account")))), tags }, child);
    new iam.RolePolicy(
      name,
      {
        role: role.name,
        policy: pulumi
          .all([args.bucketArn, keyArn])
          .apply(([bucketArn, arn]) => JSON.stringify(backupAccessPolicy(bucketArn, arn, args.prefix, arnField(arn, "region")))),
      },
      child,
    );
    new eks.PodIdentityAssociation(
      name,
      { clusterName: args.eksClusterName, namespace: args.namespace, serviceAccount: args.serviceAccount, roleArn: role.arn, tags },
      child,
    );
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}

/** The region or the account an ARN names. */
function arnField(arn: string, field: "region" | "account"): string {
  return arn.split(":")[field === "region" ? 3 : 4] ?? "";
}

/** The bucket refuses every request made without TLS. */
export function tlsOnlyPolicy(bucketArn: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** One database's rights: its prefix's objects, the listing of that prefix alone, the key through S3 only. */
export function backupAccessPolicy(bucketArn: string, keyArn: string, prefix: string, region: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "Objects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${bucketArn}/${prefix}/*` },
      {
        Sid: "List",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}/*`] } },
      },
      { Sid: "Location", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: bucketArn },
      {
        Sid: "Key",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: keyArn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
      },
    ],
  };
}
