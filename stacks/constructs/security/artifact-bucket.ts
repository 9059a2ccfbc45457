import { Construct } from 'constructs';
import { Statement, policyDocument, regionalArn, s3Arn } from '../../model/iam-policy';
import { artifactBucketName } from '../../model/naming';
import { SecureBucket } from '../storage/secure-bucket';
import { ARTIFACT_PREFIXES, ArtifactPrefix, deliveredLogKeys, flowLogKeys } from '../../model/artifact-layout';
import { NamingScope } from '../naming-scope';

export interface ArtifactBucketProps {   
  /** ARN of the environment's KMS key: SSE-KMS default encryption with bucket keys. */
  readonly kmsKeyArn: string;
  /** Literal ARN of the environment's trail: the only trail that may write its logs here. */
  readonly cloudTrailArn: string;
  /** Days before objects under `logs/` expire. */
  readonly logExpirationDays: number;
  /** Days before noncurrent object versions expire. */
  readonly noncurrentVersionExpirationDays: number;
  /** Let log delivery write VPC flow logs under `logs/vpc-flow/`. Default false. */
  readonly logDelivery?: boolean;
}

/**
 * The environment's artifact and log bucket `<project>-<env>-artifacts-<account>-<region>`: a
 * SecureBucket (SSE-KMS with the environment key, versioning, public access blocked, ACLs off,
 * TLS only) laid out as in layout.ts. Its policy lets CloudTrail (this trail only) and, optionally,
 * VPC flow-log delivery (this account and region only) write under their `logs/` prefixes. Log
 * objects expire; pipeline sources do not.
 */
export class ArtifactBucket extends Construct {
  readonly bucket: SecureBucket;
  /** Literal bucket name. */
  readonly name: string;
  /** Literal bucket ARN. */
  readonly arn: string;
  /** Literal ARN of the VPC flow-log destination (`.../logs/vpc-flow/`). */
  readonly flowLogDestinationArn: string;

  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    for (const [field, days] of [['logExpirationDays', props.logExpirationDays], ['noncurrentVersionExpirationDays', props.noncurrentVersionExpirationDays]] as const) {
      if (!Number.isInteger(days) || days < 1) throw new Error(`ArtifactBucket: ${field} must be a whole number of days >= 1, got ${days}`);
    }
    if (!props.cloudTrailArn.startsWith(regionalArn(ns, 'cloudtrail', 'trail/'))) {
      throw new Error(`ArtifactBucket: cloudTrailArn must be a trail of ${ns.account} in ${ns.region}, got ${JSON.stringify(props.cloudTrailArn)}`);
    }
    this.name = artifactBucketName(ns);
    // The same literal ARN SecureBucket computes; the policy statements need it first.
    this.arn = s3Arn(ns.region, this.name);
    this.flowLogDestinationArn = s3Arn(ns.region, this.name, ARTIFACT_PREFIXES.vpcFlowLogs);

    const trail = { 'aws:SourceArn': props.cloudTrailArn };
    // Flow-log delivery: no condition key names one flow log (delivery.logs.amazonaws.com sends a
    // CloudWatch Logs aws:SourceArn of the account and region, not the flow log's ARN, which exists
    // only after this policy anyway). So the writes are pinned to the key path a VPC flow log of THIS
    // account and region produces under logs/vpc-flow/ (AWSLogs/<account>/vpcflowlogs/<region>/),
    // besides the account and region conditions; see environment-key.ts for the key side.
    const delivery = {
      StringEquals: { 'aws:SourceAccount': ns.account },
      ArnLike: { 'aws:SourceArn': regionalArn(ns, 'logs', '*') },
    };
    // ACLs are off (BucketOwnerEnforced): the bucket owner owns every object, so AWS's sample
    // condition s3:x-amz-acl = bucket-owner-full-control would add nothing.
    const statements: Statement[] = [
      {
        Sid: 'CloudTrailChecksBucketAcl',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: this.arn,
        Condition: { StringEquals: trail },
      },
      {
        Sid: 'CloudTrailWritesThisTrailsLogs',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: s3Arn(ns.region, this.name, deliveredLogKeys(ARTIFACT_PREFIXES.cloudTrailLogs, ns.account)),
        Condition: { StringEquals: trail },
      },
    ];
    if (props.logDelivery) {
      statements.push(
        {
          Sid: 'LogDeliveryChecksBucket',
          Effect: 'Allow',
          Principal: { Service: 'delivery.logs.amazonaws.com' },
          Action: ['s3:GetBucketAcl', 's3:ListBucket'],
          Resource: this.arn,
          Condition: delivery,
        },
        {
          Sid: 'LogDeliveryWritesFlowLogs',
          Effect: 'Allow',
          Principal: { Service: 'delivery.logs.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: s3Arn(ns.region, this.name, flowLogKeys(ns.account, ns.region)),
          Condition: delivery,
        },
      );
    }
    policyDocument(...statements); // rejects duplicate Sids before anything is created

    this.bucket = new SecureBucket(this, 'bucket', {
      bucketName: this.name,
      region: ns.region,
      encryption: { kind: 'kms', kmsKeyArn: props.kmsKeyArn },
      expire: [{ id: 'expire-logs', prefix: ARTIFACT_PREFIXES.logs, days: props.logExpirationDays }],
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
      policyStatements: statements,
    });
  }

  /** Literal ARN of the objects under one of the layout's prefixes (`arn:...:<bucket>/<prefix>*`). */
  objectsArn(prefix: ArtifactPrefix): string {
    return `${this.arn}/${ARTIFACT_PREFIXES[prefix]}*`;
  }
}
