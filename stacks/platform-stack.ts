import { Node } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Backend, TerraformElement, TerraformStack } from 'cdktf';
import { NamingScope } from './constructs/naming-scope';
import { EnvironmentConfig } from './model/config/validate';
import { stateBucketName } from './model/naming';

/**
 * Base of every stack: readable, hash-free logical ids, so plan addresses read like
 * `aws_subnet.network_public-eu-west-1a` instead of `aws_subnet.network_public-eu-west-1a_1A2B3C4D`.
 * The id is the construct path below the stack joined by "_". Construct paths are unique, and a
 * collision of joined paths (possible only with "_" inside ids) fails the synth loudly.
 */
export abstract class PlatformStack extends TerraformStack {
  private readonly logicalIds = new Map<string, string>();

  /**
   * Makes this a stack of one environment's account: declares the naming scope, adds the AWS
   * provider (region, allowed account, optional role, default tags) and keeps state in the
   * account/region's state bucket under `<project>/<env>/<stack>.tfstate`, with S3-native locking.
   */
  protected useEnvironmentAccount(env: EnvironmentConfig, tags: Record<string, string>): void {
    NamingScope.declare(this, { project: env.project, env: env.name, account: env.account, region: env.region });
    new AwsProvider(this, 'aws', {
      region: env.region,
      allowedAccountIds: [env.account],
      assumeRole: env.assumeRoleArn ? [{ roleArn: env.assumeRoleArn, sessionName: `${env.project}-${env.name}-cdktf` }] : undefined,
      defaultTags: [{ tags }],
    });
    const backend = new S3Backend(this, {
      bucket: stateBucketName({ project: env.project, account: env.account, region: env.region }),
      key: `${env.project}/${env.name}/${this.node.id}.tfstate`,
      region: env.region,
      encrypt: true,
      assumeRole: env.assumeRoleArn ? { roleArn: env.assumeRoleArn } : undefined,
    });
    // The only escape hatch in the project: S3-native state locking (Terraform >= 1.10). cdktf 0.21's
    // S3Backend has no typed field for `use_lockfile`, and without it there is no locking at all.
    backend.addOverride('use_lockfile', true);
  }

  protected allocateLogicalId(element: TerraformElement | Node): string {
    const isElement = TerraformElement.isTerraformElement(element);
    const node = isElement ? element.node : element;
    const stack = isElement ? element.cdktfStack : this;
    const parts = node.scopes.slice(node.scopes.indexOf(stack) + 1).map((c) => c.node.id);
    // Terraform names take letters, digits, "_" and "-": anything else (the dots of cdktf's own
    // cross-stack output ids, "cross-stack-output-aws_vpc.network_vpc.id") becomes "_".
    const id = parts.join('_').replace(/[^A-Za-z0-9_-]/g, '_');
    const path = node.path;
    const other = this.logicalIds.get(id);
    if (other !== undefined && other !== path) throw new Error(`logical id "${id}" would be used by both ${other} and ${path}; rename one construct`);
    this.logicalIds.set(id, path);
    return id;
  }
}
