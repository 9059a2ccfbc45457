import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import {
  ArnScope,
  PolicyDocument,
  Statement,
  allOf,
  customerRequestTags,
  customerResourceTags,
  customerRetagging,
  envResourceTags,
  iamArn,
  partitionOf,
  policyDocument,
  policyJson,
  regionalArn,
  serviceTrust,
} from '../../model/iam-policy';
import { Token } from 'cdktf';
import { customerInstanceRolePattern, envName, logGroupNames, roleNames } from '../../model/naming';
import { ARTIFACT_PREFIXES } from '../../model/artifact-layout';
import { ObjectAccess, kmsActionsFor, kmsViaService, logGroupWrite, s3ListPrefix, s3ObjectAccess } from '../iam/grants';
import { NamingScope } from '../naming-scope';

/** The three roles, by purpose (keys of naming.ts roleNames). */
export const PIPELINE_ROLE_KEYS = ['infrastructurePipeline', 'ec2ResourceDeploy'] as const;
export type PipelineRoleKey = (typeof PIPELINE_ROLE_KEYS)[number];

export interface PipelineRolesProps {   
  /** Literal ARN of the artifact bucket. */
  readonly bucketArn: string;
  /** ARN of the environment's KMS key (the bucket's SSE-KMS key). */
  readonly kmsKeyArn: string;
  /**
   * ARN of the ALB's HTTPS listener (known after apply): the only listener the deploy role may add
   * rules to. The port-80 listener only redirects and stays the platform's.
   */
  readonly httpsListenerArn: string;
}

/**
 * The two environment-wide IAM roles of delivery, each least privilege:
 *
 * 1. `infrastructurePipeline` (CodePipeline, CodeBuild): its artifacts under `infrastructure/`,
 *    its log group, its CodeBuild projects, and assuming the deploy role (2);
 * 2. `ec2ResourceDeploy` (assumed by role 1 only): auto scaling groups, launch templates, security
 *    groups, instances, target groups and listener rules of CUSTOMERS only: every resource it
 *    creates or changes must carry the environment's `project`/`environment` tags and a `customer`
 *    tag (which no platform resource has); rules only on the HTTPS listener; instances only into the
 *    natted subnets; and it passes only customer instance roles (`<project>-<env>-*-web`) to EC2.
 *
 * Software releases have no environment-wide role: each customer's software pipeline has its own
 * pipeline, CodeDeploy and start roles (`customer/software-pipeline.ts`).
 * Web servers have no environment-wide role: each customer's web tier has its own instance role
 * (`customerNames().instanceRole`, built by the customer stacks).
 *
 * Each role has an inline policy named like the role with literal ARNs only, and, where it needs a
 * value known only after apply, a second one: `<role>-kms` (the key ARN) or `<role>-listener` (the
 * HTTPS listener ARN); kept apart, the main policy stays readable in plans.
 */
export class PipelineRoles extends Construct {
  readonly infrastructurePipeline: IamRole;
  readonly ec2ResourceDeploy: IamRole;
  /** Literal role names by purpose. */
  readonly names: Readonly<Record<PipelineRoleKey, string>>;
  /** Literal role ARNs by purpose. */
  readonly arns: Readonly<Record<PipelineRoleKey, string>>;
  /** The inline policy documents of each role, as deployed. */
  readonly documents: Readonly<Record<PipelineRoleKey, readonly PolicyDocument[]>>;

  constructor(scope: Construct, id: string, props: PipelineRolesProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const { account, region } = ns;
    if (!new RegExp(`^arn:${partitionOf(region)}:s3:::[a-z0-9][a-z0-9.-]+$`).test(props.bucketArn)) {
      throw new Error(`PipelineRoles: bucketArn must be the literal ARN of a bucket (arn:${partitionOf(region)}:s3:::<name>), got ${JSON.stringify(props.bucketArn)}`);
    }
    const listenerPrefix = regionalArn(ns, 'elasticloadbalancing', `listener/app/${envName(ns)}/`);
    if (!Token.isUnresolved(props.httpsListenerArn) && !(props.httpsListenerArn.startsWith(listenerPrefix) && /^[^*?]+$/.test(props.httpsListenerArn))) {
      throw new Error(`PipelineRoles: httpsListenerArn must be the HTTPS listener of this environment's ALB (its ARN attribute, or a literal ${listenerPrefix}<id>/<id>), got ${JSON.stringify(props.httpsListenerArn)}`);
    }
    const names = roleNames(ns);
    this.names = Object.fromEntries(PIPELINE_ROLE_KEYS.map((k) => [k, names[k]])) as Record<PipelineRoleKey, string>;
    this.arns = Object.fromEntries(PIPELINE_ROLE_KEYS.map((k) => [k, iamArn(ns, `role/${names[k]}`)])) as Record<PipelineRoleKey, string>;
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

    // 2. EC2-resource deploy role: only role 1 may assume it (IAM checks that principal exists).
    this.ec2ResourceDeploy = new IamRole(this, 'ec2-resource-deploy', {
      name: names.ec2ResourceDeploy,
      description: `Creates and changes customer EC2 and load-balancing resources of ${envName(ns)} for the infrastructure pipeline, by customer tags`,
      assumeRolePolicy: policyJson(
        policyDocument({ Sid: 'InfrastructurePipelineOnly', Effect: 'Allow', Principal: { AWS: this.arns.infrastructurePipeline }, Action: 'sts:AssumeRole' }),
      ),
      dependsOn: [this.infrastructurePipeline],
    });
    documents.ec2ResourceDeploy = this.inline('ec2-resource-deploy', this.ec2ResourceDeploy, names.ec2ResourceDeploy, props, undefined, deployStatements(ns));
    // Rules only on the HTTPS listener: its ARN is known after apply, so it has a policy of its own.
    const listener = policyDocument({
      Sid: 'CreateCustomerRulesOnHttpsListenerOnly',
      Effect: 'Allow',
      Action: 'elasticloadbalancing:CreateRule',
      Resource: props.httpsListenerArn,
      Condition: customerRequestTags(ns.project, ns.env),
    });
    new IamRolePolicy(this, 'ec2-resource-deploy-listener-policy', { name: `${names.ec2ResourceDeploy}-listener`, role: this.ec2ResourceDeploy.id, policy: policyJson(listener) });
    documents.ec2ResourceDeploy.push(listener);
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

/**
 * The deploy role's statements: customer resources only. Everything it creates must be tagged with
 * the environment's tags and a `customer` tag; everything it changes must carry them. Platform
 * resources (the ALB and its security group, the NAT instances, their groups and launch templates,
 * the subnets, the VPC) carry no `customer` tag, so they are out of reach; the only platform
 * resources it names are the VPC (new security groups go into it), the natted subnets (instances
 * launch into them) and the rules of the environment's ALB (by name, SetRulePriorities).
 */
function deployStatements(p: ArnScope & { readonly project: string; readonly env: string }): Statement[] {
  const ec2 = (resource: string) => regionalArn(p, 'ec2', resource);
  const elb = (resource: string) => regionalArn(p, 'elasticloadbalancing', resource);
  const alb = envName(p);
  const ownAsg = regionalArn(p, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${envName(p)}-*`);
  const ownListenerRules = elb(`listener-rule/app/${alb}/*`);
  const created = customerRequestTags(p.project, p.env);
  const owned = customerResourceTags(p.project, p.env);
  const retag = customerRetagging(p.project, p.env);
  const environmentVpc = envResourceTags(p.project, p.env);
  const nattedSubnets = allOf(envResourceTags(p.project, p.env), { StringEquals: { 'aws:ResourceTag/tier': 'natted' } });
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
    // Auto scaling groups: named <project>-<env>-* and customer-tagged on create; changed only when so tagged.
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
    // Launch templates, security groups (in the environment's tagged VPC) and target groups: created
    // customer-tagged, changed only when customer-tagged; likewise the rules of this environment's
    // ALB (<project>-<env>), which are created only on the HTTPS listener (the `<role>-listener`
    // policy). One statement per condition keeps the policy within IAM's 10,240 characters with the
    // longest names; each action applies only to its own resource types.
    {
      Sid: 'CreateCustomerTemplatesAndGroups',
      Effect: 'Allow',
      Action: ['ec2:CreateLaunchTemplate', 'ec2:CreateSecurityGroup', 'elasticloadbalancing:CreateTargetGroup'],
      Resource: [ec2('launch-template/*'), ec2('security-group/*'), elb('targetgroup/*')],
      Condition: created,
    },
    { Sid: 'CreateSecurityGroupsInOwnVpc', Effect: 'Allow', Action: 'ec2:CreateSecurityGroup', Resource: ec2('vpc/*'), Condition: environmentVpc },
    {
      Sid: 'ManageCustomerTemplatesGroupsAndRules',
      Effect: 'Allow',
      Action: [
        'ec2:CreateLaunchTemplateVersion',
        'ec2:ModifyLaunchTemplate',
        'ec2:DeleteLaunchTemplate',
        'ec2:DeleteLaunchTemplateVersions',
        ...sgRuleActions,
        'ec2:DeleteSecurityGroup',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:ModifyRule',
        'elasticloadbalancing:DeleteRule',
      ],
      Resource: [ec2('launch-template/*'), ec2('security-group/*'), elb('targetgroup/*'), ownListenerRules],
      Condition: owned,
    },
    {
      // A rule is authorized together with its group, which must be a customer's (above);
      // new rules carry no tags yet to condition on.
      Sid: 'RulesOfOwnSecurityGroups',
      Effect: 'Allow',
      Action: sgRuleActions,
      Resource: ec2('security-group-rule/*'),
    },
    // Instances, launched by auto scaling with the caller's permissions checked.
    { Sid: 'LaunchTaggedInstances', Effect: 'Allow', Action: 'ec2:RunInstances', Resource: ec2('instance/*'), Condition: created },
    {
      Sid: 'LaunchFromCustomerTemplatesAndGroups',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: [ec2('launch-template/*'), ec2('security-group/*')],
      Condition: owned,
    },
    // Only into the natted subnets (tier tag set by the platform; this role cannot re-tag subnets).
    { Sid: 'LaunchIntoNattedSubnetsOnly', Effect: 'Allow', Action: 'ec2:RunInstances', Resource: ec2('subnet/*'), Condition: nattedSubnets },
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
    {
      // Customer instance roles of this environment only (see customerInstanceRolePattern for the
      // one limitation of a name pattern), and only to EC2.
      Sid: 'PassCustomerInstanceRolesToEc2Only',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: iamArn(p, `role/${customerInstanceRolePattern(p)}`),
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    },
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
      // Tags of existing customer resources, never project, environment or customer.
      Sid: 'RetagCustomerResources',
      Effect: 'Allow',
      Action: ['autoscaling:CreateOrUpdateTags', 'autoscaling:DeleteTags', 'ec2:CreateTags', 'ec2:DeleteTags', 'elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      Resource: [ownAsg, ec2('launch-template/*'), ec2('security-group/*'), ec2('instance/*'), elb('targetgroup/*'), ownListenerRules],
      Condition: retag,
    },
  ];
}
