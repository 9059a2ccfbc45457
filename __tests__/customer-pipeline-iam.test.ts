/**
 * Issue 10, per-customer delivery roles: IAM behaviour of each customer's pipeline role, CodeDeploy
 * service role and pipeline-start (EventBridge) role over the SYNTHESIZED policies, simulated with
 * @cloud-copilot/iam-simulate. The bucket and key policies come from the environment stack, which
 * the customer stacks read as upstream (support/iam.ts). Every ordered pair of dev customers (A, B)
 * runs the cross-customer table; platform resources are denied to all of them.
 */
import { customerNames, customerPipelineNames } from '../stacks/model/naming';
import { Context, Decision, StackPolicies } from './support/iam';
import { synthAllStacks } from './support/synth';

const ALLOW: Decision = 'Allowed';
const DENY: Decision = 'ImplicitlyDenied';
const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const PROJECT = 'acme-web';

const all = synthAllStacks();
const envStack = Object.fromEntries(['dev', 'staging', 'prod'].map((e) => [e, new StackPolicies(all.get(e)!)]));
const KEY = envStack.dev!.key().arn;

/** The dev customers and their one routed software branch in dev (config/platform.yaml). */
const BRANCH: Record<string, string> = { shop: 'develop', blog: 'main', wiki: 'develop' };
const CUSTOMERS = Object.keys(BRANCH);
const stack = (c: string, env = 'dev') => new StackPolicies(all.get(`${env}-${c}`)!, [envStack[env]!]);
const customer = Object.fromEntries(CUSTOMERS.map((c) => [c, stack(c)]));
const PAIRS = CUSTOMERS.flatMap((a) => CUSTOMERS.filter((b) => b !== a).map((b) => [a, b] as const));

const names = (c: string, env = 'dev') => customerNames({ project: PROJECT, env }, c);
const pipe = (c: string, env = 'dev', branch = BRANCH[c]!) => customerPipelineNames({ project: PROJECT, env }, c, branch);
const bucket = (env = 'dev') => `arn:aws:s3:::${PROJECT}-${env}-artifacts-${ACCOUNT}-${REGION}`;
const object = (key: string, env = 'dev') => `${bucket(env)}/${key}`;
const source = (c: string, env = 'dev') => object(pipe(c, env).sourceKey, env);
const artifact = (c: string, env = 'dev') => object(`${pipe(c, env).artifactFolder}/source/Ab3dEf7`, env);
const codedeploy = (resource: string) => `arn:aws:codedeploy:${REGION}:${ACCOUNT}:${resource}`;
const group = (c: string) => codedeploy(`deploymentgroup:${names(c).codeDeployApplication}/${names(c).deploymentGroup}`);
const app = (c: string) => codedeploy(`application:${names(c).codeDeployApplication}`);
const config = (c: string) => codedeploy(`deploymentconfig:${names(c).deploymentConfig}`);
const asg = (c: string) => `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:6d4ad2a4-1b6e-4a3c-9a0e-0c8f9e8b2f11:autoScalingGroupName/${names(c).autoScalingGroup}`;
const targetGroup = (c: string) => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${names(c).targetGroup}/73e2d6bc24d8a067`;
const pipelineArn = (c: string, env = 'dev') => `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipe(c, env).pipeline}`;
const ruleArn = (c: string, env = 'dev') => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${pipe(c, env).sourceRule}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const alarmTopic = (env = 'dev') => `arn:aws:sns:${REGION}:${ACCOUNT}:${PROJECT}-${env}-alarms`;
const via = (service: string): Context => ({ 'kms:ViaService': `${service}.${REGION}.amazonaws.com` });
const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;

type Role = 'pipelineRole' | 'codeDeployRole' | 'pipelineStartRole';
/** [description, role, action, resource, context, expected]. */
type Row = [string, Role, string, string, Context, Decision];

function simulateAs(c: string, role: Role, action: string, resource: string, context: Context, s = customer[c]!, env = 'dev') {
  return s.simulateAs(names(c, env)[role], action, resource, context);
}

function allowedRows(a: string): Row[] {
  return [
    ['pipeline reads its source zip', 'pipelineRole', 's3:GetObject', source(a), {}, ALLOW],
    ['pipeline reads a version of its source zip', 'pipelineRole', 's3:GetObjectVersion', source(a), {}, ALLOW],
    ['pipeline checks the bucket is versioned', 'pipelineRole', 's3:GetBucketVersioning', bucket(), {}, ALLOW],
    ['pipeline writes its artifact', 'pipelineRole', 's3:PutObject', artifact(a), {}, ALLOW],
    ['pipeline reads its artifact', 'pipelineRole', 's3:GetObject', artifact(a), {}, ALLOW],
    ['pipeline decrypts through S3', 'pipelineRole', 'kms:Decrypt', KEY, via('s3'), ALLOW],
    ['pipeline encrypts artifacts through S3', 'pipelineRole', 'kms:GenerateDataKey', KEY, via('s3'), ALLOW],
    ['pipeline deploys to its group', 'pipelineRole', 'codedeploy:CreateDeployment', group(a), {}, ALLOW],
    ['pipeline follows its deployment', 'pipelineRole', 'codedeploy:GetDeployment', group(a), {}, ALLOW],
    ['pipeline registers a revision of its application', 'pipelineRole', 'codedeploy:RegisterApplicationRevision', app(a), {}, ALLOW],
    ['pipeline reads its deployment config', 'pipelineRole', 'codedeploy:GetDeploymentConfig', config(a), {}, ALLOW],
    ['CodeDeploy completes its group\'s launch hook', 'codeDeployRole', 'autoscaling:CompleteLifecycleAction', asg(a), {}, ALLOW],
    ['CodeDeploy installs its group\'s launch hook', 'codeDeployRole', 'autoscaling:PutLifecycleHook', asg(a), {}, ALLOW],
    ['CodeDeploy blocks traffic in its target group', 'codeDeployRole', 'elasticloadbalancing:DeregisterTargets', targetGroup(a), {}, ALLOW],
    ['CodeDeploy allows traffic in its target group', 'codeDeployRole', 'elasticloadbalancing:RegisterTargets', targetGroup(a), {}, ALLOW],
    ['CodeDeploy describes groups', 'codeDeployRole', 'autoscaling:DescribeAutoScalingGroups', '*', {}, ALLOW],
    ['CodeDeploy reads target health', 'codeDeployRole', 'elasticloadbalancing:DescribeTargetHealth', '*', {}, ALLOW],
    ['the rule starts its pipeline', 'pipelineStartRole', 'codepipeline:StartPipelineExecution', pipelineArn(a), {}, ALLOW],
  ];
}

function crossDeniedRows(b: string): Row[] {
  return [
    [`pipeline reads ${b}'s source zip`, 'pipelineRole', 's3:GetObject', source(b), {}, DENY],
    [`pipeline reads ${b}'s artifact`, 'pipelineRole', 's3:GetObject', artifact(b), {}, DENY],
    [`pipeline writes ${b}'s artifact folder`, 'pipelineRole', 's3:PutObject', artifact(b), {}, DENY],
    [`pipeline deploys to ${b}'s group`, 'pipelineRole', 'codedeploy:CreateDeployment', group(b), {}, DENY],
    [`pipeline registers a revision of ${b}'s application`, 'pipelineRole', 'codedeploy:RegisterApplicationRevision', app(b), {}, DENY],
    [`CodeDeploy completes ${b}'s launch hook`, 'codeDeployRole', 'autoscaling:CompleteLifecycleAction', asg(b), {}, DENY],
    [`CodeDeploy puts a hook on ${b}'s group`, 'codeDeployRole', 'autoscaling:PutLifecycleHook', asg(b), {}, DENY],
    [`CodeDeploy deregisters ${b}'s targets`, 'codeDeployRole', 'elasticloadbalancing:DeregisterTargets', targetGroup(b), {}, DENY],
    [`the rule starts ${b}'s pipeline`, 'pipelineStartRole', 'codepipeline:StartPipelineExecution', pipelineArn(b), {}, DENY],
  ];
}

function platformDeniedRows(a: string): Row[] {
  return [
    ['pipeline overwrites its own source (ingestion writes sources)', 'pipelineRole', 's3:PutObject', source(a), {}, DENY],
    ['pipeline reads its infrastructure source', 'pipelineRole', 's3:GetObject', object(`infrastructure/${a}/main.zip`), {}, DENY],
    ['pipeline reads webhook configuration', 'pipelineRole', 's3:GetObject', object('webhook/dev/delivery.json'), {}, DENY],
    ['pipeline reads CloudTrail logs', 'pipelineRole', 's3:GetObject', object(`logs/cloudtrail/AWSLogs/${ACCOUNT}/x.json.gz`), {}, DENY],
    ['pipeline deletes its artifact', 'pipelineRole', 's3:DeleteObject', artifact(a), {}, DENY],
    ['pipeline reads its source in staging', 'pipelineRole', 's3:GetObject', object(`software/${a}/release.zip`, 'staging'), {}, DENY],
    ['pipeline decrypts directly with the key', 'pipelineRole', 'kms:Decrypt', KEY, {}, DENY],
    ['pipeline publishes to the alarm topic outside production', 'pipelineRole', 'sns:Publish', alarmTopic(), {}, DENY],
    ['pipeline starts itself', 'pipelineRole', 'codepipeline:StartPipelineExecution', pipelineArn(a), {}, DENY],
    ['pipeline changes its deployment group', 'pipelineRole', 'codedeploy:UpdateDeploymentGroup', group(a), {}, DENY],
    ['pipeline passes a role', 'pipelineRole', 'iam:PassRole', roleArn(names(a).instanceRole), {}, DENY],
    ['CodeDeploy resizes its group', 'codeDeployRole', 'autoscaling:UpdateAutoScalingGroup', asg(a), {}, DENY],
    ['CodeDeploy creates a group (blue/green)', 'codeDeployRole', 'autoscaling:CreateAutoScalingGroup', asg(a), {}, DENY],
    ['CodeDeploy launches an instance', 'codeDeployRole', 'ec2:RunInstances', INSTANCE, {}, DENY],
    ['CodeDeploy terminates an instance', 'codeDeployRole', 'ec2:TerminateInstances', INSTANCE, {}, DENY],
    ['CodeDeploy passes a role', 'codeDeployRole', 'iam:PassRole', roleArn(names(a).instanceRole), {}, DENY],
    ['CodeDeploy reads a release', 'codeDeployRole', 's3:GetObject', source(a), {}, DENY],
    ['CodeDeploy changes the HTTPS listener', 'codeDeployRole', 'elasticloadbalancing:ModifyListener', `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/${PROJECT}-dev/50dc6c495c0c9188/f2f7dc8efc522ab2`, {}, DENY],
    ['the rule stops its pipeline', 'pipelineStartRole', 'codepipeline:StopPipelineExecution', pipelineArn(a), {}, DENY],
    ['the rule changes its pipeline', 'pipelineStartRole', 'codepipeline:UpdatePipeline', pipelineArn(a), {}, DENY],
    ['the rule starts its staging pipeline', 'pipelineStartRole', 'codepipeline:StartPipelineExecution', `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipe(a, 'staging', 'release').pipeline}`, {}, DENY],
    ['the rule deploys directly', 'pipelineStartRole', 'codedeploy:CreateDeployment', group(a), {}, DENY],
    ['the rule reads a release', 'pipelineStartRole', 's3:GetObject', source(a), {}, DENY],
  ];
}

describe.each(CUSTOMERS)('%s: allowed (its own delivery)', (a) => {
  test.each(allowedRows(a))('%s', async (_, role, action, resource, context, expected) => {
    expect(await simulateAs(a, role, action, resource, context)).toBe(expected);
  });
});

describe.each(PAIRS)('%s cannot reach %s', (a, b) => {
  test.each(crossDeniedRows(b))('%s', async (_, role, action, resource, context, expected) => {
    expect(await simulateAs(a, role, action, resource, context)).toBe(expected);
  });
});

describe.each(CUSTOMERS)('%s: platform and other actions denied', (a) => {
  test.each(platformDeniedRows(a))('%s', async (_, role, action, resource, context, expected) => {
    expect(await simulateAs(a, role, action, resource, context)).toBe(expected);
  });
});

describe('trust: who may take the roles', () => {
  test.each(CUSTOMERS)('%s: CodePipeline and CodeDeploy of this account only', async (a) => {
    const s = customer[a]!;
    const own = { 'aws:SourceAccount': ACCOUNT };
    expect(await s.simulateFrom('codepipeline.amazonaws.com', 'sts:AssumeRole', roleArn(names(a).pipelineRole), own)).toBe(ALLOW);
    expect(await s.simulateFrom('codepipeline.amazonaws.com', 'sts:AssumeRole', roleArn(names(a).pipelineRole), { 'aws:SourceAccount': '222222222222' })).not.toBe(ALLOW);
    expect(await s.simulateFrom('codedeploy.amazonaws.com', 'sts:AssumeRole', roleArn(names(a).codeDeployRole), own)).toBe(ALLOW);
    expect(await s.simulateFrom('codebuild.amazonaws.com', 'sts:AssumeRole', roleArn(names(a).codeDeployRole), own)).not.toBe(ALLOW);
  });

  test.each(PAIRS)('%s: its start role trusts its own rule, not %s\'s', async (a, b) => {
    const s = customer[a]!;
    const ctx = (c: string): Context => ({ 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': ruleArn(c) });
    expect(await s.simulateFrom('events.amazonaws.com', 'sts:AssumeRole', roleArn(names(a).pipelineStartRole), ctx(a))).toBe(ALLOW);
    expect(await s.simulateFrom('events.amazonaws.com', 'sts:AssumeRole', roleArn(names(a).pipelineStartRole), ctx(b))).not.toBe(ALLOW);
  });
});

describe('production: approval requests reach the alarm topic', () => {
  const prodShop = stack('shop', 'prod');
  const as = (action: string, resource: string, context: Context = {}) => prodShop.simulateAs(names('shop', 'prod').pipelineRole, action, resource, context);
  const prodKey = envStack.prod!.key().arn;

  test('the prod pipeline role publishes to the prod alarm topic, encrypted through SNS', async () => {
    expect(await as('sns:Publish', alarmTopic('prod'))).toBe(ALLOW);
    expect(await as('kms:GenerateDataKey', prodKey, via('sns'))).toBe(ALLOW);
  });

  test('but not to the dev topic, and its artifacts are its own', async () => {
    expect(await as('sns:Publish', alarmTopic('dev'))).toBe(DENY);
    const prodArtifact = (c: string) => object(`${pipe(c, 'prod', 'main').artifactFolder}/source/Ab3dEf7`, 'prod');
    expect(await as('s3:PutObject', prodArtifact('shop'))).toBe(ALLOW);
    expect(await as('s3:PutObject', prodArtifact('wiki'))).toBe(DENY);
    expect(await as('s3:GetObject', object('software/shop/main.zip', 'prod'))).toBe(ALLOW);
    expect(await as('s3:GetObject', source('shop', 'dev'))).toBe(DENY);
  });
});

describe('the web servers download their own pipeline artifacts only (CodeDeploy agent)', () => {
  test.each(PAIRS)('%s reads its artifact, not %s\'s', async (a, b) => {
    const web = names(a).instanceRole;
    expect(await customer[a]!.simulateAs(web, 's3:GetObject', artifact(a))).toBe(ALLOW);
    expect(await customer[a]!.simulateAs(web, 's3:GetObject', artifact(b))).toBe(DENY);
    expect(await customer[a]!.simulateAs(web, 's3:PutObject', artifact(a))).toBe(DENY);
  });
});

describe('artifact folders', () => {
  test('every pipeline of the example has its own 20-character folder, and no folder starts another pipeline\'s name', () => {
    const pipes = [...CUSTOMERS.map((c) => pipe(c)), pipe('shop', 'staging', 'release'), pipe('shop', 'prod', 'main'), pipe('wiki', 'prod', 'main')];
    for (const p of pipes) expect(p.artifactFolder).toHaveLength(20);
    expect(new Set(pipes.map((p) => p.artifactFolder)).size).toBe(pipes.length);
    for (const x of pipes) for (const y of pipes) if (x !== y) expect(y.pipeline.startsWith(x.artifactFolder)).toBe(false);
  });
});
