import { Construct } from 'constructs';
import { ArtifactBucket } from './artifact-bucket';
import { AuditTrail } from './audit-trail';
import { EnvironmentKey } from './environment-key';
import { PipelineRoles } from './pipeline-roles';
import { VpcFlowLog } from './vpc-flow-log';
import { NamingScope } from '../naming-scope';

export interface SecurityFoundationProps {   
  /** KMS key deletion window, 7-30 days. */
  readonly kmsDeletionWindowDays: number;
  /** Retention of the CloudTrail log group, one of CloudWatch's allowed values. */
  readonly cloudWatchLogRetentionDays: number;
  /** Days before objects under `logs/` of the artifact bucket expire. */
  readonly s3LogExpirationDays: number;
  /** Days before noncurrent versions in the artifact bucket expire. */
  readonly noncurrentVersionExpirationDays: number;
  /** ARN of the ALB's HTTPS listener: the only listener the deploy role may add (customer) rules to. */
  readonly httpsListenerArn: string;
  /** VPC whose flow logs go to the artifact bucket under `logs/vpc-flow/`. Default none (no flow log, and no log-delivery grants on bucket and key). */
  readonly flowLogVpcId?: string;
}

/**
 * The security backbone of an environment, wired together: the KMS key, the artifact and log
 * bucket, the audit trail with its log group and EventBridge rules, the three pipeline roles and,
 * optionally, the VPC flow log. Other constructs of the environment (the GitLab webhook, the
 * pipelines) take what they need from its members.
 */
export class SecurityFoundation extends Construct {
  readonly key: EnvironmentKey;
  readonly artifacts: ArtifactBucket;
  readonly trail: AuditTrail;
  readonly roles: PipelineRoles;
  /** The VPC flow log, when a VPC was given. */
  readonly flowLog?: VpcFlowLog;

  constructor(scope: Construct, id: string, props: SecurityFoundationProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const logDelivery = props.flowLogVpcId !== undefined;
    // Key and bucket policies name the trail before it exists: its ARN is literal.
    const cloudTrailArn = AuditTrail.trailArnOf(ns);

    this.key = new EnvironmentKey(this, 'key', {
      deletionWindowDays: props.kmsDeletionWindowDays,
      cloudTrailArn,
      logDelivery,
    });

    this.artifacts = new ArtifactBucket(this, 'artifacts', {
      kmsKeyArn: this.key.arn,
      cloudTrailArn,
      logExpirationDays: props.s3LogExpirationDays,
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
      logDelivery,
    });

    this.trail = new AuditTrail(this, 'audit', {
      bucket: this.artifacts.bucket,
      kmsKeyArn: this.key.arn,
      logRetentionDays: props.cloudWatchLogRetentionDays,
    });

    this.roles = new PipelineRoles(this, 'roles', {
      bucketArn: this.artifacts.arn,
      kmsKeyArn: this.key.arn,
      httpsListenerArn: props.httpsListenerArn,
    });

    if (props.flowLogVpcId !== undefined) {
      this.flowLog = new VpcFlowLog(this, 'vpc-flow-log', {
        vpcId: props.flowLogVpcId,
        destinationArn: this.artifacts.flowLogDestinationArn,
        dependsOn: [this.artifacts.bucket.policy],
      });
    }
  }
}
