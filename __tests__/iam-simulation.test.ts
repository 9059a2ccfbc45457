/**
 * IAM behaviour of the synthesized dev stack, simulated with @cloud-copilot/iam-simulate: the four
 * pipeline roles (identity policies + the resource's policy), the trust policies, the artifact
 * bucket policy and the KMS key policy. Each row is one request and its expected decision.
 */
import { Context, Decision, StackPolicies, simulate } from './support/iam';
import { exampleConfig } from './support/config';
import { resourceList, synthStack } from './support/synth';

const ALLOW: Decision = 'Allowed';
const DENY: Decision = 'ImplicitlyDenied';
const EXPLICIT_DENY: Decision = 'ExplicitlyDenied';

const ACCOUNT = '111111111111';
const dev = StackPolicies.of('dev');
const KEY = dev.key().arn;

const bucket = (env = 'dev') => `arn:aws:s3:::acme-web-${env}-artifacts-${ACCOUNT}-eu-west-1`;
const object = (key: string, env = 'dev') => `${bucket(env)}/${key}`;
const role = (name: string, env = 'dev') => `acme-web-${env}-${name}`;
const roleArn = (name: string, env = 'dev') => `arn:aws:iam::${ACCOUNT}:role/${role(name, env)}`;
const asg = (name: string) => `arn:aws:autoscaling:eu-west-1:${ACCOUNT}:autoScalingGroup:6d4ad2a4-1b6e-4a3c-9a0e-0c8f9e8b2f11:autoScalingGroupName/${name}`;
const ec2 = (resource: string) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:${resource}`;
const elb = (resource: string) => `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:${resource}`;
const listener = (alb: string) => elb(`listener/app/${alb}/50dc6c495c0c9188/f2f7dc8efc522ab2`);
const listenerRule = (alb: string) => elb(`listener-rule/app/${alb}/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`);
const targetGroup = (name: string) => elb(`targetgroup/${name}/73e2d6bc24d8a067`);
const logStream = (group: string, stream = 'build-1') => `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${group}:log-stream:${stream}`;
const trailArn = (name = 'acme-web-dev-trail', account = ACCOUNT) => `arn:aws:cloudtrail:eu-west-1:${account}:trail/${name}`;

/** The resource carries these environment tags. */
const taggedFor = (env: string, project = 'acme-web'): Context => ({ 'aws:ResourceTag/project': project, 'aws:ResourceTag/environment': env });
/** The create call tags the new resource for this environment. */
const creatingFor = (env: string): Context => ({ 'aws:RequestTag/project': 'acme-web', 'aws:RequestTag/environment': env, 'aws:TagKeys': ['project', 'environment'] });
/** A customer resource of this environment: environment tags and the customer stacks' `customer` tag. */
const customerTagged = (env: string, project = 'acme-web'): Context => ({ ...taggedFor(env, project), 'aws:ResourceTag/customer': 'shop' });
/** A create call tagging the new resource for a customer of this environment. */
const creatingCustomer = (env: string): Context => ({ ...creatingFor(env), 'aws:RequestTag/customer': 'shop', 'aws:TagKeys': ['project', 'environment', 'customer'] });
const viaS3: Context = { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' };

interface RoleCase {
  /** Role name suffix (after acme-web-dev-). */
  readonly as: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Context;
  readonly expect: Decision;
}

const INFRA = 'infrastructure-pipeline';
/** A customer's instance role (built by the customer stacks, not in the environment stack). */
const CUSTOMER_WEB = 'shop-web';
const DEPLOY = 'ec2-resource-deploy';

const roleCases: [string, RoleCase][] = [
  // 1. Infrastructure pipeline
  ['infrastructure pipeline writes its artifact under infrastructure/', { as: INFRA, action: 's3:PutObject', resource: object('infrastructure/shop/develop.zip'), expect: ALLOW }],
  ['infrastructure pipeline reads its artifact under infrastructure/', { as: INFRA, action: 's3:GetObject', resource: object('infrastructure/shop/develop.zip'), expect: ALLOW }],
  ['infrastructure pipeline cannot write software/', { as: INFRA, action: 's3:PutObject', resource: object('software/shop/develop.zip'), expect: DENY }],
  ['infrastructure pipeline cannot read the webhook config', { as: INFRA, action: 's3:GetObject', resource: object('webhook/config.json'), expect: DENY }],
  ['infrastructure pipeline cannot delete its artifacts', { as: INFRA, action: 's3:DeleteObject', resource: object('infrastructure/shop/develop.zip'), expect: DENY }],
  ['no request over plain HTTP, even an allowed one', { as: INFRA, action: 's3:PutObject', resource: object('infrastructure/shop/develop.zip'), context: { 'aws:SecureTransport': 'false' }, expect: EXPLICIT_DENY }],
  ['infrastructure pipeline lists infrastructure/', { as: INFRA, action: 's3:ListBucket', resource: bucket(), context: { 's3:prefix': 'infrastructure/shop/' }, expect: ALLOW }],
  ['infrastructure pipeline cannot list software/', { as: INFRA, action: 's3:ListBucket', resource: bucket(), context: { 's3:prefix': 'software/' }, expect: DENY }],
  ['infrastructure pipeline cannot write the prod bucket', { as: INFRA, action: 's3:PutObject', resource: object('infrastructure/shop/main.zip', 'prod'), expect: DENY }],
  ['infrastructure pipeline assumes the EC2-resource deploy role', { as: INFRA, action: 'sts:AssumeRole', resource: roleArn(DEPLOY), expect: ALLOW }],
  ['infrastructure pipeline cannot assume the prod deploy role', { as: INFRA, action: 'sts:AssumeRole', resource: roleArn(DEPLOY, 'prod'), expect: DENY }],
  ['infrastructure pipeline writes its own log group', { as: INFRA, action: 'logs:PutLogEvents', resource: logStream('/acme-web/dev/codebuild/infrastructure-pipeline'), expect: ALLOW }],
  ['infrastructure pipeline cannot write the CloudTrail log group', { as: INFRA, action: 'logs:PutLogEvents', resource: logStream('/acme-web/dev/cloudtrail'), expect: DENY }],
  ['infrastructure pipeline cannot write prod logs', { as: INFRA, action: 'logs:PutLogEvents', resource: logStream('/acme-web/prod/codebuild/infrastructure-pipeline'), expect: DENY }],
  ['infrastructure pipeline starts its CodeBuild project', { as: INFRA, action: 'codebuild:StartBuild', resource: `arn:aws:codebuild:eu-west-1:${ACCOUNT}:project/acme-web-dev-infrastructure-pipeline-plan`, expect: ALLOW }],
  ['infrastructure pipeline cannot start a prod CodeBuild project', { as: INFRA, action: 'codebuild:StartBuild', resource: `arn:aws:codebuild:eu-west-1:${ACCOUNT}:project/acme-web-prod-infrastructure-pipeline-plan`, expect: DENY }],
  ['infrastructure pipeline encrypts artifacts through S3', { as: INFRA, action: 'kms:GenerateDataKey', resource: KEY, context: viaS3, expect: ALLOW }],
  ['infrastructure pipeline cannot call KMS directly', { as: INFRA, action: 'kms:Decrypt', resource: KEY, expect: DENY }],
  ['infrastructure pipeline cannot pass a customer instance role', { as: INFRA, action: 'iam:PassRole', resource: roleArn(CUSTOMER_WEB), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: DENY }],


  // 2. Software pipeline

  // 3. EC2-resource deploy role (customer resources only)
  ['deploy role updates an ASG of its environment', { as: DEPLOY, action: 'autoscaling:UpdateAutoScalingGroup', resource: asg('acme-web-dev-shop'), context: customerTagged('dev'), expect: ALLOW }],
  ['deploy role cannot touch an ASG tagged for another environment', { as: DEPLOY, action: 'autoscaling:UpdateAutoScalingGroup', resource: asg('acme-web-dev-shop'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role cannot touch the prod ASGs', { as: DEPLOY, action: 'autoscaling:DeleteAutoScalingGroup', resource: asg('acme-web-prod-shop'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role cannot touch an ASG of another project', { as: DEPLOY, action: 'autoscaling:UpdateAutoScalingGroup', resource: asg('acme-web-dev-shop'), context: customerTagged('dev', 'other'), expect: DENY }],
  ['deploy role creates a tagged ASG', { as: DEPLOY, action: 'autoscaling:CreateAutoScalingGroup', resource: asg('acme-web-dev-shop'), context: creatingCustomer('dev'), expect: ALLOW }],
  ['deploy role cannot create an untagged ASG', { as: DEPLOY, action: 'autoscaling:CreateAutoScalingGroup', resource: asg('acme-web-dev-shop'), expect: DENY }],
  ['deploy role cannot create an ASG tagged for prod', { as: DEPLOY, action: 'autoscaling:CreateAutoScalingGroup', resource: asg('acme-web-dev-shop'), context: creatingCustomer('prod'), expect: DENY }],
  ['deploy role cannot create an ASG outside its name prefix', { as: DEPLOY, action: 'autoscaling:CreateAutoScalingGroup', resource: asg('shop'), context: creatingCustomer('dev'), expect: DENY }],
  ['deploy role adds a tag to its ASG', { as: DEPLOY, action: 'autoscaling:CreateOrUpdateTags', resource: asg('acme-web-dev-shop'), context: { ...customerTagged('dev'), 'aws:TagKeys': ['team'], 'aws:RequestTag/team': 'web' }, expect: ALLOW }],
  ['deploy role cannot re-tag its ASG into another environment', { as: DEPLOY, action: 'autoscaling:CreateOrUpdateTags', resource: asg('acme-web-dev-shop'), context: { ...customerTagged('dev'), 'aws:TagKeys': ['environment'], 'aws:RequestTag/environment': 'prod' }, expect: DENY }],
  ['deploy role cannot remove the environment tag', { as: DEPLOY, action: 'autoscaling:DeleteTags', resource: asg('acme-web-dev-shop'), context: { ...customerTagged('dev'), 'aws:TagKeys': ['environment'] }, expect: DENY }],
  ['deploy role passes a customer instance role to EC2', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn(CUSTOMER_WEB), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: ALLOW }],
  ['deploy role cannot pass a customer instance role to Lambda', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn(CUSTOMER_WEB), context: { 'iam:PassedToService': 'lambda.amazonaws.com' }, expect: DENY }],
  ['deploy role cannot pass any other role', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn(INFRA), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: DENY }],
  ['deploy role cannot pass a prod customer instance role', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn(CUSTOMER_WEB, 'prod'), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: DENY }],
  ['deploy role creates a tagged launch template', { as: DEPLOY, action: 'ec2:CreateLaunchTemplate', resource: ec2('launch-template/lt-0123456789abcdef0'), context: creatingCustomer('dev'), expect: ALLOW }],
  ['deploy role cannot delete a prod launch template', { as: DEPLOY, action: 'ec2:DeleteLaunchTemplate', resource: ec2('launch-template/lt-0123456789abcdef0'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role opens a port on its security group', { as: DEPLOY, action: 'ec2:AuthorizeSecurityGroupIngress', resource: ec2('security-group/sg-0123456789abcdef0'), context: customerTagged('dev'), expect: ALLOW }],
  ['deploy role cannot open a port on a prod security group', { as: DEPLOY, action: 'ec2:AuthorizeSecurityGroupIngress', resource: ec2('security-group/sg-0123456789abcdef0'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role cannot delete an untagged security group', { as: DEPLOY, action: 'ec2:DeleteSecurityGroup', resource: ec2('security-group/sg-0123456789abcdef0'), expect: DENY }],
  ['deploy role launches tagged instances', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('instance/i-0123456789abcdef0'), context: creatingCustomer('dev'), expect: ALLOW }],
  ['deploy role cannot launch untagged instances', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('instance/i-0123456789abcdef0'), expect: DENY }],
  ['deploy role cannot launch into a prod subnet', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('subnet/subnet-0123456789abcdef0'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role cannot terminate instances directly', { as: DEPLOY, action: 'ec2:TerminateInstances', resource: ec2('instance/i-0123456789abcdef0'), context: customerTagged('dev'), expect: DENY }],
  ['deploy role cannot re-tag a prod security group (not on create)', { as: DEPLOY, action: 'ec2:CreateTags', resource: ec2('security-group/sg-0123456789abcdef0'), context: { ...customerTagged('prod'), 'aws:TagKeys': ['team'] }, expect: DENY }],
  ['deploy role changes a rule of its ALB', { as: DEPLOY, action: 'elasticloadbalancing:ModifyRule', resource: listenerRule('acme-web-dev'), context: customerTagged('dev'), expect: ALLOW }],
  ['deploy role cannot change a rule of the prod ALB', { as: DEPLOY, action: 'elasticloadbalancing:ModifyRule', resource: listenerRule('acme-web-prod'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role cannot change a rule tagged for prod on its ALB', { as: DEPLOY, action: 'elasticloadbalancing:DeleteRule', resource: listenerRule('acme-web-dev'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role adds a customer rule to its HTTPS listener', { as: DEPLOY, action: 'elasticloadbalancing:CreateRule', resource: dev.listenerArn(443), context: creatingCustomer('dev'), expect: ALLOW }],
  ['deploy role cannot add a rule to another ALB', { as: DEPLOY, action: 'elasticloadbalancing:CreateRule', resource: listener('acme-web-dev2'), context: creatingCustomer('dev'), expect: DENY }],
  ['deploy role registers targets in its target group', { as: DEPLOY, action: 'elasticloadbalancing:RegisterTargets', resource: targetGroup('shop-web'), context: customerTagged('dev'), expect: ALLOW }],
  ['deploy role cannot register targets in a prod target group', { as: DEPLOY, action: 'elasticloadbalancing:RegisterTargets', resource: targetGroup('shop-web'), context: customerTagged('prod'), expect: DENY }],
  ['deploy role describes instances', { as: DEPLOY, action: 'ec2:DescribeInstances', resource: '*', expect: ALLOW }],
  ['deploy role cannot read artifacts', { as: DEPLOY, action: 's3:GetObject', resource: object('software/shop/develop.zip'), expect: DENY }],
  ['deploy role cannot create IAM roles', { as: DEPLOY, action: 'iam:CreateRole', resource: roleArn('escalate'), expect: DENY }],
  ['deploy role cannot use the KMS key', { as: DEPLOY, action: 'kms:Decrypt', resource: KEY, context: viaS3, expect: DENY }],
];

// Issue 11 items 4 and 5: the deploy role reaches customer resources only, never platform ones.
const STATE_BUCKET = `arn:aws:s3:::acme-web-tfstate-${ACCOUNT}-eu-west-1`;
const stateOf = (env: string) => `${STATE_BUCKET}/acme-web/${env}/${env}.tfstate`;
const subnetTagged = (tier: string, env = 'dev'): Context => ({ ...taggedFor(env), 'aws:ResourceTag/tier': tier });
const platformCases: [string, RoleCase][] = [
  ['deploy role cannot add a rule to the port-80 (redirect) listener', { as: DEPLOY, action: 'elasticloadbalancing:CreateRule', resource: dev.listenerArn(80), context: creatingCustomer('dev'), expect: DENY }],
  ['deploy role cannot add a rule without a customer tag, even on the HTTPS listener', { as: DEPLOY, action: 'elasticloadbalancing:CreateRule', resource: dev.listenerArn(443), context: creatingFor('dev'), expect: DENY }],
  ['deploy role cannot change a listener rule without a customer tag', { as: DEPLOY, action: 'elasticloadbalancing:ModifyRule', resource: listenerRule('acme-web-dev'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot delete a listener rule without a customer tag', { as: DEPLOY, action: 'elasticloadbalancing:DeleteRule', resource: listenerRule('acme-web-dev'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot open ingress on the ALB security group', { as: DEPLOY, action: 'ec2:AuthorizeSecurityGroupIngress', resource: ec2('security-group/sg-0a1b00000000000a1'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot open egress on the NAT security group', { as: DEPLOY, action: 'ec2:AuthorizeSecurityGroupEgress', resource: ec2('security-group/sg-0a7000000000000a7'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot revoke rules of the NAT security group', { as: DEPLOY, action: 'ec2:RevokeSecurityGroupIngress', resource: ec2('security-group/sg-0a7000000000000a7'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot delete a platform security group', { as: DEPLOY, action: 'ec2:DeleteSecurityGroup', resource: ec2('security-group/sg-0a7000000000000a7'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot create a security group without a customer tag', { as: DEPLOY, action: 'ec2:CreateSecurityGroup', resource: ec2('security-group/sg-0123456789abcdef0'), context: creatingFor('dev'), expect: DENY }],
  ['deploy role creates a customer security group', { as: DEPLOY, action: 'ec2:CreateSecurityGroup', resource: ec2('security-group/sg-0123456789abcdef0'), context: creatingCustomer('dev'), expect: ALLOW }],
  ['deploy role creates it in the environment VPC', { as: DEPLOY, action: 'ec2:CreateSecurityGroup', resource: ec2('vpc/vpc-0123456789abcdef0'), context: taggedFor('dev'), expect: ALLOW }],
  ['deploy role cannot launch into a public subnet', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('subnet/subnet-0a0000000000000a0'), context: subnetTagged('public'), expect: DENY }],
  ['deploy role cannot launch into a private (database) subnet', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('subnet/subnet-0b0000000000000b0'), context: subnetTagged('private'), expect: DENY }],
  ['deploy role launches into a natted subnet', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('subnet/subnet-0c0000000000000c0'), context: subnetTagged('natted'), expect: ALLOW }],
  ['deploy role cannot launch into a prod natted subnet', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('subnet/subnet-0c0000000000000c0'), context: subnetTagged('natted', 'prod'), expect: DENY }],
  ['deploy role cannot launch instances without a customer tag', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('instance/i-0123456789abcdef0'), context: creatingFor('dev'), expect: DENY }],
  ['deploy role cannot launch from a NAT launch template', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('launch-template/lt-0a7000000000000a7'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot launch with the NAT security group', { as: DEPLOY, action: 'ec2:RunInstances', resource: ec2('security-group/sg-0a7000000000000a7'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot change a NAT launch template', { as: DEPLOY, action: 'ec2:CreateLaunchTemplateVersion', resource: ec2('launch-template/lt-0a7000000000000a7'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot update a NAT auto scaling group', { as: DEPLOY, action: 'autoscaling:UpdateAutoScalingGroup', resource: asg('acme-web-dev-nat-eu-west-1a'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot register targets in a target group without a customer tag', { as: DEPLOY, action: 'elasticloadbalancing:RegisterTargets', resource: targetGroup('acme-web-dev-x'), context: taggedFor('dev'), expect: DENY }],
  ['deploy role cannot remove the customer tag from a customer group', { as: DEPLOY, action: 'ec2:DeleteTags', resource: ec2('security-group/sg-0123456789abcdef0'), context: { ...customerTagged('dev'), 'aws:TagKeys': ['customer'] }, expect: DENY }],
  ['deploy role cannot move a customer group to another customer', { as: DEPLOY, action: 'ec2:CreateTags', resource: ec2('security-group/sg-0123456789abcdef0'), context: { ...customerTagged('dev'), 'aws:TagKeys': ['customer'], 'aws:RequestTag/customer': 'blog' }, expect: DENY }],
  ['deploy role adds another tag to a customer group', { as: DEPLOY, action: 'ec2:CreateTags', resource: ec2('security-group/sg-0123456789abcdef0'), context: { ...customerTagged('dev'), 'aws:TagKeys': ['team'], 'aws:RequestTag/team': 'web' }, expect: ALLOW }],
  ['deploy role cannot re-tag a platform security group', { as: DEPLOY, action: 'ec2:CreateTags', resource: ec2('security-group/sg-0a1b00000000000a1'), context: { ...taggedFor('dev'), 'aws:TagKeys': ['team'], 'aws:RequestTag/team': 'web' }, expect: DENY }],
  ['deploy role cannot pass a NAT slot role', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn('nat-eu-west-1a'), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: DENY }],
  ['deploy role cannot pass the removed environment-wide web-server role name', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn('web-server-instance'), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: DENY }],
  ['deploy role passes another customer\'s instance role of the environment', { as: DEPLOY, action: 'iam:PassRole', resource: roleArn('blog-web'), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, expect: ALLOW }],
  ['deploy role cannot write the CloudTrail log group', { as: DEPLOY, action: 'logs:PutLogEvents', resource: logStream('/acme-web/dev/cloudtrail'), expect: DENY }],
  ['deploy role cannot read the prod state', { as: DEPLOY, action: 's3:GetObject', resource: stateOf('prod'), expect: DENY }],
  ['deploy role cannot write the prod state', { as: DEPLOY, action: 's3:PutObject', resource: stateOf('prod'), expect: DENY }],
  ['infrastructure pipeline cannot write the prod state', { as: INFRA, action: 's3:PutObject', resource: stateOf('prod'), expect: DENY }],
  ['infrastructure pipeline cannot read the dev state either', { as: INFRA, action: 's3:GetObject', resource: stateOf('dev'), expect: DENY }],
];

describe('the deploy role reaches no platform resource (ALB listener 80, ALB and NAT groups, public subnets, NAT templates and groups, logs, state)', () => {
  test.each(platformCases)('%s', async (_, c) => {
    expect(await dev.simulateAs(role(c.as), c.action, c.resource, c.context)).toBe(c.expect);
  });
});

describe('the CloudTrail log group: nothing in the environment writes or changes it but CloudTrail\'s own role', () => {
  const group = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/acme-web/dev/cloudtrail`;
  const trailStream = logStream('/acme-web/dev/cloudtrail', `${ACCOUNT}_CloudTrail_eu-west-1`);
  const requests: [string, string][] = [
    ['logs:PutLogEvents', trailStream],
    ['logs:CreateLogStream', trailStream],
    ['logs:PutLogEvents', logStream('/acme-web/dev/cloudtrail', 'forged')],
    ['logs:DeleteLogStream', trailStream],
    ['logs:PutRetentionPolicy', group],
    ['logs:DeleteLogGroup', group],
    ['logs:PutSubscriptionFilter', group],
    ['logs:DisassociateKmsKey', group],
  ];
  const roles = dev.roleNames().filter((r) => r !== 'acme-web-dev-cloudtrail-logs');

  test('the stack has the roles this covers (pipelines, deploy, ingestion, NAT) and no web-server-instance role', () => {
    expect(roles.length).toBeGreaterThanOrEqual(6);
    expect(roles).not.toContain('acme-web-dev-web-server-instance');
    expect(roles).toContain('acme-web-dev-nat-eu-west-1a');
  });

  test.each(roles)('%s cannot write or change it', async (name) => {
    for (const [action, resource] of requests) expect([name, action, resource, await dev.simulateAs(name, action, resource)]).toEqual([name, action, resource, DENY]);
  });

  test('CloudTrail\'s role writes the trail\'s stream, and nothing else of the group', async () => {
    expect(await dev.simulateAs('acme-web-dev-cloudtrail-logs', 'logs:PutLogEvents', trailStream)).toBe(ALLOW);
    expect(await dev.simulateAs('acme-web-dev-cloudtrail-logs', 'logs:PutRetentionPolicy', group)).toBe(DENY);
    expect(await dev.simulateAs('acme-web-dev-cloudtrail-logs', 'logs:DeleteLogGroup', group)).toBe(DENY);
  });
});

describe('pipeline roles (identity policies + bucket, key and trust policies)', () => {
  test.each(roleCases)('%s', async (_, c) => {
    expect(await dev.simulateAs(role(c.as), c.action, c.resource, c.context)).toBe(c.expect);
  });
});

interface PrincipalCase {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Context;
  /** Identity policies of the principal. Default none. */
  readonly identity?: 'admin' | 'kms-reader';
  /** Account owning the resource, when the principal is of another account. Default: from the ARNs. */
  readonly resourceAccount?: string;
  readonly expect: Decision;
}

/** An administrator of the account: sts:AssumeRole on everything. */
const ADMIN_POLICY = [{ name: 'admin', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } }];

/** An auditor an administrator granted kms:Decrypt on the environment key (an IAM policy). */
const KMS_READER_POLICY = [{ name: 'kms-reader', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY }] } }];

const trustCases: [string, PrincipalCase][] = [
  ['only the infrastructure pipeline is trusted by the deploy role: an admin with sts:AssumeRole on * is not', { principal: `arn:aws:iam::${ACCOUNT}:role/admin`, identity: 'admin', action: 'sts:AssumeRole', resource: roleArn(DEPLOY), expect: DENY }],
  ['CodeBuild of this account assumes the infrastructure pipeline role', { principal: 'codebuild.amazonaws.com', action: 'sts:AssumeRole', resource: roleArn(INFRA), context: { 'aws:SourceAccount': ACCOUNT }, expect: ALLOW }],
  ['CodeBuild on behalf of another account cannot (confused deputy)', { principal: 'codebuild.amazonaws.com', action: 'sts:AssumeRole', resource: roleArn(INFRA), context: { 'aws:SourceAccount': '222222222222' }, expect: DENY }],
  ['CodeDeploy cannot assume the infrastructure pipeline role', { principal: 'codedeploy.amazonaws.com', action: 'sts:AssumeRole', resource: roleArn(INFRA), context: { 'aws:SourceAccount': ACCOUNT }, expect: DENY }],
];

const CT_LOG = object(`logs/cloudtrail/AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/2025/01/01/x.json.gz`);
const FLOW_LOG = object(`logs/vpc-flow/AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2025/01/01/x.log.gz`);
const fromLogs = { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:logs:eu-west-1:${ACCOUNT}:*` };

const bucketCases: [string, PrincipalCase][] = [
  ['CloudTrail writes this trail\'s log files under logs/cloudtrail/', { principal: 'cloudtrail.amazonaws.com', action: 's3:PutObject', resource: CT_LOG, context: { 'aws:SourceArn': trailArn() }, expect: ALLOW }],
  ['CloudTrail checks the bucket ACL for this trail', { principal: 'cloudtrail.amazonaws.com', action: 's3:GetBucketAcl', resource: bucket(), context: { 'aws:SourceArn': trailArn() }, expect: ALLOW }],
  ['another trail cannot write here', { principal: 'cloudtrail.amazonaws.com', action: 's3:PutObject', resource: CT_LOG, context: { 'aws:SourceArn': trailArn('someone-elses-trail', '222222222222') }, expect: DENY }],
  ['CloudTrail cannot write pipeline sources', { principal: 'cloudtrail.amazonaws.com', action: 's3:PutObject', resource: object('software/shop/develop.zip'), context: { 'aws:SourceArn': trailArn() }, expect: DENY }],
  ['log delivery writes VPC flow logs under logs/vpc-flow/', { principal: 'delivery.logs.amazonaws.com', action: 's3:PutObject', resource: FLOW_LOG, context: fromLogs, expect: ALLOW }],
  ['log delivery cannot write CloudTrail\'s prefix', { principal: 'delivery.logs.amazonaws.com', action: 's3:PutObject', resource: CT_LOG, context: fromLogs, expect: DENY }],
  ['log delivery cannot write flow-log files of another region into the prefix', { principal: 'delivery.logs.amazonaws.com', action: 's3:PutObject', resource: object(`logs/vpc-flow/AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2025/01/01/x.log.gz`), context: fromLogs, expect: DENY }],
  ['log delivery cannot write other delivered logs into the flow-log prefix', { principal: 'delivery.logs.amazonaws.com', action: 's3:PutObject', resource: object(`logs/vpc-flow/AWSLogs/${ACCOUNT}/elasticloadbalancing/eu-west-1/x.log.gz`), context: fromLogs, expect: DENY }],
  ['log delivery for another account cannot write', { principal: 'delivery.logs.amazonaws.com', action: 's3:PutObject', resource: FLOW_LOG, context: { 'aws:SourceAccount': '222222222222', 'aws:SourceArn': 'arn:aws:logs:eu-west-1:222222222222:*' }, expect: DENY }],
  ['a principal of another account cannot read sources', { principal: 'arn:aws:iam::222222222222:role/x', action: 's3:GetObject', resource: object('software/shop/develop.zip'), resourceAccount: ACCOUNT, expect: DENY }],
];

const CT_CONTEXT = { 'kms:EncryptionContext:aws:cloudtrail:arn': trailArn() };
const logsContext = (group: string) => ({ 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${group}` });

const keyCases: [string, PrincipalCase][] = [
  ['CloudTrail encrypts with its encryption context and this trail as source', { principal: 'cloudtrail.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...CT_CONTEXT, 'aws:SourceArn': trailArn() }, expect: ALLOW }],
  ['CloudTrail cannot encrypt without the CloudTrail encryption context', { principal: 'cloudtrail.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { 'aws:SourceArn': trailArn() }, expect: DENY }],
  ['CloudTrail cannot encrypt for another trail (source)', { principal: 'cloudtrail.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...CT_CONTEXT, 'aws:SourceArn': trailArn('acme-web-prod-trail') }, expect: DENY }],
  ['CloudTrail cannot encrypt with another account\'s trail context', { principal: 'cloudtrail.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { 'kms:EncryptionContext:aws:cloudtrail:arn': trailArn('x', '222222222222'), 'aws:SourceArn': trailArn() }, expect: DENY }],
  ['CloudTrail describes the key for this trail', { principal: 'cloudtrail.amazonaws.com', action: 'kms:DescribeKey', resource: KEY, context: { 'aws:SourceArn': trailArn() }, expect: ALLOW }],
  ['CloudTrail cannot decrypt', { principal: 'cloudtrail.amazonaws.com', action: 'kms:Decrypt', resource: KEY, context: { ...CT_CONTEXT, 'aws:SourceArn': trailArn() }, expect: DENY }],
  ['CloudTrail cannot schedule the key deletion', { principal: 'cloudtrail.amazonaws.com', action: 'kms:ScheduleKeyDeletion', resource: KEY, context: { 'aws:SourceArn': trailArn() }, expect: DENY }],
  ['CloudWatch Logs encrypts a log group of this environment', { principal: 'logs.eu-west-1.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: logsContext('/acme-web/dev/cloudtrail'), expect: ALLOW }],
  ['CloudWatch Logs decrypts the future webhook Lambda log group', { principal: 'logs.eu-west-1.amazonaws.com', action: 'kms:Decrypt', resource: KEY, context: logsContext('/acme-web/dev/lambda/gitlab-webhook'), expect: ALLOW }],
  ['CloudWatch Logs cannot use the key for a default Lambda log group', { principal: 'logs.eu-west-1.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: logsContext('/aws/lambda/anything'), expect: DENY }],
  ['CloudWatch Logs cannot use the key for prod log groups', { principal: 'logs.eu-west-1.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: logsContext('/acme-web/prod/cloudtrail'), expect: DENY }],
  ['CloudWatch Logs of another region cannot use the key', { principal: 'logs.us-east-1.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: logsContext('/acme-web/dev/cloudtrail'), expect: DENY }],
  ['log delivery encrypts flow logs for the artifact bucket (bucket key context)', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...fromLogs, 'kms:EncryptionContext:aws:s3:arn': bucket() }, expect: ALLOW }],
  ['log delivery encrypts a flow-log object of the artifact bucket (object context)', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...fromLogs, 'kms:EncryptionContext:aws:s3:arn': FLOW_LOG }, expect: ALLOW }],
  ['log delivery cannot use the key for another bucket of the account', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...fromLogs, 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::someone-elses-logs' }, expect: DENY }],
  ['log delivery cannot use the key for the prod artifact bucket', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...fromLogs, 'kms:EncryptionContext:aws:s3:arn': bucket('prod') }, expect: DENY }],
  ['log delivery cannot use the key outside S3 (no S3 context)', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: fromLogs, expect: DENY }],
  ['log delivery cannot use the key for another prefix of the artifact bucket', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { ...fromLogs, 'kms:EncryptionContext:aws:s3:arn': object('software/shop/main.zip') }, expect: DENY }],
  ['log delivery for another account cannot', { principal: 'delivery.logs.amazonaws.com', action: 'kms:GenerateDataKey', resource: KEY, context: { 'aws:SourceAccount': '222222222222', 'aws:SourceArn': 'arn:aws:logs:eu-west-1:222222222222:*' }, expect: DENY }],
  ['a principal of the account WITHOUT an IAM grant cannot decrypt CloudTrail log files (no key-policy-only access)', { principal: `arn:aws:iam::${ACCOUNT}:role/auditor`, action: 'kms:Decrypt', resource: KEY, context: { ...CT_CONTEXT, 'kms:CallerAccount': ACCOUNT }, expect: DENY }],
  ['a web-tier-like role of the account without a grant cannot decrypt CloudTrail log files', { principal: `arn:aws:iam::${ACCOUNT}:role/acme-web-dev-shop-web`, action: 'kms:Decrypt', resource: KEY, context: { ...CT_CONTEXT, 'kms:CallerAccount': ACCOUNT }, expect: DENY }],
  ['a principal of the account with an IAM grant on the key decrypts CloudTrail log files (root delegation)', { principal: `arn:aws:iam::${ACCOUNT}:role/auditor`, identity: 'kms-reader', action: 'kms:Decrypt', resource: KEY, context: { ...CT_CONTEXT, 'kms:CallerAccount': ACCOUNT }, expect: ALLOW }],
  ['a principal of another account cannot decrypt CloudTrail log files', { principal: 'arn:aws:iam::222222222222:role/auditor', action: 'kms:Decrypt', resource: KEY, context: { ...CT_CONTEXT, 'kms:CallerAccount': '222222222222' }, expect: DENY }],
  ['a principal of the account without IAM permission cannot decrypt anything else', { principal: `arn:aws:iam::${ACCOUNT}:role/auditor`, action: 'kms:Decrypt', resource: KEY, context: { 'kms:CallerAccount': ACCOUNT }, expect: DENY }],
];

function runPrincipalCase(c: PrincipalCase): Promise<Decision> {
  return simulate({
    principal: c.principal,
    action: c.action,
    resource: c.resource,
    context: c.context,
    identityPolicies: c.identity === 'admin' ? ADMIN_POLICY : c.identity === 'kms-reader' ? KMS_READER_POLICY : [],
    resourcePolicy: dev.resourcePolicyFor(c.action, c.resource),
    resourceAccount: c.resourceAccount,
    defaultAccount: ACCOUNT,
  });
}

describe('trust policies', () => {
  test.each(trustCases)('%s', async (_, c) => expect(await runPrincipalCase(c)).toBe(c.expect));
});

describe('artifact bucket policy (service principals, other accounts)', () => {
  test.each(bucketCases)('%s', async (_, c) => expect(await runPrincipalCase(c)).toBe(c.expect));
});

describe('KMS key policy', () => {
  test.each(keyCases)('%s', async (_, c) => expect(await runPrincipalCase(c)).toBe(c.expect));

  test.each(['dev', 'staging', 'prod'])('%s: no principal other than the account root has kms:*', (env) => {
    const { policy } = StackPolicies.of(env).key();
    const wildcard = policy.Statement.filter((s) => [s.Action].flat().some((a: string) => a === 'kms:*' || a === '*'));
    expect(wildcard).toEqual([expect.objectContaining({ Sid: 'AccountRootIamDelegation', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })]);
    for (const s of policy.Statement.filter((x) => x !== wildcard[0])) expect(s.Condition).toBeDefined();
  });
});

// NAT instances (issue 11 item 3): one role per slot, acting only on resources tagged with its slot.
const prod = StackPolicies.of('prod');
const SLOT_A = 'acme-web-prod-nat-eu-west-1a';
const SLOT_B = 'acme-web-prod-nat-eu-west-1b';
/** Tags of a NAT slot's instance, ENIs and Elastic IP. */
const slotTagged = (slot: string, env = 'prod'): Context => ({ ...taggedFor(env), 'aws:ResourceTag/nat-slot': slot });
/** A customer's web server: environment and customer tags, no slot tag. */
const webServerTags: Context = { ...taggedFor('prod'), 'aws:ResourceTag/customer': 'shop' };

const natCases: [string, RoleCase][] = [
  ['NAT A attaches its own static ENI', { as: SLOT_A, action: 'ec2:AttachNetworkInterface', resource: ec2('network-interface/eni-0aaaaaaaaaaaaaaaa'), context: slotTagged(SLOT_A), expect: ALLOW }],
  ['NAT A attaches it to its own instance', { as: SLOT_A, action: 'ec2:AttachNetworkInterface', resource: ec2('instance/i-0aaaaaaaaaaaaaaaa'), context: slotTagged(SLOT_A), expect: ALLOW }],
  ['NAT A takes its own Elastic IP', { as: SLOT_A, action: 'ec2:AssociateAddress', resource: ec2('elastic-ip/eipalloc-0aaaaaaaaaaaaaaaa'), context: slotTagged(SLOT_A), expect: ALLOW }],
  ['NAT A puts it on its own primary interface', { as: SLOT_A, action: 'ec2:AssociateAddress', resource: ec2('network-interface/eni-0aaaaaaaaaaaaaaa1'), context: slotTagged(SLOT_A), expect: ALLOW }],
  ['NAT A turns off source/destination checking on its own instance', { as: SLOT_A, action: 'ec2:ModifyInstanceAttribute', resource: ec2('instance/i-0aaaaaaaaaaaaaaaa'), context: slotTagged(SLOT_A), expect: ALLOW }],
  ['NAT A cannot take slot B\'s Elastic IP', { as: SLOT_A, action: 'ec2:AssociateAddress', resource: ec2('elastic-ip/eipalloc-0bbbbbbbbbbbbbbbb'), context: slotTagged(SLOT_B), expect: DENY }],
  ['NAT A cannot put its Elastic IP on slot B\'s interface', { as: SLOT_A, action: 'ec2:AssociateAddress', resource: ec2('network-interface/eni-0bbbbbbbbbbbbbbbb'), context: slotTagged(SLOT_B), expect: DENY }],
  ['NAT A cannot put an Elastic IP on a web server', { as: SLOT_A, action: 'ec2:AssociateAddress', resource: ec2('instance/i-0cccccccccccccccc'), context: webServerTags, expect: DENY }],
  ['NAT A cannot attach slot B\'s static ENI', { as: SLOT_A, action: 'ec2:AttachNetworkInterface', resource: ec2('network-interface/eni-0bbbbbbbbbbbbbbbb'), context: slotTagged(SLOT_B), expect: DENY }],
  ['NAT A cannot attach an ENI to slot B\'s instance', { as: SLOT_A, action: 'ec2:AttachNetworkInterface', resource: ec2('instance/i-0bbbbbbbbbbbbbbbb'), context: slotTagged(SLOT_B), expect: DENY }],
  ['NAT A cannot attach an ENI to a web server', { as: SLOT_A, action: 'ec2:AttachNetworkInterface', resource: ec2('instance/i-0cccccccccccccccc'), context: webServerTags, expect: DENY }],
  ['NAT A cannot attach an environment ENI without its slot tag', { as: SLOT_A, action: 'ec2:AttachNetworkInterface', resource: ec2('network-interface/eni-0cccccccccccccccc'), context: taggedFor('prod'), expect: DENY }],
  ['NAT A cannot modify a web server', { as: SLOT_A, action: 'ec2:ModifyInstanceAttribute', resource: ec2('instance/i-0cccccccccccccccc'), context: webServerTags, expect: DENY }],
  ['NAT A cannot modify slot B\'s instance', { as: SLOT_A, action: 'ec2:ModifyInstanceAttribute', resource: ec2('instance/i-0bbbbbbbbbbbbbbbb'), context: slotTagged(SLOT_B), expect: DENY }],
  ['NAT A cannot modify an instance tagged with its slot name in another environment', { as: SLOT_A, action: 'ec2:ModifyInstanceAttribute', resource: ec2('instance/i-0dddddddddddddddd'), context: slotTagged(SLOT_A, 'dev'), expect: DENY }],
  ['NAT A cannot change the security groups of its own instance', { as: SLOT_A, action: 'ec2:ModifyInstanceAttribute', resource: ec2('security-group/sg-0123456789abcdef0'), context: slotTagged(SLOT_A), expect: DENY }],
  ['NAT B cannot take slot A\'s Elastic IP', { as: SLOT_B, action: 'ec2:AssociateAddress', resource: ec2('elastic-ip/eipalloc-0aaaaaaaaaaaaaaaa'), context: slotTagged(SLOT_A), expect: DENY }],
  ['NAT B takes its own Elastic IP', { as: SLOT_B, action: 'ec2:AssociateAddress', resource: ec2('elastic-ip/eipalloc-0bbbbbbbbbbbbbbbb'), context: slotTagged(SLOT_B), expect: ALLOW }],
  ['NAT A cannot read artifacts', { as: SLOT_A, action: 's3:GetObject', resource: object('software/shop/main.zip', 'prod'), expect: DENY }],
];

describe('NAT instance roles: one per slot, each only on its own slot (prod, per-az)', () => {
  test.each(natCases)('%s', async (_, c) => {
    expect(await prod.simulateAs(c.as, c.action, c.resource, c.context)).toBe(c.expect);
  });

  test('one role per slot, trusted by EC2 only', async () => {
    for (const slot of [SLOT_A, SLOT_B, 'acme-web-prod-nat-eu-west-1c']) {
      expect(await simulate({ principal: 'ec2.amazonaws.com', action: 'sts:AssumeRole', resource: prod.roleArn(slot), resourcePolicy: prod.trustPolicy(slot), defaultAccount: ACCOUNT })).toBe(ALLOW);
      expect(await simulate({ principal: 'lambda.amazonaws.com', action: 'sts:AssumeRole', resource: prod.roleArn(slot), resourcePolicy: prod.trustPolicy(slot), defaultAccount: ACCOUNT })).toBe(DENY);
    }
  });
});

describe('the case tables', () => {
  const all = [...roleCases, ...trustCases, ...bucketCases, ...keyCases, ...natCases, ...platformCases].map(([, c]) => c.expect);
  test('have at least 40 cases, at least half of them denials', () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(all.filter((d) => d !== ALLOW).length * 2).toBeGreaterThanOrEqual(all.length);
  });
});

describe('every synthesized policy', () => {
  const cfg = exampleConfig();
  const stacks = cfg.environments.map((e) => e.name);

  test.each(stacks)('%s: no Allow of a whole service except the key root; "Resource": "*" only for read-only calls', (env) => {
    const json = synthStack(env, cfg);
    const docs = [
      ...resourceList(json, 'aws_iam_role_policy').map((p) => JSON.parse(p.policy)),
      ...resourceList(json, 'aws_iam_role').map((r) => JSON.parse(r.assume_role_policy)),
      ...resourceList(json, 'aws_s3_bucket_policy').map((p) => JSON.parse(p.policy)),
    ];
    for (const doc of docs) {
      for (const s of doc.Statement) {
        const actions: string[] = [s.Action].flat();
        if (s.Effect === 'Allow') expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
        if (s.Effect === 'Allow' && s.Resource === '*') {
          const writes = actions.filter((a) => !/^[a-z0-9-]+:(Describe|Get|List)/.test(a));
          // The one documented exception: a CodeBuild project in a VPC creates and deletes its own
          // ENIs, and AWS's service-role policy for that grants both on "*" (see gitlab-ingestion.ts).
          if (s.Sid === 'VpcBuildNetworking') expect(writes.sort()).toEqual(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']);
          else expect(writes).toEqual([]);
        }
      }
    }
  });

  test('inline policies stay within IAM\'s 10,240 characters per role, even with the longest allowed names', () => {
    const longest = exampleConfig((c) => {
      c.project = 'abcdefghijklmnopqrst';
      c.environments = [{ ...c.environments[0], name: 'abcdefghi' }];
      c.gitlab.repositories = [];
      c.customers = [];
    });
    const json = synthStack('abcdefghi', longest);
    const perRole = new Map<string, number>();
    for (const p of resourceList(json, 'aws_iam_role_policy')) {
      perRole.set(p.role, (perRole.get(p.role) ?? 0) + JSON.stringify(JSON.parse(p.policy)).length + 64 /* token ARN margin */);
    }
    expect(perRole.size).toBeGreaterThanOrEqual(5);
    for (const [, size] of perRole) expect(size).toBeLessThanOrEqual(10240);
  });
});
