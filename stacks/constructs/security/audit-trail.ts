import { Construct } from 'constructs';
import { Cloudtrail } from '@cdktf/provider-aws/lib/cloudtrail';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LOG_RETENTION_DAYS, REPOSITORY_KINDS, RepositoryKind } from '../../model/config/schema';
import { iamArn, policyDocument, policyJson, regionalArn, serviceTrust } from '../../model/iam-policy';
import { logGroupNames, roleNames, sourceRuleNames, trailName } from '../../model/naming';
import { SecureBucket } from '../storage/secure-bucket';
import { CLOUDTRAIL_S3_KEY_PREFIX, sourcePrefix } from '../../model/artifact-layout';
import { NamingScope } from '../naming-scope';

/** S3 calls that leave a new object under a key. */
export const OBJECT_WRITE_EVENTS = ['PutObject', 'CompleteMultipartUpload', 'CopyObject'] as const;

/** EventBridge pattern of the CloudTrail events for objects written under one prefix of one bucket. */
export interface ObjectWrittenPattern {
  readonly source: readonly ['aws.s3'];
  readonly 'detail-type': readonly ['AWS API Call via CloudTrail'];
  readonly detail: {
    readonly eventSource: readonly ['s3.amazonaws.com'];
    readonly eventName: readonly string[];
    readonly requestParameters: {
      readonly bucketName: readonly [string];
      readonly key: readonly [{ readonly prefix: string }];
    };
  };
}

export function objectWrittenPattern(bucketName: string, prefix: string): ObjectWrittenPattern {
  return {
    source: ['aws.s3'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['s3.amazonaws.com'],
      eventName: OBJECT_WRITE_EVENTS,
      requestParameters: { bucketName: [bucketName], key: [{ prefix }] },
    },
  };
}

/** An EventBridge rule that fires when a pipeline source is written; pipelines attach targets. */
export interface SourceRule {
  readonly rule: CloudwatchEventRule;
  /** Literal rule name (on the default event bus). */
  readonly name: string;
  /** Literal rule ARN. */
  readonly arn: string;
  /** The prefix whose writes it matches. */
  readonly prefix: string;
}

export interface AuditTrailProps {   
  /** The artifact bucket: log files go under logs/cloudtrail/; writes of its source prefixes are the data events. */
  readonly bucket: SecureBucket;
  /** ARN of the environment's KMS key: log files and the log group are encrypted with it. */
  readonly kmsKeyArn: string;
  /** Retention of the trail's CloudWatch log group, one of CloudWatch's allowed values. */
  readonly logRetentionDays: number;
}

/**
 * The environment's CloudTrail trail and what hangs off it:
 *
 * - a single-region trail with log file validation, SSE-KMS with the environment key, log files
 *   under `logs/cloudtrail/` of the artifact bucket;
 * - data events: only writes of objects under `software/` and `infrastructure/` (advanced event
 *   selectors); no read events, no management events (see README, Security);
 * - a KMS-encrypted log group `/<project>/<env>/cloudtrail` and the role CloudTrail writes to it
 *   with (its streams only);
 * - one EventBridge rule per source prefix that matches those writes: the pipelines' triggers.
 */
export class AuditTrail extends Construct {
  readonly trail: Cloudtrail;
  /** Literal trail name. */
  readonly trailName: string;
  /** Literal trail ARN. */
  readonly trailArn: string;
  readonly logGroup: CloudwatchLogGroup;
  /** Literal log group name, `/<project>/<env>/cloudtrail`. */
  readonly logGroupName: string;
  /** Literal log group ARN. */
  readonly logGroupArn: string;
  /** The role CloudTrail assumes to write to the log group. */
  readonly logsRole: IamRole;
  /** The EventBridge rules by repository kind. */
  readonly sourceRules: Readonly<Record<RepositoryKind, SourceRule>>;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(props.logRetentionDays)) {
      throw new Error(`AuditTrail: logRetentionDays must be one of CloudWatch's retention periods (${LOG_RETENTION_DAYS.join(', ')}), got ${props.logRetentionDays}`);
    }
    const { account, region } = ns;
    this.trailName = trailName(ns);
    this.trailArn = AuditTrail.trailArnOf(ns);
    this.logGroupName = logGroupNames(ns).cloudTrail;
    this.logGroupArn = regionalArn(ns, 'logs', `log-group:${this.logGroupName}`);

    this.logGroup = new CloudwatchLogGroup(this, 'log-group', {
      name: this.logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    const roleName = roleNames(ns).cloudTrailLogs;
    this.logsRole = new IamRole(this, 'logs-role', {
      name: roleName,
      description: `CloudTrail writes the ${this.trailName} events to ${this.logGroupName}`,
      // No aws:SourceArn/aws:SourceAccount here: CloudTrail does not send them when it assumes
      // its CloudWatch Logs role (AWS CloudTrail User Guide, role policy for CloudWatch Logs).
      assumeRolePolicy: policyJson(serviceTrust(['cloudtrail.amazonaws.com'])),
    });
    const logsPolicy = new IamRolePolicy(this, 'logs-policy', {
      name: roleName,
      role: this.logsRole.id,
      policy: policyJson(
        policyDocument({
          // CloudTrail names its stream <account>_CloudTrail_<region>.
          Sid: 'WriteOwnTrailStream',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: `${this.logGroupArn}:log-stream:${account}_CloudTrail_${region}*`,
        }),
      ),
    });

    const bucketArn = props.bucket.arn;
    this.trail = new Cloudtrail(this, 'trail', {
      name: this.trailName,
      s3BucketName: props.bucket.name,
      s3KeyPrefix: CLOUDTRAIL_S3_KEY_PREFIX,
      isMultiRegionTrail: false,
      enableLogFileValidation: true,
      kmsKeyId: props.kmsKeyArn,
      cloudWatchLogsGroupArn: `${this.logGroupArn}:*`,
      cloudWatchLogsRoleArn: iamArn(ns, `role/${roleName}`),
      advancedEventSelector: [
        {
          name: 'Writes of pipeline sources',
          fieldSelector: [
            { field: 'eventCategory', equalTo: ['Data'] },
            { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
            { field: 'readOnly', equalTo: ['false'] },
            { field: 'resources.ARN', startsWith: REPOSITORY_KINDS.map((k) => `${bucketArn}/${sourcePrefix(k)}`) },
          ],
        },
      ],
      // CloudTrail validates bucket policy, key policy, log group and role when it creates the trail.
      dependsOn: [props.bucket.policy, this.logGroup, logsPolicy],
      tags: { Name: this.trailName },
    });

    const ruleNames = sourceRuleNames(ns);
    const rules = {} as Record<RepositoryKind, SourceRule>;
    for (const kind of REPOSITORY_KINDS) {
      const prefix = sourcePrefix(kind);
      const name = ruleNames[kind];
      const rule = new CloudwatchEventRule(this, `${kind}-source-written`, {
        name,
        description: `A ${kind} source was written under s3://${props.bucket.name}/${prefix} (CloudTrail data event): triggers the ${kind} pipeline`,
        eventPattern: JSON.stringify(objectWrittenPattern(props.bucket.name, prefix)),
      });
      rules[kind] = { rule, name, arn: regionalArn(ns, 'events', `rule/${name}`), prefix };
    }
    this.sourceRules = rules;
  }

  /** Literal ARN of an environment's trail (the key and bucket policies need it before the trail exists). */
  static trailArnOf(p: { readonly project: string; readonly env: string; readonly account: string; readonly region: string }): string {
    return regionalArn(p, 'cloudtrail', `trail/${trailName(p)}`);
  }
}
