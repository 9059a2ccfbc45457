import { Construct } from 'constructs';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import {
  S3BucketLifecycleConfiguration,
  S3BucketLifecycleConfigurationRule,
} from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { TerraformProvider } from 'cdktf';
import { Statement, partitionOf, policyDocument, policyJson } from '../../model/iam-policy';
import { bucketNameProblems } from '../../model/naming';

/** How objects are encrypted at rest. */
export type BucketEncryption =
  /** SSE-KMS with a customer-managed key, bucket keys on. */
  | { readonly kind: 'kms'; readonly kmsKeyArn: string }
  /** SSE-KMS with the AWS-managed aws/s3 key (for buckets that exist before any customer key). */
  | { readonly kind: 'aws-managed-kms' }
  /** SSE-S3 (AES256): only where a service cannot write to SSE-KMS buckets (ELB access logs). */
  | { readonly kind: 'sse-s3' };

/** Objects under a prefix expire after a number of days. */
export interface ExpiryRule {
  /** Rule id, shown in the plan. */
  readonly id: string;
  /** Key prefix, e.g. "logs/" (S3 lifecycle filters take literal prefixes, never wildcards). */
  readonly prefix: string;
  /** Days after creation. */
  readonly days: number;
}

export interface SecureBucketProps {
  /** Globally unique bucket name (deterministic; see naming.ts). */
  readonly bucketName: string;
  /** Region, for the partition of literal ARNs. */
  readonly region: string;
  /** Encryption at rest. */
  readonly encryption: BucketEncryption;
  /** Current objects under these prefixes expire. Default none. */
  readonly expire?: readonly ExpiryRule[];
  /** Days before noncurrent versions expire. Default 30. */
  readonly noncurrentVersionExpirationDays?: number;
  /** Extra bucket-policy statements (service write access, ...); TLS-only is always first. Default none. */
  readonly policyStatements?: readonly Statement[];
  /** Terraform refuses to destroy the bucket (state buckets). Default false. */
  readonly preventDestroy?: boolean;
  /** AWS provider for the bucket's resources (stacks with several accounts/regions). Default: the stack's default provider. */
  readonly provider?: TerraformProvider;
}

/**
 * An S3 bucket that is secure by default: encryption, versioning, all four public-access blocks,
 * object ownership enforced (no ACLs), a TLS-only bucket policy, noncurrent-version expiry and
 * aborted incomplete multipart uploads. Every bucket of the platform is one of these.
 */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  /** Literal bucket name. */
  readonly name: string;
  /** Literal ARN of the bucket (readable in plan reviews). */
  readonly arn: string;
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const problems = bucketNameProblems(props.bucketName);
    if (problems.length > 0) throw new Error(`SecureBucket: bucket name "${props.bucketName}" ${problems.join('; ')}`);
    for (const r of props.expire ?? []) {
      if (!/^[^*?]+\/$/.test(r.prefix)) throw new Error(`SecureBucket: expiry rule "${r.id}" prefix must be a literal prefix ending in "/", got ${JSON.stringify(r.prefix)}`);
      if (!Number.isInteger(r.days) || r.days < 1) throw new Error(`SecureBucket: expiry rule "${r.id}" days must be a whole number >= 1, got ${r.days}`);
    }
    this.name = props.bucketName;
    this.arn = `arn:${partitionOf(props.region)}:s3:::${props.bucketName}`;

    this.bucket = new S3Bucket(this, 'bucket', {
      provider: props.provider,
      bucket: props.bucketName,
      lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
    });
    const bucket = this.bucket.id;
    const provider = props.provider;
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, 'public-access-block', {
      provider,
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', { provider, bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketVersioningA(this, 'versioning', { provider, bucket, versioningConfiguration: { status: 'Enabled' } });
    const enc = props.encryption;
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      provider,
      bucket,
      rule: [
        enc.kind === 'sse-s3'
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }
          : {
              applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: enc.kind === 'kms' ? enc.kmsKeyArn : undefined },
              bucketKeyEnabled: true,
            },
      ],
    });
    const rules: S3BucketLifecycleConfigurationRule[] = [
      {
        id: 'abort-incomplete-multipart-uploads',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
      },
      {
        id: 'expire-noncurrent-versions',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays ?? 30 }],
      },
      ...(props.expire ?? []).map((r) => ({
        id: r.id,
        status: 'Enabled',
        filter: [{ prefix: r.prefix }],
        expiration: [{ days: r.days }],
      })),
    ];
    new S3BucketLifecycleConfiguration(this, 'lifecycle', { provider, bucket, rule: rules });

    this.policy = new S3BucketPolicy(this, 'policy', {
      provider,
      bucket,
      // S3 rejects a policy change while the public-access block is being written.
      dependsOn: [publicAccessBlock],
      policy: policyJson(
        policyDocument(
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [this.arn, `${this.arn}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          ...(props.policyStatements ?? []),
        ),
      ),
    });
  }
}
