import { Construct } from 'constructs';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import {
  ArnScope,
  PolicyDocument,
  Statement,
  allOf,
  envRequestTags,
  envResourceTags,
  envRetagging,
  iamArn,
  partitionOf,
  policyDocument,
  policyJson,
  regionalArn,
  serviceTrust,
} from '../../model/iam-policy';
import { envName, logGroupNames, roleNames } from '../../model/naming';
import { ARTIFACT_PREFIXES } from '../../model/artifact-layout';
import { ObjectAccess, kmsActionsFor, kmsViaService, logGroupWrite, s3ListPrefix, s3ObjectAccess } from '../iam/grants';
import { NamingScope } from '../naming-scope';

/** The four roles, by purpose (keys of naming.ts roleNames). */
export const PIPELINE_ROLE_KEYS = ['infrastructurePipeline', 'webServerInstance', 'softwarePipeline', 'ec2ResourceDeploy'] as const;
export type PipelineRoleKey = (typeof PIPELINE_ROLE_KEYS)[number];

/** AWS managed policies of the web-server instance role. */
export const WEB_SERVER_MANAGED_POLICIES = ['AmazonSSMManagedInstanceCore', 'CloudWatchAgentServerPolicy'] as const;

export interface PipelineRolesProps {   
  /** Literal ARN of the artifact bucket. */
  readonly bucketArn: string;
  /** ARN of the environment's KMS key (the bucket's SSE-KMS key). */
  readonly kmsKeyArn: string;
}

/**
 * The four IAM roles of an environment's delivery, each least privilege:
 *
 * 1. `infrastructurePipeline` (CodePipeline, CodeBuild): its artifacts under `infrastructure/`,
 *    its log group, its CodeBuild projects, and assuming the deploy role (4);
 * 2. `webServerInstance` (EC2, with an instance profile): SSM Session Manager, the CloudWatch agent,
 *    reading `software/`, decrypting only through S3;
 * 3. `softwarePipeline` (CodePipeline, CodeDeploy): its artifacts under `software/` and CodeDeploy on
 *    this environment's applications (`<project>-<env>-*`);
 * 4. `ec2ResourceDeploy` (assumed by role 1 only): auto scaling groups, launch templates, security
 *    groups, target groups and rules of this environment's ALB, all tied to the environment's
 *    `project`/`environment` tags, and passing role 2 to EC2 only.
 *
 * Each role has an inline policy named like the role with literal ARNs only, and, where it needs the
 * KMS key, a second one `<role>-kms` (the key ARN is known only after apply; keeping it apart keeps
 * the main policy readable in plans).
 */
export class PipelineRoles extends Construct {
  readonly infrastructurePipeline: IamRole;
  readonly webServerInstance: IamRole;
  readonly webServerInstanceProfile: IamInstanceProfile;
  readonly softwarePipeline: IamRole;
  readonly ec2ResourceDeploy: IamRole;
  /** Literal role names by purpose. */
  readonly names: Readonly<Record<PipelineRoleKey, string>>;
  /** Literal role ARNs by purpose. */
  readonly arns: Readonly<Record<PipelineRoleKey, string>>;
  /** Literal instance profile name (the same as the web-server role's). */
  readonly instanceProfileName: string;
  /** The inline policy documents of each role, as deployed. */
  readonly documents: Readonly<Record<PipelineRoleKey, readonly PolicyDocument[]>>;

  constructor(scope: Construct, id: string, props: PipelineRolesProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const { account, region } = ns;
    if (!new RegExp(`^arn:${partitionOf(region)}:s3:::[a-z0-9][a-z0-9.-]+$`).test(props.bucketArn)) {
      throw new Error(`PipelineRoles: bucketArn must be the literal ARN of a bucket (arn:${partitionOf(region)}:s3:::<name>), got ${JSON.stringify(props.bucketArn)}`);
    }
    const names = roleNames(ns);
    this.names = Object.fromEntries(PIPELINE_ROLE_KEYS.map((k) => [k, names[k]])) as Record<PipelineRoleKey, string>;
    this.arns = Object.fromEntries(PIPELINE_ROLE_KEYS.map((k) => [k, iamArn(ns, `role/${names[k]}`)])) as Record<PipelineRoleKey, string>;
    this.instanceProfileName = names.webServerInstance;
    const documents = {} as Record<PipelineRoleKey, PolicyDocument[]>;
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': account } };

    // 1. Infrastructure pipeline.
    this.infrastructurePipeline = new IamRole(this, 'infrastructure-pipeline', {
      name: names.infrastructurePipeline,
      description: `Infrastructure pipeline of ${envName(ns)}: its artifacts, its logs, and the EC2-resource deploy role`,
      assumeRolePolicy: policyJson(serviceTrust(['codepipeline.amazonaws.com', 'codebuild.amazonaws.com'], fromThisAccount)),
    });
    documents.infrastructurePipeline = this.inline('infrastructure-pipeline', this.infrastructurePipeline, names.infrastructurePipeline, props, 'read-write', [
      ...artifactStatements('Infrastructure', props.bucketArn, ARTIFACT_PREFIXES.infrastructure, 'read-write'),
      logGroupWrite('WriteOwnLogGroup', ns, logGroupNames(ns).infrastructurePipeline),
      {
        Sid: 'RunOwnBuilds',
        Effect: 'Allow',
        Action: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:StopBuild'],
        Resource: regionalArn(ns, 'codebuild', `project/${names.infrastructurePipeline}*`),
      },
      { Sid: 'AssumeEc2ResourceDeployRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: this.arns.ec2ResourceDeploy },
    ]);

    // 2. Web-server instances.
    this.webServerInstance = new IamRole(this, 'web-server-instance', {
      name: names.webServerInstance,
      description: `Web servers of ${envName(ns)}: Session Manager, CloudWatch agent, reading software/`,
      assumeRolePolicy: policyJson(serviceTrust(['ec2.amazonaws.com'])),
    });
    for (const managed of WEB_SERVER_MANAGED_POLICIES) {
      new IamRolePolicyAttachment(this, `web-server-instance-${managed}`, {
        role: this.webServerInstance.name,
        policyArn: `arn:${partitionOf(region)}:iam::aws:policy/${managed}`,
      });
    }
    documents.webServerInstance = this.inline('web-server-instance', this.webServerInstance, names.webServerInstance, props, 'read', [
      s3ObjectAccess('ReadSoftwareArtifacts', props.bucketArn, ARTIFACT_PREFIXES.software, 'read'),
    ]);
    this.webServerInstanceProfile = new IamInstanceProfile(this, 'web-server-instance-profile', {
      name: this.instanceProfileName,
      role: this.webServerInstance.name,
    });

    // 3. Software pipeline.
    this.softwarePipeline = new IamRole(this, 'software-pipeline', {
      name: names.softwarePipeline,
      description: `Software pipeline of ${envName(ns)}: its artifacts and CodeDeploy on ${envName(ns)}-* applications`,
      assumeRolePolicy: policyJson(serviceTrust(['codepipeline.amazonaws.com', 'codedeploy.amazonaws.com'], fromThisAccount)),
    });
    const codedeploy = (resource: string) => regionalArn(ns, 'codedeploy', resource);
    const own = `${envName(ns)}-*`;
    documents.softwarePipeline = this.inline('software-pipeline', this.softwarePipeline, names.softwarePipeline, props, 'read-write', [
      ...artifactStatements('Software', props.bucketArn, ARTIFACT_PREFIXES.software, 'read-write'),
      {
        Sid: 'RegisterRevisionsOfOwnApplications',
        Effect: 'Allow',
        Action: ['codedeploy:GetApplication', 'codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'],
        Resource: codedeploy(`application:${own}`),
      },
      {
        Sid: 'DeployToOwnDeploymentGroups',
        Effect: 'Allow',
        Action: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment'],
        Resource: codedeploy(`deploymentgroup:${own}/*`),
      },
      {
        // Own deployment configs, plus AWS's read-only built-in ones (CodeDeployDefault.OneAtATime, ...).
        Sid: 'ReadDeploymentConfigs',
        Effect: 'Allow',
        Action: 'codedeploy:GetDeploymentConfig',
        Resource: [codedeploy(`deploymentconfig:${own}`), codedeploy('deploymentconfig:CodeDeployDefault.*')],
      },
    ]);

    // 4. EC2-resource deploy role: only role 1 may assume it (IAM checks that principal exists).
    this.ec2ResourceDeploy = new IamRole(this, 'ec2-resource-deploy', {
      name: names.ec2ResourceDeploy,
      description: `Creates and changes EC2 resources of ${envName(ns)} for the infrastructure pipeline, by environment tags`,
      assumeRolePolicy: policyJson(
        policyDocument({ Sid: 'InfrastructurePipelineOnly', Effect: 'Allow', Principal: { AWS: this.arns.infrastructurePipeline }, Action: 'sts:AssumeRole' }),
      ),
      dependsOn: [this.infrastructurePipeline],
    });
    documents.ec2ResourceDeploy = this.inline('ec2-resource-deploy', this.ec2ResourceDeploy, names.ec2ResourceDeploy, props, undefined, deployStatements(ns, this.arns.webServerInstance));
    this.documents = documents;
  }

  /** The role's inline policies: `<role>` (literal ARNs) and, with object access, `<role>-kms`. */
  private inline(id: string, role: IamRole, name: string, props: PipelineRolesProps, kmsFor: ObjectAccess | undefined, statements: Statement[]): PolicyDocument[] {
    const main = policyDocument(...statements);
    new IamRolePolicy(this, `${id}-policy`, { name, role: role.id, policy: policyJson(main) });
    if (kmsFor === undefined) return [main];
    const kms = policyDocument(kmsViaService('UseKeyOnlyThroughS3', props.kmsKeyArn, kmsActionsFor(kmsFor), 's3', NamingScope.of(this).region));
    new IamRolePolicy(this, `${id}-kms-policy`, { name: `${name}-kms`, role: role.id, policy: policyJson(kms) });
    return [main, kms];
  }
}

/** Objects under one prefix, listing that prefix, and the bucket facts CodePipeline checks. */
function artifactStatements(what: string, bucketArn: string, prefix: string, access: ObjectAccess): Statement[] {
  return [
    s3ObjectAccess(`ReadWrite${what}Artifacts`, bucketArn, prefix, access),
    s3ListPrefix(`List${what}Prefix`, bucketArn, prefix),
    { Sid: 'ReadBucketVersioningAndLocation', Effect: 'Allow', Action: ['s3:GetBucketVersioning', 's3:GetBucketLocation'], Resource: bucketArn },
  ];
}

/** The deploy role's statements: everything tied to the environment's tags (or its ALB's name). */
function deployStatements(p: ArnScope & { readonly project: string; readonly env: string }, webServerRoleArn: string): Statement[] {
  const ec2 = (resource: string) => regionalArn(p, 'ec2', resource);
  const elb = (resource: string) => regionalArn(p, 'elasticloadbalancing', resource);
  const alb = envName(p);
  const ownAsg = regionalArn(p, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${envName(p)}-*`);
  const ownListeners = elb(`listener/app/${alb}/*`);
  const ownListenerRules = elb(`listener-rule/app/${alb}/*`);
  const created = envRequestTags(p.project, p.env);
  const owned = envResourceTags(p.project, p.env);
  const retag = envRetagging(p.project, p.env);
  const sgRuleActions = [
    'ec2:AuthorizeSecurityGroupIngress',
    'ec2:AuthorizeSecurityGroupEgress',
    'ec2:RevokeSecurityGroupIngress',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:ModifySecurityGroupRules',
    'ec2:UpdateSecurityGroupRuleDescriptionsIngress',
    'ec2:UpdateSecurityGroupRuleDescriptionsEgress',
  ];
  return [
    {
      // Describe calls support no resource-level permissions: AWS requires "*". Read-only.
      Sid: 'DescribeEc2AutoScalingAndLoadBalancing',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeAccountAttributes',
        'ec2:DescribeAvailabilityZones',
        'ec2:DescribeImages',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeInstances',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:DescribeLaunchTemplates',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroupRules',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeTags',
        'ec2:DescribeVpcs',
        'autoscaling:Describe*',
        'elasticloadbalancing:Describe*',
      ],
      Resource: '*',
    },
    // Auto scaling groups: named <project>-<env>-* and tagged on create; changed only when tagged.
    { Sid: 'CreateTaggedAutoScalingGroups', Effect: 'Allow', Action: ['autoscaling:CreateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags'], Resource: ownAsg, Condition: created },
    {
      Sid: 'ManageOwnAutoScalingGroups',
      Effect: 'Allow',
      Action: [
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:DeleteAutoScalingGroup',
        'autoscaling:SetDesiredCapacity',
        'autoscaling:StartInstanceRefresh',
        'autoscaling:CancelInstanceRefresh',
        'autoscaling:RollbackInstanceRefresh',
        'autoscaling:AttachLoadBalancerTargetGroups',
        'autoscaling:DetachLoadBalancerTargetGroups',
        'autoscaling:AttachTrafficSources',
        'autoscaling:DetachTrafficSources',
        'autoscaling:PutLifecycleHook',
        'autoscaling:DeleteLifecycleHook',
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:PutScalingPolicy',
        'autoscaling:DeletePolicy',
        'autoscaling:SuspendProcesses',
        'autoscaling:ResumeProcesses',
        'autoscaling:EnableMetricsCollection',
        'autoscaling:DisableMetricsCollection',
        'autoscaling:PutWarmPool',
        'autoscaling:DeleteWarmPool',
        'autoscaling:SetInstanceProtection',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
      ],
      Resource: ownAsg,
      Condition: owned,
    },
    { Sid: 'RetagOwnAutoScalingGroups', Effect: 'Allow', Action: ['autoscaling:CreateOrUpdateTags', 'autoscaling:DeleteTags'], Resource: ownAsg, Condition: retag },
    // Launch templates.
    { Sid: 'CreateTaggedLaunchTemplates', Effect: 'Allow', Action: 'ec2:CreateLaunchTemplate', Resource: ec2('launch-template/*'), Condition: created },
    {
      Sid: 'ManageOwnLaunchTemplates',
      Effect: 'Allow',
      Action: ['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate', 'ec2:DeleteLaunchTemplate', 'ec2:DeleteLaunchTemplateVersions'],
      Resource: ec2('launch-template/*'),
      Condition: owned,
    },
    // Security groups: created tagged, in the environment's (tagged) VPC; rules only on own groups.
    { Sid: 'CreateTaggedSecurityGroups', Effect: 'Allow', Action: 'ec2:CreateSecurityGroup', Resource: ec2('security-group/*'), Condition: created },
    { Sid: 'CreateSecurityGroupsInOwnVpc', Effect: 'Allow', Action: 'ec2:CreateSecurityGroup', Resource: ec2('vpc/*'), Condition: owned },
    { Sid: 'ManageOwnSecurityGroups', Effect: 'Allow', Action: [...sgRuleActions, 'ec2:DeleteSecurityGroup'], Resource: ec2('security-group/*'), Condition: owned },
    {
      // A rule is authorized together with its group, which must be the environment's (above);
      // new rules carry no tags yet to condition on.
      Sid: 'RulesOfOwnSecurityGroups',
      Effect: 'Allow',
      Action: sgRuleActions,
      Resource: ec2('security-group-rule/*'),
    },
    // Instances, launched by auto scaling with the caller's permissions checked.
    { Sid: 'LaunchTaggedInstances', Effect: 'Allow', Action: 'ec2:RunInstances', Resource: ec2('instance/*'), Condition: created },
    {
      Sid: 'LaunchFromOwnTemplatesGroupsAndSubnets',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: [ec2('launch-template/*'), ec2('security-group/*'), ec2('subnet/*')],
      Condition: owned,
    },
    {
      // Created by the launch itself (no tags to condition on yet); images are AWS's or shared.
      Sid: 'LaunchWithNewVolumesAndInterfaces',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: [ec2('volume/*'), ec2('network-interface/*'), regionalArn({ region: p.region, account: '' }, 'ec2', 'image/*')],
    },
    {
      // Tags written by the create calls above (whose own conditions require the environment tags);
      // ec2:CreateAction limits this to tagging on create, never an existing resource.
      Sid: 'TagOnCreate',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: ec2('*/*'),
      Condition: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateLaunchTemplate', 'CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress'] } },
    },
    { Sid: 'RetagOwnEc2Resources', Effect: 'Allow', Action: ['ec2:CreateTags', 'ec2:DeleteTags'], Resource: [ec2('launch-template/*'), ec2('security-group/*'), ec2('instance/*')], Condition: retag },
    {
      Sid: 'PassWebServerRoleToEc2Only',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: webServerRoleArn,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    },
    // Target groups and the rules of this environment's ALB (<project>-<env>).
    { Sid: 'CreateTaggedTargetGroups', Effect: 'Allow', Action: 'elasticloadbalancing:CreateTargetGroup', Resource: elb('targetgroup/*'), Condition: created },
    {
      Sid: 'ManageOwnTargetGroups',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
      ],
      Resource: elb('targetgroup/*'),
      Condition: owned,
    },
    { Sid: 'CreateTaggedRulesOnOwnAlb', Effect: 'Allow', Action: 'elasticloadbalancing:CreateRule', Resource: ownListeners, Condition: created },
    { Sid: 'ManageOwnRulesOnOwnAlb', Effect: 'Allow', Action: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule'], Resource: ownListenerRules, Condition: owned },
    {
      // SetRulePriorities has no tag condition keys: scoped by the ALB's name only.
      Sid: 'ReorderRulesOnOwnAlb',
      Effect: 'Allow',
      Action: 'elasticloadbalancing:SetRulePriorities',
      Resource: ownListenerRules,
    },
    {
      Sid: 'TagLoadBalancingOnCreate',
      Effect: 'Allow',
      Action: 'elasticloadbalancing:AddTags',
      Resource: [elb('targetgroup/*'), ownListenerRules],
      Condition: allOf({ StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateRule'] } }, created),
    },
    {
      Sid: 'RetagOwnLoadBalancing',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      Resource: [elb('targetgroup/*'), ownListenerRules],
      Condition: retag,
    },
  ];
}
