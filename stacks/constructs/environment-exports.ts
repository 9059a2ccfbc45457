/**
 * What an environment gives its customers: the typed contract between the environment stack and
 * the customer stacks. Customer constructs take this and nothing else from the environment.
 * Values are Terraform references of the environment stack; used in a customer stack, cdktf turns
 * them into cross-stack references (an output there, remote state here).
 */
/** One load-balancer shard's ALB: what a customer pinned to it attaches to and points at. */
export interface ShardExports {
  /** The shard's ALB. */
  readonly albArn: string;
  /** `app/<name>/<id>`: the ALB's CloudWatch dimension and scaling resource label part. */
  readonly albArnSuffix: string;
  /** DNS name of the ALB: the target of customer alias records. */
  readonly albDnsName: string;
  /** Route 53 zone id of the ALB, for alias records. */
  readonly albZoneId: string;
  /** Security group of the ALB: the only ingress source of its customers' web servers. */
  readonly albSecurityGroupId: string;
  /** The ALB's HTTPS listener: customers attach their host-header rules and certificates to it. */
  readonly httpsListenerArn: string;
}

export interface EnvironmentExports extends ShardExports {
  /** The environment's VPC. */
  readonly vpcId: string;
  /** The three natted subnets (web servers, builds), in AZ order. */
  readonly nattedSubnetIds: readonly string[];
  /** The three private subnets (databases), in AZ order. */
  readonly privateSubnetIds: readonly string[];
  /**
   * Every load-balancer shard, by number. The ALB fields above are those of one shard: shard 0's
   * from the environment stack, the customer's own shard's after `forShard` (what customer
   * constructs are given).
   */
  readonly shards: readonly ShardExports[];
  /** The environment KMS key (logs, artifacts, databases, secrets, the alarm topic). */
  readonly kmsKeyArn: string;
  /** Artifact bucket name (literal): releases live under software/<customer>/. */
  readonly artifactBucketName: string;
  /** Artifact bucket ARN (literal). */
  readonly artifactBucketArn: string;
  /** The environment's alarm topic (SNS, KMS-encrypted). */
  readonly alarmTopicArn: string;
}

/** The exports as a customer of `shard` sees them: the ALB fields are its shard's. */
export function forShard(exports: EnvironmentExports, shard: number): EnvironmentExports {
  const s = exports.shards[shard];
  if (s === undefined) throw new Error(`forShard: shard must be one of 0-${exports.shards.length - 1} (the environment's shards), got ${shard}`);
  return { ...exports, ...s };
}

/** One line per export: the description of the environment stack's output of the same name. */
export const ENVIRONMENT_EXPORT_DESCRIPTIONS: Readonly<Record<keyof EnvironmentExports, string>> = {
  vpcId: 'VPC id',
  nattedSubnetIds: 'Natted subnet ids (web servers, builds), in AZ order',
  privateSubnetIds: 'Private subnet ids (databases), in AZ order',
  albArn: 'ARN of the public ALB (shard 0)',
  albArnSuffix: 'ARN suffix of the public ALB (CloudWatch dimension LoadBalancer)',
  albDnsName: 'DNS name of the public ALB (target of customer alias records)',
  albZoneId: 'Route 53 zone id of the public ALB (for alias records)',
  albSecurityGroupId: 'Security group of the public ALB; web-server security groups allow it as their only ingress source',
  httpsListenerArn: 'HTTPS listener of the public ALB; customer stacks attach host-header rules and certificates to it',
  kmsKeyArn: 'The environment KMS key (artifacts, CloudTrail, CloudWatch Logs, databases, the alarm topic)',
  artifactBucketName: 'Artifact and log bucket (layout: docs)',
  artifactBucketArn: 'ARN of the artifact and log bucket',
  alarmTopicArn: 'SNS topic every alarm of the environment publishes to',
  shards: 'Per load-balancer shard, by number: ALB ARN, ARN suffix, DNS name, zone id, security group and HTTPS listener',
};
