/**
 * What the software and the image pipelines of a customer build alike: inline role policies kept
 * for IAM simulation, the role their EventBridge rules start them with, and per routed branch one
 * QUEUED CodePipeline V2 with its exact-key source rule. Each takes the construct it creates
 * resources in, so the construct ids (and the plan addresses) are the pipelines' own.
 */
import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { Codepipeline, CodepipelineStage } from '@cdktf/provider-aws/lib/codepipeline';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { PolicyDocument, Statement, policyDocument, policyJson, regionalArn, serviceTrust } from '../../model/iam-policy';
import { APPROVAL_TIMEOUT_MINUTES, sourceKeyWrittenPattern } from '../../model/software-delivery';
import { EnvironmentExports } from '../environment-exports';
import { kmsViaService } from '../iam/grants';
import { NamingScope } from '../naming-scope';

/** Inline policies by role name, and by policy name: what the IAM simulation reads. */
export type RoleDocuments = Record<string, Record<string, PolicyDocument>>;

/**
 * A function that attaches inline policies to a role (construct id `policy-<name without the
 * customer's name prefix>`) and records them in `documents` under the role's name.
 */
export function inlinePolicies(scope: Construct, namePrefix: string, documents: RoleDocuments) {
  return (role: IamRole, roleName: string, docs: Record<string, PolicyDocument>): IamRolePolicy[] => {
    documents[roleName] = docs;
    return Object.entries(docs).map(([name, doc]) => new IamRolePolicy(scope, `policy-${name.slice(namePrefix.length + 1)}`, { name, role: role.id, policy: policyJson(doc) }));
  };
}

/** One routed branch of a customer's pipeline kind. */
export interface PipelineBranch {
  readonly branch: string;
  readonly pipeline: string;
  readonly sourceRule: string;
  readonly sourceKey: string;
  readonly artifactFolder: string;
}

/**
 * The role a customer's source rules start its pipelines with (construct id `start-role`): trusted
 * by EventBridge for exactly those rules, allowed only StartPipelineExecution on exactly those
 * pipelines.
 */
export function pipelineStartRole(
  scope: Construct,
  inline: ReturnType<typeof inlinePolicies>,
  o: { readonly roleName: string; readonly description: string; readonly sid: string; readonly branches: readonly PipelineBranch[]; readonly tags: Record<string, string> },
): { readonly role: IamRole; readonly policies: IamRolePolicy[] } {
  const ns = NamingScope.of(scope);
  const ruleArns = o.branches.map((b) => regionalArn(ns, 'events', `rule/${b.sourceRule}`));
  const role = new IamRole(scope, 'start-role', {
    name: o.roleName,
    description: o.description,
    assumeRolePolicy: policyJson(serviceTrust(['events.amazonaws.com'], { StringEquals: { 'aws:SourceAccount': ns.account }, ArnEquals: { 'aws:SourceArn': ruleArns } })),
    tags: o.tags,
  });
  const policies = inline(role, o.roleName, {
    [o.roleName]: policyDocument({
      Sid: o.sid,
      Effect: 'Allow',
      Action: 'codepipeline:StartPipelineExecution',
      Resource: o.branches.map((b) => regionalArn(ns, 'codepipeline', b.pipeline)),
    }),
  });
  return { role, policies };
}

/** A branch's pipeline with its source rule and the rule's target. */
export interface TriggeredPipeline {
  readonly branch: string;
  readonly sourceKey: string;
  readonly pipeline: Codepipeline;
  readonly name: string;
  /** Literal ARN of the pipeline. */
  readonly arn: string;
  readonly artifactFolder: string;
  readonly rule: CloudwatchEventRule;
  readonly target: CloudwatchEventTarget;
}

/**
 * The `i`-th branch's QUEUED CodePipeline V2 (artifacts in the environment bucket with its key) and
 * the rule that starts it when exactly its source key is written (construct ids `pipeline`,
 * `source-rule`, `source-target`, with `-<i>` after the first).
 */
export function triggeredPipeline(
  scope: Construct,
  i: number,
  o: {
    readonly branch: PipelineBranch;
    readonly stages: CodepipelineStage[];
    readonly environment: EnvironmentExports;
    readonly pipelineRole: IamRole;
    readonly pipelinePolicies: IamRolePolicy[];
    readonly start: { readonly role: IamRole; readonly policies: IamRolePolicy[] };
    readonly tags: Record<string, string>;
  },
): TriggeredPipeline {
  const ns = NamingScope.of(scope);
  const b = o.branch;
  const env = o.environment;
  const suffix = i === 0 ? '' : `-${i}`;
  const pipeline = new Codepipeline(scope, `pipeline${suffix}`, {
    name: b.pipeline,
    pipelineType: 'V2',
    executionMode: 'QUEUED',
    roleArn: o.pipelineRole.arn,
    artifactStore: [{ location: env.artifactBucketName, type: 'S3', encryptionKey: { id: env.kmsKeyArn, type: 'KMS' } }],
    stage: o.stages,
    tags: { ...o.tags, branch: b.branch },
    dependsOn: o.pipelinePolicies,
  });
  const rule = new CloudwatchEventRule(scope, `source-rule${suffix}`, {
    name: b.sourceRule,
    description: `s3://${env.artifactBucketName}/${b.sourceKey} was written (CloudTrail data event): starts ${b.pipeline}`,
    eventPattern: JSON.stringify(sourceKeyWrittenPattern(env.artifactBucketName, b.sourceKey)),
    tags: o.tags,
  });
  const target = new CloudwatchEventTarget(scope, `source-target${suffix}`, { rule: rule.name, arn: pipeline.arn, roleArn: o.start.role.arn, dependsOn: o.start.policies });
  return { branch: b.branch, sourceKey: b.sourceKey, pipeline, name: b.pipeline, arn: regionalArn(ns, 'codepipeline', b.pipeline), artifactFolder: b.artifactFolder, rule, target };
}

/**
 * The pipeline role's inline policies: `<role>` (literal ARNs) and `<role>-kms` (the key, known
 * only after apply). With approval notifications, both also let it publish to the alarm topic.
 */
export function pipelineRolePolicies(
  inline: ReturnType<typeof inlinePolicies>,
  o: { readonly role: IamRole; readonly roleName: string; readonly statements: readonly Statement[]; readonly kms: readonly Statement[]; readonly notify: boolean; readonly environment: EnvironmentExports },
): IamRolePolicy[] {
  const env = o.environment;
  const region = NamingScope.of(o.role).region;
  const statements = [...o.statements];
  const kms = [...o.kms];
  if (o.notify) {
    statements.push({ Sid: 'ApprovalRequestsToAlarmTopic', Effect: 'Allow', Action: 'sns:Publish', Resource: env.alarmTopicArn });
    kms.push(kmsViaService('AlarmTopicThroughSns', env.kmsKeyArn, ['kms:Decrypt', 'kms:GenerateDataKey'], 'sns', region));
  }
  return inline(o.role, o.roleName, { [o.roleName]: policyDocument(...statements), [`${o.roleName}-kms`]: policyDocument(...kms) });
}

/** The Source stage: the branch's zip in the artifact bucket, without polling (the rule starts the pipeline; with polling too, every push would run twice). */
export function s3SourceStage(o: { readonly actionName: string; readonly artifact: string; readonly sourceKey: string; readonly environment: EnvironmentExports; readonly namespace?: string }): CodepipelineStage {
  return {
    name: 'Source',
    action: [
      {
        name: o.actionName,
        category: 'Source',
        owner: 'AWS',
        provider: 'S3',
        version: '1',
        ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
        outputArtifacts: [o.artifact],
        configuration: { S3Bucket: o.environment.artifactBucketName, S3ObjectKey: o.sourceKey, PollForSourceChanges: 'false' },
      },
    ],
  };
}

/** The production Approve stage, notifying the alarm topic when asked. */
export function approvalStage(o: { readonly customData: string; readonly notify: boolean; readonly environment: EnvironmentExports }): CodepipelineStage {
  return {
    name: 'Approve',
    action: [
      {
        name: 'Approve',
        category: 'Approval',
        owner: 'AWS',
        provider: 'Manual',
        version: '1',
        timeoutInMinutes: APPROVAL_TIMEOUT_MINUTES,
        configuration: { CustomData: o.customData, ...(o.notify ? { NotificationArn: o.environment.alarmTopicArn } : {}) },
      },
    ],
  };
}
