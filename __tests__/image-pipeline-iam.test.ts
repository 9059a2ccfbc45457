/**
 * Issue 10, machine-image pipeline: IAM behaviour of a customer's bake, rollout, image-pipeline and
 * image-start roles over the SYNTHESIZED policies, simulated with @cloud-copilot/iam-simulate. Tags
 * of the resources and of the requests are given as context keys, as AWS evaluates them. In the
 * example config only shop has an infrastructure repository: its roles are simulated against its
 * own resources and against those of blog and wiki (cross-customer denies).
 */
import { customerImagePipelineNames, customerNames } from '../stacks/model/naming';
import { Context, Decision, StackPolicies } from './support/iam';
import { synthAllStacks } from './support/synth';

const ALLOW: Decision = 'Allowed';
const DENY: Decision = 'ImplicitlyDenied';
const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const PROJECT = 'acme-web';

const all = synthAllStacks();
const envStack = new StackPolicies(all.get('dev')!);
const KEY = envStack.key().arn;
const shop = new StackPolicies(all.get('dev-shop')!, [envStack]);
const OTHERS = ['blog', 'wiki'];

const names = (c: string, env = 'dev') => customerNames({ project: PROJECT, env }, c);
const pipe = (c: string, env = 'dev', branch = 'develop') => customerImagePipelineNames({ project: PROJECT, env }, c, branch);
const bucket = `arn:aws:s3:::${PROJECT}-dev-artifacts-${ACCOUNT}-${REGION}`;
const ec2 = (r: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${r}`;
const INSTANCE = ec2('instance/i-0123456789abcdef0');
const VOLUME = ec2('volume/vol-0123456789abcdef0');
const SUBNET = ec2('subnet/subnet-0123456789abcdef0');
const SG = ec2('security-group/sg-0123456789abcdef0');
const LT = ec2('launch-template/lt-0123456789abcdef0');
const IMAGE = `arn:aws:ec2:${REGION}::image/ami-0123456789abcdef0`;
const SNAPSHOT = `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`;
const asg = (c: string) => `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:6d4ad2a4-1b6e-4a3c-9a0e-0c8f9e8b2f11:autoScalingGroupName/${names(c).autoScalingGroup}`;
const role = (n: string) => `arn:aws:iam::${ACCOUNT}:role/${n}`;
const pipelineArn = (c: string, env = 'dev') => `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipe(c, env).pipeline}`;
const project = (n: string) => `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${n}`;
const via = (service: string): Context => ({ 'kms:ViaService': `${service}.${REGION}.amazonaws.com` });

/** Tags of an existing resource / of a create request, as condition context. */
const owned = (c: string, env = 'dev'): Context => ({ 'aws:ResourceTag/customer': c, 'aws:ResourceTag/environment': env, 'aws:ResourceTag/project': PROJECT });
const request = (c: string, env = 'dev'): Context => ({ 'aws:RequestTag/customer': c, 'aws:RequestTag/environment': env, 'aws:RequestTag/project': PROJECT, 'aws:TagKeys': ['customer', 'environment', 'project'] });
const subnet = (tier: string, env = 'dev'): Context => ({ 'aws:ResourceTag/tier': tier, 'aws:ResourceTag/environment': env, 'aws:ResourceTag/project': PROJECT });

type Role = 'imageBakeRole' | 'imageRolloutRole' | 'imagePipelineRole' | 'imagePipelineStartRole';
type Row = [string, Role, string, string, Context, Decision];
const sim = (r: Role, action: string, resource: string, context: Context) => shop.simulateAs(names('shop')[r], action, resource, context);

const allowed: Row[] = [
  ['bake launches an instance tagged as shop', 'imageBakeRole', 'ec2:RunInstances', INSTANCE, request('shop'), ALLOW],
  ['bake launches a volume tagged as shop', 'imageBakeRole', 'ec2:RunInstances', VOLUME, request('shop'), ALLOW],
  ['bake launches into a natted subnet', 'imageBakeRole', 'ec2:RunInstances', SUBNET, subnet('natted'), ALLOW],
  ['bake launches with its own security group', 'imageBakeRole', 'ec2:RunInstances', SG, owned('shop'), ALLOW],
  ['bake launches from an Amazon image', 'imageBakeRole', 'ec2:RunInstances', IMAGE, {}, ALLOW],
  ['bake tags on launch', 'imageBakeRole', 'ec2:CreateTags', INSTANCE, { 'ec2:CreateAction': 'RunInstances', ...request('shop') }, ALLOW],
  ['bake passes shop\'s instance role to EC2', 'imageBakeRole', 'iam:PassRole', role(names('shop').instanceRole), { 'iam:PassedToService': 'ec2.amazonaws.com' }, ALLOW],
  ['bake stops its instance', 'imageBakeRole', 'ec2:StopInstances', INSTANCE, owned('shop'), ALLOW],
  ['bake images its instance', 'imageBakeRole', 'ec2:CreateImage', INSTANCE, owned('shop'), ALLOW],
  ['bake creates the image', 'imageBakeRole', 'ec2:CreateImage', IMAGE, {}, ALLOW],
  ['bake terminates its instance', 'imageBakeRole', 'ec2:TerminateInstances', INSTANCE, owned('shop'), ALLOW],
  ['bake claims a fresh image as shop', 'imageBakeRole', 'ec2:CreateTags', IMAGE, request('shop'), ALLOW],
  ['bake tags its own image with the commit', 'imageBakeRole', 'ec2:CreateTags', IMAGE, { ...owned('shop'), 'aws:TagKeys': ['commit'] }, ALLOW],
  ['bake deregisters its own image', 'imageBakeRole', 'ec2:DeregisterImage', IMAGE, owned('shop'), ALLOW],
  ['bake deletes its own snapshot', 'imageBakeRole', 'ec2:DeleteSnapshot', SNAPSHOT, owned('shop'), ALLOW],
  ['bake reads its recipe zip', 'imageBakeRole', 's3:GetObjectVersion', `${bucket}/${pipe('shop').sourceKey}`, {}, ALLOW],
  ['bake writes its artifact', 'imageBakeRole', 's3:PutObject', `${bucket}/${pipe('shop').artifactFolder}/image/Ab3dEf7`, {}, ALLOW],
  ['bake encrypts volumes through EC2', 'imageBakeRole', 'kms:CreateGrant', KEY, via('ec2'), ALLOW],
  ['rollout creates a version of shop\'s launch template', 'imageRolloutRole', 'ec2:CreateLaunchTemplateVersion', LT, owned('shop'), ALLOW],
  ['rollout refreshes shop\'s group', 'imageRolloutRole', 'autoscaling:StartInstanceRefresh', asg('shop'), {}, ALLOW],
  ['rollout rolls a refresh of shop\'s group back', 'imageRolloutRole', 'autoscaling:RollbackInstanceRefresh', asg('shop'), {}, ALLOW],
  ['rollout describes refreshes', 'imageRolloutRole', 'autoscaling:DescribeInstanceRefreshes', '*', {}, ALLOW],
  ['rollout reads the rollout program', 'imageRolloutRole', 's3:GetObject', `${bucket}/tooling/image-rollout.zip`, {}, ALLOW],
  ['rollout reads its image artifact', 'imageRolloutRole', 's3:GetObject', `${bucket}/${pipe('shop').artifactFolder}/image/Ab3dEf7`, {}, ALLOW],
  ['rollout launches shop-tagged instances from a template', 'imageRolloutRole', 'ec2:RunInstances', INSTANCE, { 'ec2:LaunchTemplate': LT, ...request('shop') }, ALLOW],
  ['pipeline starts the bake', 'imagePipelineRole', 'codebuild:StartBuild', project(names('shop').imageBakeProject), {}, ALLOW],
  ['pipeline starts the rollout', 'imagePipelineRole', 'codebuild:StartBuild', project(names('shop').imageRolloutProject), {}, ALLOW],
  ['pipeline reads its recipe', 'imagePipelineRole', 's3:GetObject', `${bucket}/${pipe('shop').sourceKey}`, {}, ALLOW],
  ['the rule starts its image pipeline', 'imagePipelineStartRole', 'codepipeline:StartPipelineExecution', pipelineArn('shop'), {}, ALLOW],
];

const crossDenied = (b: string): Row[] => [
  [`bake launches an instance tagged as ${b}`, 'imageBakeRole', 'ec2:RunInstances', INSTANCE, request(b), DENY],
  [`bake launches an untagged instance`, 'imageBakeRole', 'ec2:RunInstances', INSTANCE, {}, DENY],
  [`bake launches with ${b}'s security group`, 'imageBakeRole', 'ec2:RunInstances', SG, owned(b), DENY],
  [`bake passes ${b}'s instance role`, 'imageBakeRole', 'iam:PassRole', role(names(b).instanceRole), { 'iam:PassedToService': 'ec2.amazonaws.com' }, DENY],
  [`bake tags ${b}'s instance`, 'imageBakeRole', 'ec2:CreateTags', INSTANCE, { ...owned(b), 'aws:TagKeys': ['commit'] }, DENY],
  [`bake re-tags ${b}'s instance as shop's`, 'imageBakeRole', 'ec2:CreateTags', INSTANCE, { ...owned(b), ...request('shop') }, DENY],
  [`bake images ${b}'s instance`, 'imageBakeRole', 'ec2:CreateImage', INSTANCE, owned(b), DENY],
  [`bake stops ${b}'s instance`, 'imageBakeRole', 'ec2:StopInstances', INSTANCE, owned(b), DENY],
  [`bake terminates ${b}'s instance`, 'imageBakeRole', 'ec2:TerminateInstances', INSTANCE, owned(b), DENY],
  [`bake re-tags ${b}'s image`, 'imageBakeRole', 'ec2:CreateTags', IMAGE, { ...owned(b), ...request('shop') }, DENY],
  [`bake claims a fresh image as ${b}'s`, 'imageBakeRole', 'ec2:CreateTags', IMAGE, request(b), DENY],
  [`bake deregisters ${b}'s image`, 'imageBakeRole', 'ec2:DeregisterImage', IMAGE, owned(b), DENY],
  [`bake deletes ${b}'s snapshot`, 'imageBakeRole', 'ec2:DeleteSnapshot', SNAPSHOT, owned(b), DENY],
  [`rollout creates a version of ${b}'s launch template`, 'imageRolloutRole', 'ec2:CreateLaunchTemplateVersion', LT, owned(b), DENY],
  [`rollout refreshes ${b}'s group`, 'imageRolloutRole', 'autoscaling:StartInstanceRefresh', asg(b), {}, DENY],
  [`rollout launches ${b}-tagged instances`, 'imageRolloutRole', 'ec2:RunInstances', INSTANCE, { 'ec2:LaunchTemplate': LT, ...request(b) }, DENY],
  [`rollout passes ${b}'s instance role`, 'imageRolloutRole', 'iam:PassRole', role(names(b).instanceRole), { 'iam:PassedToService': 'ec2.amazonaws.com' }, DENY],
  [`pipeline reads ${b}'s recipe`, 'imagePipelineRole', 's3:GetObject', `${bucket}/infrastructure/${b}/develop.zip`, {}, DENY],
  [`pipeline starts ${b}'s build`, 'imagePipelineRole', 'codebuild:StartBuild', project(names(b).imageBakeProject), {}, DENY],
];

const platformDenied: Row[] = [
  ['bake launches into a public subnet', 'imageBakeRole', 'ec2:RunInstances', SUBNET, subnet('public'), DENY],
  ['bake launches into a private (database) subnet', 'imageBakeRole', 'ec2:RunInstances', SUBNET, subnet('private'), DENY],
  ['bake launches into a natted subnet of staging', 'imageBakeRole', 'ec2:RunInstances', SUBNET, subnet('natted', 'staging'), DENY],
  ['bake launches an instance tagged as shop in staging', 'imageBakeRole', 'ec2:RunInstances', INSTANCE, request('shop', 'staging'), DENY],
  ['bake images shop\'s staging instance', 'imageBakeRole', 'ec2:CreateImage', INSTANCE, owned('shop', 'staging'), DENY],
  ['bake passes a platform role', 'imageBakeRole', 'iam:PassRole', role(`${PROJECT}-dev-gitlab-worker`), { 'iam:PassedToService': 'ec2.amazonaws.com' }, DENY],
  ['bake passes its instance role to Lambda', 'imageBakeRole', 'iam:PassRole', role(names('shop').instanceRole), { 'iam:PassedToService': 'lambda.amazonaws.com' }, DENY],
  ['bake changes a launch template', 'imageBakeRole', 'ec2:CreateLaunchTemplateVersion', LT, owned('shop'), DENY],
  ['bake refreshes the group', 'imageBakeRole', 'autoscaling:StartInstanceRefresh', asg('shop'), {}, DENY],
  ['bake writes a software release', 'imageBakeRole', 's3:PutObject', `${bucket}/software/shop/develop.zip`, {}, DENY],
  ['bake reads another parameter', 'imageBakeRole', 'ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${PROJECT}/dev/gitlab/deploy-token`, {}, DENY],
  ['bake decrypts directly with the key', 'imageBakeRole', 'kms:Decrypt', KEY, {}, DENY],
  ['rollout terminates an instance', 'imageRolloutRole', 'ec2:TerminateInstances', INSTANCE, owned('shop'), DENY],
  ['rollout resizes the group', 'imageRolloutRole', 'autoscaling:UpdateAutoScalingGroup', asg('shop'), {}, DENY],
  ['rollout launches without a template', 'imageRolloutRole', 'ec2:RunInstances', INSTANCE, request('shop'), DENY],
  ['rollout deletes a template version', 'imageRolloutRole', 'ec2:DeleteLaunchTemplateVersions', LT, owned('shop'), DENY],
  ['rollout creates an image', 'imageRolloutRole', 'ec2:CreateImage', INSTANCE, owned('shop'), DENY],
  ['rollout writes artifacts', 'imageRolloutRole', 's3:PutObject', `${bucket}/${pipe('shop').artifactFolder}/image/Ab3dEf7`, {}, DENY],
  ['pipeline launches instances', 'imagePipelineRole', 'ec2:RunInstances', INSTANCE, request('shop'), DENY],
  ['pipeline publishes to the alarm topic outside production', 'imagePipelineRole', 'sns:Publish', `arn:aws:sns:${REGION}:${ACCOUNT}:${PROJECT}-dev-alarms`, {}, DENY],
  ['the rule starts the software pipeline', 'imagePipelineStartRole', 'codepipeline:StartPipelineExecution', `arn:aws:codepipeline:${REGION}:${ACCOUNT}:x`, {}, DENY],
  ['the rule starts the staging image pipeline', 'imagePipelineStartRole', 'codepipeline:StartPipelineExecution', `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipe('shop', 'staging', 'release').pipeline}`, {}, DENY],
];

describe('shop: allowed (its own image delivery)', () => {
  test.each(allowed)('%s', async (_, r, action, resource, context, expected) => expect(await sim(r, action, resource, context)).toBe(expected));
});

describe.each(OTHERS)('shop cannot launch into, tag or image %s\'s resources', (b) => {
  test.each(crossDenied(b))('%s', async (_, r, action, resource, context, expected) => expect(await sim(r, action, resource, context)).toBe(expected));
});

describe('shop: platform and other actions denied', () => {
  test.each(platformDenied)('%s', async (_, r, action, resource, context, expected) => expect(await sim(r, action, resource, context)).toBe(expected));
});

describe('trust and scope', () => {
  test('bake reads exactly the public base image parameter (AWS public parameter ARNs have no account, which the simulator cannot parse: checked on the document)', () => {
    const doc = shop.identityPolicies(names('shop').imageBakeRole).flatMap((p) => p.policy.Statement as any[]);
    const ssm = doc.filter((st) => [st.Action].flat().some((a: string) => a.startsWith('ssm:')));
    expect(ssm).toEqual([
      { Sid: 'ReadBaseImageParameter', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:aws:ssm:${REGION}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64` },
    ]);
  });

  test('only customers with routed infrastructure branches have image roles', () => {
    expect(shop.roleNames()).toEqual(expect.arrayContaining([names('shop').imageBakeRole, names('shop').imageRolloutRole, names('shop').imagePipelineRole, names('shop').imagePipelineStartRole]));
    for (const b of OTHERS) expect(new StackPolicies(all.get(`dev-${b}`)!, [envStack]).roleNames().some((n) => n.includes('image'))).toBe(false);
  });

  test.each(['imageBakeRole', 'imageRolloutRole'] as const)('%s: CodeBuild of this account only', async (r) => {
    const arn = role(names('shop')[r]);
    expect(await shop.simulateFrom('codebuild.amazonaws.com', 'sts:AssumeRole', arn, { 'aws:SourceAccount': ACCOUNT })).toBe(ALLOW);
    expect(await shop.simulateFrom('codebuild.amazonaws.com', 'sts:AssumeRole', arn, { 'aws:SourceAccount': '222222222222' })).not.toBe(ALLOW);
    expect(await shop.simulateFrom('ec2.amazonaws.com', 'sts:AssumeRole', arn, { 'aws:SourceAccount': ACCOUNT })).not.toBe(ALLOW);
  });
});
