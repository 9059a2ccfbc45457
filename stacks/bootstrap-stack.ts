import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LocalBackend, TerraformOutput } from 'cdktf';
import { PlatformStack } from './platform-stack';
import { PlatformConfig } from './model/config/validate';
import { stateBucketName } from './model/naming';
import { SecureBucket } from './constructs/storage/secure-bucket';

export interface BootstrapStackProps {
  /** The validated platform config: one state bucket per distinct account and region. */
  readonly config: PlatformConfig;
}

/**
 * Creates the Terraform state bucket of every account/region the environments use. It keeps its
 * own state locally (it creates the remote state store), at the project root, so re-synthesizing
 * never deletes it; the path is relative, so the synthesized stack stays relocatable.
 */
export class BootstrapStack extends PlatformStack {
  /** State buckets by `${account}/${region}`. */
  readonly buckets: ReadonlyMap<string, SecureBucket>;

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    const buckets = new Map<string, SecureBucket>();
    for (const env of props.config.environments) {
      const key = `${env.account}/${env.region}`;
      if (buckets.has(key)) continue;
      const alias = `account-${env.account}-${env.region}`; // a Terraform identifier starts with a letter
      const provider = new AwsProvider(this, `aws-${alias}`, {
        alias,
        region: env.region,
        allowedAccountIds: [env.account],
        // The first environment of this account/region lends its role, if it has one.
        assumeRole: env.assumeRoleArn ? [{ roleArn: env.assumeRoleArn, sessionName: `${env.project}-bootstrap-cdktf` }] : undefined,
        defaultTags: [{ tags: { project: props.config.project, environment: 'shared', 'managed-by': 'cdktf' } }],
      });
      const bucket = new SecureBucket(this, `state-${alias}`, {
        bucketName: stateBucketName({ project: props.config.project, account: env.account, region: env.region }),
        region: env.region,
        encryption: { kind: 'aws-managed-kms' },
        noncurrentVersionExpirationDays: 90,
        preventDestroy: true,
        provider,
      });
      buckets.set(key, bucket);
      new TerraformOutput(this, `state_bucket_${alias.replace(/-/g, '_')}`, { value: bucket.bucket.bucket, description: `State bucket of ${key}` });
    }
    this.buckets = buckets;
  }
}
