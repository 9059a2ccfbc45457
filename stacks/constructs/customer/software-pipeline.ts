import { Construct } from 'constructs';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { CodedeployApp } from '@cdktf/provider-aws/lib/codedeploy-app';
import { CodedeployDeploymentConfig } from '@cdktf/provider-aws/lib/codedeploy-deployment-config';
import { CodedeployDeploymentGroup } from '@cdktf/provider-aws/lib/codedeploy-deployment-group';
import { CodepipelineStage } from '@cdktf/provider-aws/lib/codepipeline';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Token } from 'cdktf';
import { CUSTOMER_NAME } from '../../model/config/schema';
import { PolicyDocument, Statement, partitionOf, policyDocument, policyJson, regionalArn, s3Arn, serviceTrust } from '../../model/iam-policy';
import { bucketNameProblems, customerNames, customerPipelineNames } from '../../model/naming';
import { MinimumHealthyHosts, minimumHealthyHosts } from '../../model/software-delivery';
import { EnvironmentExports } from '../environment-exports';
import { kmsViaService } from '../iam/grants';
import { NamingScope } from '../naming-scope';
import { RoleDocuments, TriggeredPipeline, approvalStage, inlinePolicies, pipelineRolePolicies, pipelineStartRole, s3SourceStage, triggeredPipeline } from './pipeline-parts';

/** The events that roll a deployment back automatically (a rollback is a new deployment of the last good revision). */
export const AUTO_ROLLBACK_EVENTS = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] as const;
/** Name of the source artifact (CodePipeline keeps 10 characters of it in the artifact key). */
export const SOURCE_ARTIFACT = 'source';

export interface CustomerSoftwarePipelineProps {
  /** Customer name (2-20 characters of a-z, 0-9 and single "-"). */
  readonly customer: string;
  /** The branches of the customer's software repositories routed to this environment: one pipeline each (at least one). */
  readonly branches: readonly string[];
  /** Production: a manual approval stage before the deploy stage. */
  readonly production: boolean;
  /** What the environment gives its customers (artifact bucket, KMS key, alarm topic). */
  readonly environment: EnvironmentExports;
  /** The customer's auto scaling group (the web tier's), named as `customerNames().autoScalingGroup`. */
  readonly autoScalingGroup: AutoscalingGroup;
  /** The customer's minimum capacity: gives the deployment configuration's minimum healthy hosts. */
  readonly minCapacity: number;
  /** The customer's target group (the routing's), named as `customerNames().targetGroup`: traffic control. */
  readonly targetGroup: LbTargetGroup;
  /** The customer's alarms: any of them in ALARM stops the deployment and rolls it back. */
  readonly alarms: readonly CloudwatchMetricAlarm[];
  /** Send approval requests of production releases to the environment's alarm topic. @default true */
  readonly approvalNotification?: boolean;
}

/** One branch's pipeline and the rule that starts it. */
export type BranchPipeline = TriggeredPipeline;

/**
 * Push-to-deploy for one customer in one environment:
 *
 * - a CodeDeploy application, an in-place deployment configuration that keeps `min - 1` servers in
 *   service (see `minimumHealthyHosts`), and ONE deployment group on the customer's auto scaling
 *   group with traffic control through its target group, rolling back automatically on failure and
 *   on the customer's alarms. Blue/green is not offered: it copies the group outside Terraform
 *   (terraform-provider-aws #4678);
 * - per routed branch, a CodePipeline V2 (QUEUED) whose S3 source is exactly
 *   `software/<customer>/<branch>.zip` (polling off), with, in production, a manual approval, then
 *   the deploy; and an EventBridge rule matching the CloudTrail write of exactly that key, whose
 *   target is the pipeline;
 * - three roles of the customer's own: the pipelines' (its sources, its artifact folders, its
 *   deployment group), the deployment group's (its group's lifecycle hooks, its target group), and
 *   the rules' (starting its pipelines, nothing else).
 */
export class CustomerSoftwarePipeline extends Construct {
  readonly application: CodedeployApp;
  readonly deploymentConfig: CodedeployDeploymentConfig;
  readonly deploymentGroup: CodedeployDeploymentGroup;
  /** The deployment configuration's minimum healthy hosts. */
  readonly minimumHealthyHosts: MinimumHealthyHosts;
  readonly pipelineRole: IamRole;
  readonly codeDeployRole: IamRole;
  readonly startRole: IamRole;
  /** Inline policy documents as deployed, by role name then policy name (for IAM simulation). */
  readonly documents: Readonly<Record<string, Readonly<Record<string, PolicyDocument>>>>;
  readonly pipelines: readonly BranchPipeline[];

  constructor(scope: Construct, id: string, props: CustomerSoftwarePipelineProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    validate(props, ns);

    const { customer, environment: env } = props;
    const names = customerNames(ns, customer);
    const branches = props.branches.map((branch) => ({ branch, ...customerPipelineNames(ns, customer, branch) }));
    const applicationArn = regionalArn(ns, 'codedeploy', `application:${names.codeDeployApplication}`);
    const deploymentGroupArn = regionalArn(ns, 'codedeploy', `deploymentgroup:${names.codeDeployApplication}/${names.deploymentGroup}`);
    const deploymentConfigArn = regionalArn(ns, 'codedeploy', `deploymentconfig:${names.deploymentConfig}`);
    const asgArn = regionalArn(ns, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${names.autoScalingGroup}`);
    const targetGroupArns = regionalArn(ns, 'elasticloadbalancing', `targetgroup/${names.targetGroup}/*`);
    const notify = props.production && (props.approvalNotification ?? true);
    const account = { StringEquals: { 'aws:SourceAccount': ns.account } };
    const tags = { customer };
    const documents: RoleDocuments = {};
    const inline = inlinePolicies(this, names.base, documents);

    // --- CodeDeploy: application, configuration, the one deployment group -------------------------
    this.codeDeployRole = new IamRole(this, 'codedeploy-role', {
      name: names.codeDeployRole,
      description: `CodeDeploy of ${customer} in ${ns.project}-${ns.env}: its auto scaling group's lifecycle hooks and its target group only`,
      assumeRolePolicy: policyJson(serviceTrust(['codedeploy.amazonaws.com'], account)),
      tags,
    });
    // Instead of AWSCodeDeployRole, which may change every auto scaling group and load balancer of the
    // account (autoscaling:*LifecycleHook, elasticloadbalancing:*Register* on "*", blue/green's
    // CreateAutoScalingGroup and RunInstances): what an in-place deployment of one group needs.
    const codeDeployPolicies = inline(this.codeDeployRole, names.codeDeployRole, {
      [names.codeDeployRole]: policyDocument(
        {
          // Describe and list calls have no resource-level permissions: AWS requires "*".
          Sid: 'DescribeFleet',
          Effect: 'Allow',
          Action: [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeAutoScalingInstances',
            'autoscaling:DescribeLifecycleHooks',
            'ec2:DescribeInstances',
            'ec2:DescribeInstanceStatus',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
            'cloudwatch:DescribeAlarms',
            'tag:GetResources',
          ],
          Resource: '*',
        },
        {
          Sid: 'OwnAutoScalingGroupHooks',
          Effect: 'Allow',
          Action: [
            'autoscaling:PutLifecycleHook',
            'autoscaling:DeleteLifecycleHook',
            'autoscaling:CompleteLifecycleAction',
            'autoscaling:RecordLifecycleActionHeartbeat',
            'autoscaling:SuspendProcesses',
            'autoscaling:ResumeProcesses',
          ],
          Resource: asgArn,
        },
        {
          Sid: 'OwnTargetGroupTraffic',
          Effect: 'Allow',
          Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
          Resource: targetGroupArns,
        },
      ),
    });

    this.application = new CodedeployApp(this, 'application', { name: names.codeDeployApplication, computePlatform: 'Server', tags });
    this.minimumHealthyHosts = minimumHealthyHosts(props.minCapacity);
    this.deploymentConfig = new CodedeployDeploymentConfig(this, 'config', {
      deploymentConfigName: names.deploymentConfig,
      computePlatform: 'Server',
      minimumHealthyHosts: { type: this.minimumHealthyHosts.type, value: this.minimumHealthyHosts.value },
    });
    this.deploymentGroup = new CodedeployDeploymentGroup(this, 'group', {
      appName: this.application.name,
      deploymentGroupName: names.deploymentGroup,
      serviceRoleArn: this.codeDeployRole.arn,
      deploymentConfigName: this.deploymentConfig.deploymentConfigName,
      autoscalingGroups: [props.autoScalingGroup.name],
      // In place only: blue/green copies the auto scaling group outside Terraform (#4678).
      deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      loadBalancerInfo: { targetGroupInfo: [{ name: props.targetGroup.name }] },
      autoRollbackConfiguration: { enabled: true, events: [...AUTO_ROLLBACK_EVENTS] },
      alarmConfiguration: { enabled: true, alarms: props.alarms.map((a) => a.alarmName), ignorePollAlarmFailure: false },
      // Instances launched while a deployment runs get the new revision once it succeeds.
      outdatedInstancesStrategy: 'UPDATE',
      tags,
      // CodeDeploy installs its launch hook on the group with this role when the group is created.
      dependsOn: codeDeployPolicies,
    });

    // --- The pipelines' role -----------------------------------------------------------------------
    this.pipelineRole = new IamRole(this, 'pipeline-role', {
      name: names.pipelineRole,
      description: `Software pipelines of ${customer} in ${ns.project}-${ns.env}: its sources, its artifact folders, its deployment group`,
      assumeRolePolicy: policyJson(serviceTrust(['codepipeline.amazonaws.com'], account)),
      tags,
    });
    const bucket = env.artifactBucketArn;
    const pipelineStatements: Statement[] = [
      {
        Sid: 'ReadOwnSources',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: branches.map((b) => s3Arn(ns.region, env.artifactBucketName, b.sourceKey)),
      },
      {
        // The S3 source action checks that the bucket is versioned.
        Sid: 'SourceBucketMetadata',
        Effect: 'Allow',
        Action: ['s3:GetBucketVersioning', 's3:GetBucketLocation'],
        Resource: bucket,
      },
      {
        Sid: 'ReadWriteOwnArtifactFolders',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
        Resource: branches.map((b) => `${bucket}/${b.artifactFolder}*`),
      },
      {
        Sid: 'DeployToOwnGroup',
        Effect: 'Allow',
        Action: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment'],
        Resource: deploymentGroupArn,
      },
      {
        Sid: 'OwnApplicationRevisions',
        Effect: 'Allow',
        Action: ['codedeploy:GetApplication', 'codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'],
        Resource: applicationArn,
      },
      { Sid: 'OwnDeploymentConfig', Effect: 'Allow', Action: 'codedeploy:GetDeploymentConfig', Resource: deploymentConfigArn },
    ];
    const kmsStatements: Statement[] = [kmsViaService('ArtifactsThroughS3', env.kmsKeyArn, ['kms:Decrypt', 'kms:GenerateDataKey'], 's3', ns.region)];
    const pipelinePolicies = pipelineRolePolicies(inline, { role: this.pipelineRole, roleName: names.pipelineRole, statements: pipelineStatements, kms: kmsStatements, notify, environment: env });

    // --- The rules' role -------------------------------------------------------------------------
    const start = pipelineStartRole(this, inline, {
      roleName: names.pipelineStartRole,
      description: `EventBridge rules of ${customer} in ${ns.project}-${ns.env}: start its software pipelines, nothing else`,
      sid: 'StartOwnPipelines',
      branches,
      tags,
    });
    this.startRole = start.role;
    this.documents = documents;

    // --- One pipeline and one rule per routed branch --------------------------------------------
    this.pipelines = branches.map((b, i) => {
      const stages: CodepipelineStage[] = [s3SourceStage({ actionName: 'Release', artifact: SOURCE_ARTIFACT, sourceKey: b.sourceKey, environment: env })];
      if (props.production) {
        const customData = `Release of ${customer} from branch ${b.branch} to ${ns.env} (production): approve to deploy it in place on ${names.autoScalingGroup}`;
        stages.push(approvalStage({ customData, notify, environment: env }));
      }
      stages.push({
        name: 'Deploy',
        action: [
          {
            name: 'Deploy',
            category: 'Deploy',
            owner: 'AWS',
            provider: 'CodeDeploy',
            version: '1',
            inputArtifacts: [SOURCE_ARTIFACT],
            configuration: { ApplicationName: this.application.name, DeploymentGroupName: this.deploymentGroup.deploymentGroupName },
          },
        ],
      });
      return triggeredPipeline(this, i, { branch: b, stages, environment: env, pipelineRole: this.pipelineRole, pipelinePolicies, start, tags });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: every prop, before anything is created.
// ---------------------------------------------------------------------------------------------

type Scope = ReturnType<typeof NamingScope.of>;

function fail(prop: string, value: unknown, allowed: string): never {
  throw new Error(`CustomerSoftwarePipeline: ${prop} must be ${allowed}, got ${JSON.stringify(value)}`);
}

function validate(props: CustomerSoftwarePipelineProps, ns: Scope): void {
  if (typeof props.customer !== 'string' || !CUSTOMER_NAME.test(props.customer)) {
    fail('customer', props.customer, '2-20 characters of a-z, 0-9 and single "-", starting with a letter and ending with a letter or digit');
  }
  if (!Array.isArray(props.branches) || props.branches.length === 0) fail('branches', props.branches, 'at least one branch');
  props.branches.forEach((b, i) => {
    if (typeof b !== 'string' || b.length === 0 || b.length > 255 || /[\s~^:?*[\\]/.test(b) || b.startsWith('/') || b.endsWith('/') || b.includes('..')) {
      fail(`branches[${i}]`, b, 'a git branch name');
    }
  });
  if (new Set(props.branches).size !== props.branches.length) fail('branches', props.branches, 'distinct branches');
  if (typeof props.production !== 'boolean') fail('production', props.production, 'true or false');
  if (!Number.isInteger(props.minCapacity) || props.minCapacity < 1 || props.minCapacity > 100) fail('minCapacity', props.minCapacity, 'a whole number from 1 to 100');
  if (props.production && props.minCapacity < 2) fail('minCapacity', props.minCapacity, 'at least 2 in production (one server stays in service while another is updated)');

  const names = customerNames(ns, props.customer);
  const asgName = props.autoScalingGroup?.nameInput;
  if (asgName !== names.autoScalingGroup) fail('autoScalingGroup', asgName, `the customer's auto scaling group ${names.autoScalingGroup}`);
  const tgName = props.targetGroup?.nameInput;
  if (tgName !== names.targetGroup) fail('targetGroup', tgName, `the customer's target group ${names.targetGroup}`);
  if (!Array.isArray(props.alarms) || props.alarms.length === 0) fail('alarms', props.alarms, 'at least one alarm (they stop and roll back a bad release)');
  if (props.alarms.length > 10) fail('alarms', props.alarms.length, 'at most 10 alarms (CodeDeploy\'s limit per deployment group)');

  const e = props.environment;
  if (typeof e?.artifactBucketName !== 'string' || Token.isUnresolved(e.artifactBucketName) || bucketNameProblems(e.artifactBucketName).length > 0) {
    fail('environment.artifactBucketName', e?.artifactBucketName, 'a literal, valid S3 bucket name (the source action and the roles name it)');
  }
  if (e.artifactBucketArn !== s3Arn(ns.region, e.artifactBucketName)) {
    fail('environment.artifactBucketArn', e.artifactBucketArn, `the literal ARN of environment.artifactBucketName (${s3Arn(ns.region, e.artifactBucketName)})`);
  }
  const p = partitionOf(ns.region);
  if (!Token.isUnresolved(e.kmsKeyArn) && !new RegExp(`^arn:${p}:kms:${ns.region}:${ns.account}:key/`).test(e.kmsKeyArn)) {
    fail('environment.kmsKeyArn', e.kmsKeyArn, `a KMS key ARN of ${ns.account} in ${ns.region}`);
  }
  if (!Token.isUnresolved(e.alarmTopicArn) && !e.alarmTopicArn.startsWith(`arn:${p}:sns:${ns.region}:${ns.account}:`)) {
    fail('environment.alarmTopicArn', e.alarmTopicArn, `an SNS topic ARN of ${ns.account} in ${ns.region}`);
  }
}
