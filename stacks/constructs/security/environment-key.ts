import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { PolicyDocument, Statement, iamArn, partitionOf, policyDocument, policyJson, regionalArn, s3Arn } from '../../model/iam-policy';
import { artifactBucketName, envName, kmsAliasName, logGroupPrefix } from '../../model/naming';
import { ARTIFACT_PREFIXES } from '../../model/artifact-layout';
import { NamingScope } from '../naming-scope';

export interface EnvironmentKeyProps {   
  /** Days between scheduling the key's deletion and its deletion, 7-30. */
  readonly deletionWindowDays: number;
  /** Literal ARN of the environment's trail: the only trail that may encrypt with the key. */
  readonly cloudTrailArn: string;
  /** Let log delivery (VPC flow logs to S3) encrypt with the key. Default false. */
  readonly logDelivery?: boolean;
}

/**
 * The environment's customer-managed KMS key (rotation on) and its alias `alias/<project>-<env>`.
 *
 * The key policy has one statement per principal, each scoped by conditions: the account root (IAM
 * delegation: roles get the key through their IAM policies, with kms:ViaService), CloudTrail
 * (only with the CloudTrail encryption context and this trail as source), CloudWatch Logs of this
 * region (only for log groups under `/<project>/<env>/`), CloudWatch alarms of this environment,
 * and optionally log delivery for VPC flow logs into this environment's artifact bucket.
 * Only the root statement has `kms:*`. No statement lets the account's principals decrypt by the
 * key policy alone: reading CloudTrail log files takes an IAM policy granting kms:Decrypt on this
 * key (through the root delegation), so only principals an administrator chose can read them.
 */
export class EnvironmentKey extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
  /** The key ARN (known after apply). */
  readonly arn: string;
  /** The key id (known after apply). */
  readonly keyId: string;
  /** Literal alias name, `alias/<project>-<env>`. */
  readonly aliasName: string;
  /** Literal alias ARN. */
  readonly aliasArn: string;
  /** The key policy, as deployed. */
  readonly policyDocument: PolicyDocument;

  constructor(scope: Construct, id: string, props: EnvironmentKeyProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const { account, region } = ns;
    if (!Number.isInteger(props.deletionWindowDays) || props.deletionWindowDays < 7 || props.deletionWindowDays > 30) {
      throw new Error(`EnvironmentKey: deletionWindowDays must be a whole number from 7 to 30, got ${props.deletionWindowDays}`);
    }
    const trailArnPrefix = regionalArn(ns, 'cloudtrail', 'trail/');
    if (!props.cloudTrailArn.startsWith(trailArnPrefix) || props.cloudTrailArn.length === trailArnPrefix.length) {
      throw new Error(`EnvironmentKey: cloudTrailArn must be a trail of ${account} in ${region} (${trailArnPrefix}<name>), got ${JSON.stringify(props.cloudTrailArn)}`);
    }

    const partition = partitionOf(region);
    const accountTrails = `arn:${partition}:cloudtrail:*:${account}:trail/*`;
    const autoScalingRole = iamArn(ns, 'role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling');
    const statements: Statement[] = [
      {
        // IAM delegation: without it no IAM policy could grant the key. Resource "*" in a key
        // policy means this key.
        Sid: 'AccountRootIamDelegation',
        Effect: 'Allow',
        Principal: { AWS: iamArn(ns, 'root') },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'CloudTrailEncryptsThisTrailsLogs',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: {
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': accountTrails },
          StringEquals: { 'aws:SourceArn': props.cloudTrailArn },
        },
      },
      {
        Sid: 'CloudTrailDescribesKey',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:DescribeKey',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceArn': props.cloudTrailArn } },
      },
      {
        Sid: 'CloudWatchLogsEncryptsOwnLogGroups',
        Effect: 'Allow',
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': regionalArn(ns, 'logs', `log-group:${logGroupPrefix(ns)}*`) } },
      },
      {
        // CloudWatch alarms publish to the KMS-encrypted alarm topic: only this environment's alarms.
        Sid: 'AlarmsOfThisEnvironmentUseTheAlarmTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': regionalArn(ns, 'cloudwatch', `alarm:${envName(ns)}-*`) },
        },
      },
      {
        // Customer web servers boot from gp3 volumes encrypted with this key, launched by Auto
        // Scaling's service-linked role. Principal "*" narrowed to that role's ARN: naming the role
        // as principal would make the key policy invalid in an account where it does not exist yet.
        Sid: 'AutoScalingEncryptsCustomerVolumes',
        Effect: 'Allow',
        Principal: '*',
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': account }, ArnEquals: { 'aws:PrincipalArn': autoScalingRole } },
      },
      {
        Sid: 'AutoScalingGrantsForAttachedVolumes',
        Effect: 'Allow',
        Principal: '*',
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': account }, ArnEquals: { 'aws:PrincipalArn': autoScalingRole }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      },
    ];
    if (props.logDelivery) {
      // No condition key names one flow log: for delivery to S3, delivery.logs.amazonaws.com sends
      // aws:SourceArn as a CloudWatch Logs ARN of the account and region (arn:aws:logs:<region>:
      // <account>:*, as in AWS's documented policy), never the flow log's own ec2 ARN, and the flow
      // log's ARN exists only after it (and it needs this policy first). So the statement is pinned
      // to WHERE the data goes: S3 encrypting for this environment's artifact bucket (with bucket
      // keys the encryption context is the bucket ARN; without, the object ARN under the flow-log
      // prefix). Another flow log of this account and region could use the key only by writing to
      // this bucket's flow-log prefix, which creating it (ec2:CreateFlowLogs, logs:CreateLogDelivery)
      // takes administrator rights for; no platform role has them.
      const bucket = s3Arn(region, artifactBucketName(ns));
      statements.push({
        Sid: 'LogDeliveryEncryptsFlowLogsForArtifactBucket',
        Effect: 'Allow',
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': regionalArn(ns, 'logs', '*') },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket, `${bucket}/${ARTIFACT_PREFIXES.vpcFlowLogs}*`] },
        },
      });
    }
    this.policyDocument = policyDocument(...statements);

    this.aliasName = kmsAliasName(ns);
    this.aliasArn = regionalArn(ns, 'kms', this.aliasName);
    this.key = new KmsKey(this, 'key', {
      description: `${envName(ns)}: artifacts, CloudTrail, CloudWatch Logs, databases and alarms`,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays,
      policy: policyJson(this.policyDocument),
      tags: { Name: envName(ns) },
    });
    this.alias = new KmsAlias(this, 'alias', { name: this.aliasName, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
    this.keyId = this.key.keyId;
  }
}
