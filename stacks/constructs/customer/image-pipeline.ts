import { Construct } from 'constructs';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { CodebuildProject } from '@cdktf/provider-aws/lib/codebuild-project';
import { CodepipelineStage } from '@cdktf/provider-aws/lib/codepipeline';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Token } from 'cdktf';
import { CUSTOMER_NAME } from '../../model/config/schema';
import { PolicyDocument, Statement, iamArn, partitionOf, policyDocument, policyJson, regionalArn, s3Arn, serviceTrust } from '../../model/iam-policy';
import {
  BAKE_BUILD_TIMEOUT_MINUTES,
  IMAGE_ROLLOUT_TOOL_KEY,
  ROLLOUT_BUILD_TIMEOUT_MINUTES,
  ROLLOUT_POLL_SECONDS,
  ROLLOUT_TIMEOUT_MINUTES,
  bakeBuildspec,
  bakeEnvironment,
  baseImageParameter,
  rolloutBuildspec,
} from '../../model/image-delivery';
import { bucketNameProblems, customerImagePipelineNames, customerNames } from '../../model/naming';
import { EnvironmentExports } from '../environment-exports';
import { kmsViaService, logGroupWrite } from '../iam/grants';
import { NamingScope } from '../naming-scope';
import { RoleDocuments, TriggeredPipeline, approvalStage, inlinePolicies, pipelineRolePolicies, pipelineStartRole, s3SourceStage, triggeredPipeline } from './pipeline-parts';

/** CodeBuild image of the bake and the rollout: arm64, with curl, unzip, the AWS CLI and Node.js. */
export const IMAGE_BUILD_IMAGE = 'aws/codebuild/amazonlinux-aarch64-standard:3.0';
/** The tier tag of the natted subnets (stacks/constructs/network/vpc-network.ts): the only subnets a bake may launch into. */
export const NATTED_TIER = 'natted';
/** Artifact names (CodePipeline keeps 10 characters of each in the artifact key). */
export const RECIPE_ARTIFACT = 'recipe';
export const IMAGE_ARTIFACT = 'image';

export interface CustomerImagePipelineProps {
  readonly customer: string;
  /** The branches of the customer's infrastructure repositories routed to this environment (at least one). */
  readonly branches: readonly string[];
  readonly production: boolean;
  readonly environment: EnvironmentExports;
  /** The web tier's architecture: the base image of the recipe. */
  readonly architecture: 'arm64' | 'x86_64';
  /** The customer's auto scaling group (named `customerNames().autoScalingGroup`). */
  readonly autoScalingGroup: AutoscalingGroup;
  /** The customer's instance profile (named `customerNames().instanceProfile`): the bake instance runs with it (and only with it). */
  readonly instanceProfile: IamInstanceProfile;
  /** Literal ARN of the role of that profile: the only role the builds may pass. */
  readonly instanceRoleArn: string;
  /** The customer's alarms: any in ALARM during a refresh rolls it back. */
  readonly alarms: readonly CloudwatchMetricAlarm[];
  /** The web tier's instance warmup, seconds. */
  readonly instanceWarmupSeconds: number;
  readonly logRetentionDays: number;
  /** Send production approval requests to the environment's alarm topic. @default true */
  readonly approvalNotification?: boolean;
}

/** One branch's image pipeline and the rule that starts it. */
export type ImageBranchPipeline = TriggeredPipeline;

/**
 * The machine-image pipeline of one customer in one environment:
 *
 * - per routed infrastructure branch, a CodePipeline V2 (QUEUED) on exactly
 *   `infrastructure/<customer>/<branch>.zip` (polling off), started by an exact-key EventBridge rule:
 *   Source → Bake (Packer in CodeBuild, natted subnets) → Approve (production) → Rollout;
 * - the bake: `packer validate` and `packer build` of the repository's image.pkr.hcl; the AMI is
 *   tagged customer, environment, project and commit;
 * - the rollout: a new launch template version (the live one with only the image changed) and an
 *   instance refresh to exactly that version, 100 % healthy, auto-rollback on failure and alarms;
 * - four roles of the customer's own: bake, rollout, pipeline, rule. The bake role can launch only
 *   instances tagged as the customer's, into natted subnets, with the customer's instance profile,
 *   and stop, terminate or image only the customer's instances.
 */
export class CustomerImagePipeline extends Construct {
  readonly bakeProject: CodebuildProject;
  readonly rolloutProject: CodebuildProject;
  readonly bakeRole: IamRole;
  readonly rolloutRole: IamRole;
  readonly pipelineRole: IamRole;
  readonly startRole: IamRole;
  readonly bakeSecurityGroup: SecurityGroup;
  readonly documents: Readonly<Record<string, Readonly<Record<string, PolicyDocument>>>>;
  readonly pipelines: readonly ImageBranchPipeline[];

  constructor(scope: Construct, id: string, props: CustomerImagePipelineProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    validate(props, ns);
    const { customer, environment: env } = props;
    const names = customerNames(ns, customer);
    const branches = props.branches.map((branch) => ({ branch, ...customerImagePipelineNames(ns, customer, branch) }));
    const p = partitionOf(ns.region);
    const ec2 = (resource: string) => regionalArn(ns, 'ec2', resource);
    const image = `arn:${p}:ec2:${ns.region}::image/*`;
    const snapshot = `arn:${p}:ec2:${ns.region}::snapshot/*`;
    const asgArn = regionalArn(ns, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${names.autoScalingGroup}`);
    const bucket = env.artifactBucketArn;
    const account = { StringEquals: { 'aws:SourceAccount': ns.account } };
    const tags = { customer };
    const own = { 'aws:ResourceTag/customer': customer, 'aws:ResourceTag/environment': ns.env, 'aws:ResourceTag/project': ns.project };
    const ownRequest = { 'aws:RequestTag/customer': customer, 'aws:RequestTag/environment': ns.env, 'aws:RequestTag/project': ns.project };
    const documents: RoleDocuments = {};
    const inline = inlinePolicies(this, names.base, documents);
    const codebuildTrust = policyJson(serviceTrust(['codebuild.amazonaws.com'], account));
    const artifactFolders = branches.map((b) => `${bucket}/${b.artifactFolder}*`);
    const vpcBuild: Statement = {
      // CodeBuild in a VPC describes the network and manages its ENIs: no resource-level permissions.
      Sid: 'VpcBuildNetworking',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'],
      Resource: '*',
    };
    const vpcBuildEni: Statement = {
      // The subnet ids come from the environment stack (unknown at plan time here): the build's
      // own VPC configuration names the natted subnets; this lets CodeBuild attach its ENI there.
      Sid: 'VpcBuildEniPermission',
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterfacePermission',
      Resource: ec2('network-interface/*'),
      Condition: { StringEquals: { 'ec2:AuthorizedService': 'codebuild.amazonaws.com' } },
    };
    const passInstanceRole: Statement = {
      Sid: 'PassOwnInstanceRoleToEc2',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: props.instanceRoleArn,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    };
    const artifactsKms = kmsViaService('ArtifactsThroughS3', env.kmsKeyArn, ['kms:Decrypt', 'kms:GenerateDataKey'], 's3', ns.region);

    // --- Network and logs of the builds ---------------------------------------------------------
    this.bakeSecurityGroup = new SecurityGroup(this, 'bake-sg', {
      name: names.imageBakeSecurityGroup,
      description: `Image bakes of ${customer} in ${ns.env}: the build and its Packer instance (SSH between them), HTTPS out`,
      vpcId: env.vpcId,
      tags: { Name: names.imageBakeSecurityGroup, customer },
    });
    new VpcSecurityGroupIngressRule(this, 'bake-sg-in-ssh', {
      securityGroupId: this.bakeSecurityGroup.id,
      description: 'SSH from the bake build (same group) to its Packer instance',
      ipProtocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      referencedSecurityGroupId: this.bakeSecurityGroup.id,
      tags,
    });
    new VpcSecurityGroupEgressRule(this, 'bake-sg-out-ssh', {
      securityGroupId: this.bakeSecurityGroup.id,
      description: 'SSH to the Packer instance (same group)',
      ipProtocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      referencedSecurityGroupId: this.bakeSecurityGroup.id,
      tags,
    });
    new VpcSecurityGroupEgressRule(this, 'bake-sg-out-https', {
      securityGroupId: this.bakeSecurityGroup.id,
      description: 'HTTPS out: AWS APIs, releases.hashicorp.com, packages (via NAT)',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
      tags,
    });
    const bakeLogs = new CloudwatchLogGroup(this, 'bake-logs', { name: names.imageBakeLogGroup, retentionInDays: props.logRetentionDays, kmsKeyId: env.kmsKeyArn, tags });
    const rolloutLogs = new CloudwatchLogGroup(this, 'rollout-logs', { name: names.imageRolloutLogGroup, retentionInDays: props.logRetentionDays, kmsKeyId: env.kmsKeyArn, tags });

    // --- The bake role ---------------------------------------------------------------------------
    this.bakeRole = new IamRole(this, 'bake-role', {
      name: names.imageBakeRole,
      description: `Image bakes of ${customer} in ${ns.project}-${ns.env}: Packer instances tagged as its own, in natted subnets, with its instance profile`,
      assumeRolePolicy: codebuildTrust,
      tags,
    });
    const bakePolicies = inline(this.bakeRole, names.imageBakeRole, {
      [names.imageBakeRole]: policyDocument(
        logGroupWrite('WriteOwnLogs', ns, names.imageBakeLogGroup),
        { Sid: 'ReadOwnRecipes', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: branches.map((b) => s3Arn(ns.region, env.artifactBucketName, b.sourceKey)) },
        { Sid: 'ReadWriteOwnArtifactFolders', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'], Resource: artifactFolders },
        { Sid: 'ReadBaseImageParameter', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:${p}:ssm:${ns.region}::parameter${baseImageParameter(props.architecture)}` },
        {
          // Describe calls have no resource-level permissions: AWS requires "*".
          Sid: 'PackerDescribe',
          Effect: 'Allow',
          Action: [
            'ec2:DescribeImages',
            'ec2:DescribeImageAttribute',
            'ec2:DescribeInstances',
            'ec2:DescribeInstanceStatus',
            'ec2:DescribeInstanceTypeOfferings',
            'ec2:DescribeKeyPairs',
            'ec2:DescribeRegions',
            'ec2:DescribeSnapshots',
            'ec2:DescribeTags',
            'ec2:DescribeVolumes',
          ],
          Resource: '*',
        },
        vpcBuild,
        vpcBuildEni,
        {
          // New instances and volumes only with the customer's, environment's and project's tags.
          Sid: 'LaunchOnlyOwnTaggedInstances',
          Effect: 'Allow',
          Action: 'ec2:RunInstances',
          Resource: [ec2('instance/*'), ec2('volume/*')],
          Condition: { StringEquals: ownRequest },
        },
        {
          Sid: 'LaunchOnlyIntoNattedSubnets',
          Effect: 'Allow',
          Action: 'ec2:RunInstances',
          Resource: ec2('subnet/*'),
          Condition: { StringEquals: { 'aws:ResourceTag/tier': NATTED_TIER, 'aws:ResourceTag/environment': ns.env, 'aws:ResourceTag/project': ns.project } },
        },
        {
          Sid: 'LaunchOnlyWithOwnSecurityGroups',
          Effect: 'Allow',
          Action: 'ec2:RunInstances',
          Resource: ec2('security-group/*'),
          Condition: { StringEquals: own },
        },
        {
          // Any image as the base (Amazon's, the customer's), a new ENI, Packer's temporary key pair.
          Sid: 'LaunchFromImagesWithTemporaryKeyPair',
          Effect: 'Allow',
          Action: 'ec2:RunInstances',
          Resource: [image, ec2('network-interface/*'), ec2('key-pair/*')],
        },
        { Sid: 'PackerTemporaryKeyPair', Effect: 'Allow', Action: ['ec2:CreateKeyPair', 'ec2:DeleteKeyPair'], Resource: ec2('key-pair/*') },
        {
          Sid: 'TagOnLaunch',
          Effect: 'Allow',
          Action: 'ec2:CreateTags',
          Resource: [ec2('instance/*'), ec2('volume/*'), ec2('network-interface/*')],
          Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
        },
        passInstanceRole,
        {
          Sid: 'StopImageTerminateOwnInstances',
          Effect: 'Allow',
          Action: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:CreateImage', 'ec2:CreateTags'],
          Resource: [ec2('instance/*'), ec2('volume/*')],
          Condition: { StringEquals: own },
        },
        {
          // The new image and its snapshots of CreateImage (the source instance is checked above).
          Sid: 'CreateImageResults',
          Effect: 'Allow',
          Action: 'ec2:CreateImage',
          Resource: [image, snapshot],
        },
        {
          Sid: 'RetagOwnImages',
          Effect: 'Allow',
          Action: 'ec2:CreateTags',
          Resource: [image, snapshot],
          Condition: { StringEquals: own },
        },
        {
          // A fresh image (no customer tag yet) may be claimed, only as the customer's own.
          Sid: 'ClaimNewImagesAsOwn',
          Effect: 'Allow',
          Action: 'ec2:CreateTags',
          Resource: [image, snapshot],
          Condition: { Null: { 'aws:ResourceTag/customer': 'true' }, StringEquals: ownRequest },
        },
        { Sid: 'DeregisterOwnImages', Effect: 'Allow', Action: ['ec2:DeregisterImage', 'ec2:DeleteSnapshot'], Resource: [image, snapshot], Condition: { StringEquals: own } },
      ),
      [`${names.imageBakeRole}-kms`]: policyDocument(
        artifactsKms,
        // The Packer instance's encrypted volumes and the AMI's snapshots use the environment key.
        kmsViaService('EncryptVolumesThroughEc2', env.kmsKeyArn, ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'], 'ec2', ns.region),
      ),
    });

    // --- The rollout role ------------------------------------------------------------------------
    this.rolloutRole = new IamRole(this, 'rollout-role', {
      name: names.imageRolloutRole,
      description: `Image rollouts of ${customer} in ${ns.project}-${ns.env}: new versions of its launch template, instance refreshes of its group`,
      assumeRolePolicy: codebuildTrust,
      tags,
    });
    const rolloutPolicies = inline(this.rolloutRole, names.imageRolloutRole, {
      [names.imageRolloutRole]: policyDocument(
        logGroupWrite('WriteOwnLogs', ns, names.imageRolloutLogGroup),
        { Sid: 'ReadOwnArtifactFolders', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: artifactFolders },
        { Sid: 'ReadRolloutTool', Effect: 'Allow', Action: 's3:GetObject', Resource: s3Arn(ns.region, env.artifactBucketName, IMAGE_ROLLOUT_TOOL_KEY) },
        {
          Sid: 'RolloutDescribe',
          Effect: 'Allow',
          Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeInstanceRefreshes', 'ec2:DescribeImages', 'ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions'],
          Resource: '*',
        },
        vpcBuild,
        vpcBuildEni,
        { Sid: 'NewVersionsOfOwnLaunchTemplate', Effect: 'Allow', Action: 'ec2:CreateLaunchTemplateVersion', Resource: ec2('launch-template/*'), Condition: { StringEquals: own } },
        { Sid: 'RefreshOwnGroup', Effect: 'Allow', Action: ['autoscaling:StartInstanceRefresh', 'autoscaling:RollbackInstanceRefresh'], Resource: asgArn },
        {
          // Auto Scaling checks that the caller may launch the desired configuration: only
          // instances tagged as the customer's, from a launch template.
          Sid: 'LaunchOwnTaggedInstancesFromTemplate',
          Effect: 'Allow',
          Action: ['ec2:RunInstances', 'ec2:CreateTags'],
          Resource: '*',
          Condition: { ArnLike: { 'ec2:LaunchTemplate': ec2('launch-template/*') }, StringEquals: ownRequest },
        },
        passInstanceRole,
      ),
      [`${names.imageRolloutRole}-kms`]: policyDocument(artifactsKms),
    });

    // --- CodeBuild projects ----------------------------------------------------------------------
    const vpcConfig = { vpcId: env.vpcId, subnets: [...env.nattedSubnetIds], securityGroupIds: [this.bakeSecurityGroup.id] };
    const environment = (variables: { name: string; value: string }[]) => ({
      type: 'ARM_CONTAINER',
      computeType: 'BUILD_GENERAL1_SMALL',
      image: IMAGE_BUILD_IMAGE,
      imagePullCredentialsType: 'CODEBUILD',
      environmentVariable: variables,
    });
    this.bakeProject = new CodebuildProject(this, 'bake', {
      name: names.imageBakeProject,
      description: `Bakes the machine image of ${customer} in ${ns.env} with Packer (image.pkr.hcl of its infrastructure repository)`,
      serviceRole: this.bakeRole.arn,
      encryptionKey: env.kmsKeyArn,
      buildTimeout: BAKE_BUILD_TIMEOUT_MINUTES,
      queuedTimeout: 60,
      source: { type: 'CODEPIPELINE', buildspec: bakeBuildspec() },
      artifacts: { type: 'CODEPIPELINE' },
      environment: environment(
        bakeEnvironment({
          project: ns.project,
          customer,
          environment: ns.env,
          region: ns.region,
          subnetId: env.nattedSubnetIds[0]!,
          securityGroupId: this.bakeSecurityGroup.id,
          instanceProfile: props.instanceProfile.name,
          kmsKeyArn: env.kmsKeyArn,
          baseImageParameter: baseImageParameter(props.architecture),
          artifactBucket: env.artifactBucketName,
        }),
      ),
      vpcConfig,
      logsConfig: { cloudwatchLogs: { groupName: bakeLogs.name, status: 'ENABLED' }, s3Logs: { status: 'DISABLED' } },
      tags,
      dependsOn: bakePolicies,
    });
    this.rolloutProject = new CodebuildProject(this, 'rollout', {
      name: names.imageRolloutProject,
      description: `Rolls a baked image of ${customer} in ${ns.env} out to ${names.autoScalingGroup} (new template version, instance refresh with auto-rollback)`,
      serviceRole: this.rolloutRole.arn,
      encryptionKey: env.kmsKeyArn,
      buildTimeout: ROLLOUT_BUILD_TIMEOUT_MINUTES,
      queuedTimeout: 60,
      source: { type: 'CODEPIPELINE', buildspec: rolloutBuildspec() },
      artifacts: { type: 'CODEPIPELINE' },
      environment: environment([
        { name: 'ARTIFACT_BUCKET', value: env.artifactBucketName },
        { name: 'CUSTOMER', value: customer },
        { name: 'ENVIRONMENT', value: ns.env },
        { name: 'AUTO_SCALING_GROUP', value: props.autoScalingGroup.name },
        { name: 'ALARMS', value: props.alarms.map((a) => a.alarmName).join(',') },
        { name: 'INSTANCE_WARMUP_SECONDS', value: String(props.instanceWarmupSeconds) },
        { name: 'TIMEOUT_MINUTES', value: String(ROLLOUT_TIMEOUT_MINUTES) },
        { name: 'POLL_SECONDS', value: String(ROLLOUT_POLL_SECONDS) },
      ]),
      vpcConfig,
      logsConfig: { cloudwatchLogs: { groupName: rolloutLogs.name, status: 'ENABLED' }, s3Logs: { status: 'DISABLED' } },
      tags,
      dependsOn: rolloutPolicies,
    });

    // --- The pipelines' role and the rules' role --------------------------------------------------
    const notify = props.production && (props.approvalNotification ?? true);
    this.pipelineRole = new IamRole(this, 'pipeline-role', {
      name: names.imagePipelineRole,
      description: `Image pipelines of ${customer} in ${ns.project}-${ns.env}: its recipes, its artifact folders, its bake and rollout builds`,
      assumeRolePolicy: policyJson(serviceTrust(['codepipeline.amazonaws.com'], account)),
      tags,
    });
    const pipelineStatements: Statement[] = [
      { Sid: 'ReadOwnRecipes', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: branches.map((b) => s3Arn(ns.region, env.artifactBucketName, b.sourceKey)) },
      { Sid: 'SourceBucketMetadata', Effect: 'Allow', Action: ['s3:GetBucketVersioning', 's3:GetBucketLocation'], Resource: bucket },
      { Sid: 'ReadWriteOwnArtifactFolders', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'], Resource: artifactFolders },
      {
        Sid: 'RunOwnBuilds',
        Effect: 'Allow',
        Action: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
        Resource: [regionalArn(ns, 'codebuild', `project/${names.imageBakeProject}`), regionalArn(ns, 'codebuild', `project/${names.imageRolloutProject}`)],
      },
    ];
    const pipelineKms: Statement[] = [artifactsKms];
    const pipelinePolicies = pipelineRolePolicies(inline, { role: this.pipelineRole, roleName: names.imagePipelineRole, statements: pipelineStatements, kms: pipelineKms, notify, environment: env });
    const start = pipelineStartRole(this, inline, {
      roleName: names.imagePipelineStartRole,
      description: `EventBridge rules of ${customer} in ${ns.project}-${ns.env}: start its image pipelines, nothing else`,
      sid: 'StartOwnImagePipelines',
      branches,
      tags,
    });
    this.startRole = start.role;
    this.documents = documents;

    // --- One pipeline and one rule per routed branch ---------------------------------------------
    this.pipelines = branches.map((b, i) => {
      const stages: CodepipelineStage[] = [
        s3SourceStage({ actionName: 'Recipe', artifact: RECIPE_ARTIFACT, sourceKey: b.sourceKey, environment: env, namespace: 'SourceVariables' }),
        {
          name: 'Bake',
          action: [
            {
              name: 'Packer',
              category: 'Build',
              owner: 'AWS',
              provider: 'CodeBuild',
              version: '1',
              inputArtifacts: [RECIPE_ARTIFACT],
              outputArtifacts: [IMAGE_ARTIFACT],
              configuration: {
                ProjectName: this.bakeProject.name,
                EnvironmentVariables: JSON.stringify([
                  { name: 'SOURCE_KEY', value: b.sourceKey, type: 'PLAINTEXT' },
                  { name: 'SOURCE_VERSION_ID', value: '#{SourceVariables.VersionId}', type: 'PLAINTEXT' },
                ]),
              },
            },
          ],
        },
      ];
      if (props.production) {
        const customData = `Machine image of ${customer} from branch ${b.branch} to ${ns.env} (production): approve to roll it out on ${names.autoScalingGroup} (instance refresh, auto-rollback)`;
        stages.push(approvalStage({ customData, notify, environment: env }));
      }
      stages.push({
        name: 'Rollout',
        action: [
          {
            name: 'InstanceRefresh',
            category: 'Build',
            owner: 'AWS',
            provider: 'CodeBuild',
            version: '1',
            inputArtifacts: [IMAGE_ARTIFACT],
            configuration: { ProjectName: this.rolloutProject.name },
          },
        ],
      });
      return triggeredPipeline(this, i, { branch: b, stages, environment: env, pipelineRole: this.pipelineRole, pipelinePolicies, start, tags });
    });
  }
}

type Scope = ReturnType<typeof NamingScope.of>;

function fail(prop: string, value: unknown, allowed: string): never {
  throw new Error(`CustomerImagePipeline: ${prop} must be ${allowed}, got ${JSON.stringify(value)}`);
}

function validate(props: CustomerImagePipelineProps, ns: Scope): void {
  if (typeof props.customer !== 'string' || !CUSTOMER_NAME.test(props.customer)) fail('customer', props.customer, 'a customer name');
  if (!Array.isArray(props.branches) || props.branches.length === 0) fail('branches', props.branches, 'at least one branch');
  props.branches.forEach((b, i) => {
    if (typeof b !== 'string' || b.length === 0 || b.length > 255 || /[\s~^:?*[\\]/.test(b) || b.startsWith('/') || b.endsWith('/') || b.includes('..')) fail(`branches[${i}]`, b, 'a git branch name');
  });
  if (new Set(props.branches).size !== props.branches.length) fail('branches', props.branches, 'distinct branches');
  if (typeof props.production !== 'boolean') fail('production', props.production, 'true or false');
  if (props.architecture !== 'arm64' && props.architecture !== 'x86_64') fail('architecture', props.architecture, '"arm64" or "x86_64"');
  const names = customerNames(ns, props.customer);
  if (props.autoScalingGroup?.nameInput !== names.autoScalingGroup) fail('autoScalingGroup', props.autoScalingGroup?.nameInput, `the customer's auto scaling group ${names.autoScalingGroup}`);
  if (props.instanceProfile?.nameInput !== names.instanceProfile) fail('instanceProfile', props.instanceProfile?.nameInput, `the customer's instance profile ${names.instanceProfile}`);
  if (props.instanceRoleArn !== iamArn(ns, `role/${names.instanceRole}`)) fail('instanceRoleArn', props.instanceRoleArn, `the literal ARN of the customer's instance role (${iamArn(ns, `role/${names.instanceRole}`)})`);
  if (!Array.isArray(props.alarms) || props.alarms.length === 0) fail('alarms', props.alarms, 'at least one alarm (they roll a bad image back)');
  if (!Number.isInteger(props.instanceWarmupSeconds) || props.instanceWarmupSeconds < 0 || props.instanceWarmupSeconds > 3600) fail('instanceWarmupSeconds', props.instanceWarmupSeconds, 'a whole number from 0 to 3600');
  const e = props.environment;
  if (typeof e?.artifactBucketName !== 'string' || Token.isUnresolved(e.artifactBucketName) || bucketNameProblems(e.artifactBucketName).length > 0) {
    fail('environment.artifactBucketName', e?.artifactBucketName, 'a literal, valid S3 bucket name');
  }
  if (e.artifactBucketArn !== s3Arn(ns.region, e.artifactBucketName)) fail('environment.artifactBucketArn', e.artifactBucketArn, `the literal ARN of ${e.artifactBucketName}`);
  if (!Array.isArray(e.nattedSubnetIds) || e.nattedSubnetIds.length === 0) fail('environment.nattedSubnetIds', e.nattedSubnetIds, 'at least one natted subnet');
}
