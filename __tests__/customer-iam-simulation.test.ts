/**
 * Issue 9, least privilege per customer: IAM behaviour of each customer's web-server role over the
 * SYNTHESIZED policies, simulated with @cloud-copilot/iam-simulate. The role's inline policies come
 * from the customer stack (`dev-<customer>`); the artifact bucket policy and the KMS key policy from
 * the environment stack (`dev`), which the customer stack reads as upstream. Values known only after
 * apply (the env key ARN, the RDS-managed secret ARNs) are placeholders (support/iam.ts).
 *
 * Customers differ: shop has a PostgreSQL database, blog none, wiki MySQL. Every ordered pair (A, B)
 * runs the cross-customer table, so "A cannot reach B" is checked in both directions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { buildPlatform } from '../stacks/platform';
import { exampleConfig } from './support/config';
import { Context, Decision, PolicyDoc, StackPolicies, placeholderDbSecretArn, simulate } from './support/iam';
import { StackJson, resources, synthAllStacks } from './support/synth';

const ALLOW: Decision = 'Allowed';
const DENY: Decision = 'ImplicitlyDenied';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const PROJECT = 'acme-web';

const all = synthAllStacks();
const dev = new StackPolicies(all.get('dev')!);
const staging = new StackPolicies(all.get('staging')!);
const KEY = dev.key().arn;

/** The dev customers and the branch each one's software releases come from in dev (config/platform.yaml). */
const BRANCH: Record<string, string> = { shop: 'develop', blog: 'main', wiki: 'develop' };
const CUSTOMERS = Object.keys(BRANCH);
const customer = Object.fromEntries(CUSTOMERS.map((c) => [c, new StackPolicies(all.get(`dev-${c}`)!, [dev])]));
const hasDatabase = (c: string) => Object.keys(resources(customer[c]!.json, 'aws_db_instance')).length > 0;

const webRole = (c: string, env = 'dev') => `${PROJECT}-${env}-${c}-web`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const bucket = (env = 'dev') => `arn:aws:s3:::${PROJECT}-${env}-artifacts-${ACCOUNT}-${REGION}`;
const object = (key: string, env = 'dev') => `${bucket(env)}/${key}`;
const release = (c: string, env = 'dev') => object(`software/${c}/${BRANCH[c]}.zip`, env);
const appLogGroup = (c: string, env = 'dev') => `/${PROJECT}/${env}/customers/${c}/app`;
const logGroupArn = (group: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}`;
const logStream = (group: string, stream = 'i-0123456789abcdef0') => `${logGroupArn(group)}:log-stream:${stream}`;
const namespace = (c: string, env = 'dev') => `${PROJECT}/${env}/${c}`;
const param = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
const ec2 = (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`;
const elb = (resource: string) => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:${resource}`;
const asg = (name: string) => `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:6d4ad2a4-1b6e-4a3c-9a0e-0c8f9e8b2f11:autoScalingGroupName/${name}`;
const listenerRule = () => elb(`listener-rule/app/${PROJECT}-dev/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`);
const targetGroup = (c: string) => elb(`targetgroup/${PROJECT}-dev-${c}/73e2d6bc24d8a067`);
const project = (name: string) => `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${name}`;
const via = (service: string): Context => ({ 'kms:ViaService': `${service}.${REGION}.amazonaws.com` });
const secretContext = (secretArn: string): Context => ({ ...via('secretsmanager'), 'kms:EncryptionContext:SecretARN': secretArn });
const metrics = (ns: string): Context => ({ 'cloudwatch:namespace': ns });
const INSTANCE = ec2('instance/i-0123456789abcdef0');

/** [description, action, resource, context, expected decision]. */
type Row = [string, string, string, Context, Decision];

/**
 * One request by customer `as`'s role. The resource policy is that of whichever synthesized stack
 * owns the resource: the customer's environment (bucket, key), another customer stack (trust
 * policies of other customers' roles), or staging (its bucket).
 */
function simulateAs(as: string, action: string, resource: string, context: Context, stacks = customer): Promise<Decision> {
  const self = stacks[as]!;
  const owners = [self, ...CUSTOMERS.filter((c) => c !== as).map((c) => stacks[c]!), staging];
  const resourcePolicy: PolicyDoc | undefined = owners.map((s) => s.resourcePolicyFor(action, resource)).find((p) => p !== undefined);
  return simulate({
    principal: self.roleArn(webRole(as)),
    action,
    resource,
    context,
    identityPolicies: self.identityPolicies(webRole(as)),
    resourcePolicy,
    defaultAccount: ACCOUNT,
  });
}

// ---------------------------------------------------------------------------------------------
// Allowed: what every customer's web servers need, and only of their own.
// ---------------------------------------------------------------------------------------------

function allowedRows(a: string): Row[] {
  const rows: Row[] = [
    [`reads its release software/${a}/${BRANCH[a]}.zip`, 's3:GetObject', release(a), {}, ALLOW],
    ['reads an older version of its release', 's3:GetObjectVersion', release(a), {}, ALLOW],
    [`lists software/${a}/`, 's3:ListBucket', bucket(), { 's3:prefix': `software/${a}/` }, ALLOW],
    [`lists under software/${a}/ (one branch)`, 's3:ListBucket', bucket(), { 's3:prefix': `software/${a}/${BRANCH[a]}` }, ALLOW],
    ['decrypts its releases with the environment key through S3', 'kms:Decrypt', KEY, via('s3'), ALLOW],
    ['creates a stream in its own log group', 'logs:CreateLogStream', logStream(appLogGroup(a)), {}, ALLOW],
    ['writes its own log group\'s streams', 'logs:PutLogEvents', logStream(appLogGroup(a)), {}, ALLOW],
    ['describes its own log group\'s streams', 'logs:DescribeLogStreams', logGroupArn(appLogGroup(a)), {}, ALLOW],
    [`puts metrics in its namespace ${namespace(a)}`, 'cloudwatch:PutMetricData', '*', metrics(namespace(a)), ALLOW],
    ['registers with Session Manager', 'ssm:UpdateInstanceInformation', INSTANCE, {}, ALLOW],
    ...['CreateControlChannel', 'CreateDataChannel', 'OpenControlChannel', 'OpenDataChannel'].map(
      (action): Row => [`Session Manager: ssmmessages:${action}`, `ssmmessages:${action}`, '*', {}, ALLOW],
    ),
  ];
  if (hasDatabase(a)) {
    const secret = customer[a]!.dbSecretArn();
    rows.push(
      ['reads its own database secret', 'secretsmanager:GetSecretValue', secret, {}, ALLOW],
      ['describes its own database secret', 'secretsmanager:DescribeSecret', secret, {}, ALLOW],
      ['decrypts its own secret through Secrets Manager (SecretARN context)', 'kms:Decrypt', KEY, secretContext(secret), ALLOW],
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Denied, whatever the other customers: platform resources, writes, other environments, escalation.
// ---------------------------------------------------------------------------------------------

function platformDeniedRows(a: string): Row[] {
  const ownSecretOf = (env: string) => placeholderDbSecretArn(REGION, ACCOUNT, `${PROJECT}-${env}-${a}`);
  return [
    // S3: read-only, own releases only.
    ['cannot overwrite its own release (read-only)', 's3:PutObject', release(a), {}, DENY],
    ['cannot delete its own release', 's3:DeleteObject', release(a), {}, DENY],
    ['cannot delete a version of its own release', 's3:DeleteObjectVersion', release(a), {}, DENY],
    ['cannot change the ACL of its own release', 's3:PutObjectAcl', release(a), {}, DENY],
    [`cannot read infrastructure/${a}/ (its own infrastructure artifacts)`, 's3:GetObject', object(`infrastructure/${a}/develop.zip`), {}, DENY],
    ['cannot read webhook/ (push configs)', 's3:GetObject', object('webhook/dev/abc.json'), {}, DENY],
    ['cannot read tooling/ (the source-fetch tool)', 's3:GetObject', object('tooling/source-fetch.zip'), {}, DENY],
    ['cannot read logs/cloudtrail/', 's3:GetObject', object(`logs/cloudtrail/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2025/01/01/x.json.gz`), {}, DENY],
    ['cannot read logs/vpc-flow/', 's3:GetObject', object(`logs/vpc-flow/AWSLogs/${ACCOUNT}/vpcflowlogs/x.log.gz`), {}, DENY],
    ['cannot list software/ (all customers)', 's3:ListBucket', bucket(), { 's3:prefix': 'software/' }, DENY],
    ['cannot list the whole bucket', 's3:ListBucket', bucket(), { 's3:prefix': '' }, DENY],
    [`cannot read software/${a}x/ (a customer whose name starts with ${a})`, 's3:GetObject', object(`software/${a}x/main.zip`), {}, DENY],
    [`cannot list software/${a}x/`, 's3:ListBucket', bucket(), { 's3:prefix': `software/${a}x/` }, DENY],
    ['cannot read the bucket policy', 's3:GetBucketPolicy', bucket(), {}, DENY],
    ['cannot change the bucket policy', 's3:PutBucketPolicy', bucket(), {}, DENY],
    // Other environments.
    ['cannot read its releases in staging\'s bucket', 's3:GetObject', release(a, 'staging'), {}, DENY],
    ['cannot read its releases in prod\'s bucket', 's3:GetObject', release(a, 'prod'), {}, DENY],
    ['cannot list its prefix in staging\'s bucket', 's3:ListBucket', bucket('staging'), { 's3:prefix': `software/${a}/` }, DENY],
    ['cannot read its staging database secret', 'secretsmanager:GetSecretValue', ownSecretOf('staging'), {}, DENY],
    ['cannot read its prod database secret', 'secretsmanager:GetSecretValue', ownSecretOf('prod'), {}, DENY],
    ['cannot write its staging log group', 'logs:PutLogEvents', logStream(appLogGroup(a, 'staging')), {}, DENY],
    ['cannot put metrics in its staging namespace', 'cloudwatch:PutMetricData', '*', metrics(namespace(a, 'staging')), DENY],
    // Logs: its group's streams only, not the group itself; no platform groups.
    ['cannot change its log group\'s retention', 'logs:PutRetentionPolicy', logGroupArn(appLogGroup(a)), {}, DENY],
    ['cannot delete its log group', 'logs:DeleteLogGroup', logGroupArn(appLogGroup(a)), {}, DENY],
    ['cannot create log groups', 'logs:CreateLogGroup', logGroupArn(`${appLogGroup(a)}-2`), {}, DENY],
    ['cannot disassociate the key from its log group', 'logs:DisassociateKmsKey', logGroupArn(appLogGroup(a)), {}, DENY],
    ['cannot read its own logs back (write-only)', 'logs:GetLogEvents', logStream(appLogGroup(a)), {}, DENY],
    ['cannot write the CloudTrail log group', 'logs:PutLogEvents', logStream(`/${PROJECT}/dev/cloudtrail`), {}, DENY],
    ['cannot delete the CloudTrail log group', 'logs:DeleteLogGroup', logGroupArn(`/${PROJECT}/dev/cloudtrail`), {}, DENY],
    ['cannot write the webhook Lambda log group', 'logs:PutLogEvents', logStream(`/${PROJECT}/dev/lambda/gitlab-webhook`), {}, DENY],
    ['cannot write the API Gateway log group', 'logs:PutLogEvents', logStream(`/${PROJECT}/dev/apigw/gitlab-webhook`), {}, DENY],
    ['cannot write the source-fetch log group', 'logs:PutLogEvents', logStream(`/${PROJECT}/dev/codebuild/gitlab-source-fetch-software`), {}, DENY],
    // Metrics: its namespace only.
    ['cannot put metrics in AWS/EC2', 'cloudwatch:PutMetricData', '*', metrics('AWS/EC2'), DENY],
    ['cannot put metrics in AWS/ApplicationELB (forging alarm inputs)', 'cloudwatch:PutMetricData', '*', metrics('AWS/ApplicationELB'), DENY],
    [`cannot put metrics in the environment namespace ${PROJECT}/dev`, 'cloudwatch:PutMetricData', '*', metrics(`${PROJECT}/dev`), DENY],
    [`cannot put metrics under its namespace (${namespace(a)}/x)`, 'cloudwatch:PutMetricData', '*', metrics(`${namespace(a)}/x`), DENY],
    ['cannot change alarms', 'cloudwatch:PutMetricAlarm', `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${PROJECT}-dev-${a}-unhealthy-hosts`, {}, DENY],
    // KMS: through S3 (and Secrets Manager for its secret) only; decrypt only.
    ['cannot decrypt with the key directly (no ViaService)', 'kms:Decrypt', KEY, {}, DENY],
    ['cannot decrypt through SSM', 'kms:Decrypt', KEY, via('ssm'), DENY],
    ['cannot decrypt through Lambda', 'kms:Decrypt', KEY, via('lambda'), DENY],
    ['cannot decrypt through CloudWatch Logs', 'kms:Decrypt', KEY, via('logs'), DENY],
    ['cannot decrypt through Secrets Manager without a SecretARN context', 'kms:Decrypt', KEY, via('secretsmanager'), DENY],
    ['cannot generate data keys through S3 (read-only)', 'kms:GenerateDataKey', KEY, via('s3'), DENY],
    ['cannot encrypt through S3', 'kms:Encrypt', KEY, via('s3'), DENY],
    ['cannot create grants on the key', 'kms:CreateGrant', KEY, via('s3'), DENY],
    ['cannot change the key policy', 'kms:PutKeyPolicy', KEY, {}, DENY],
    ['cannot decrypt with another key of the account, even through S3', 'kms:Decrypt', `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`, via('s3'), DENY],
    // SSM: Session Manager registration only; no parameters.
    ['cannot read the GitLab webhook token', 'ssm:GetParameter', param(`/${PROJECT}/dev/gitlab/webhook-token`), {}, DENY],
    ['cannot read the GitLab deploy token', 'ssm:GetParameter', param(`/${PROJECT}/dev/gitlab/deploy-token`), {}, DENY],
    ['cannot read the GitLab deploy token (GetParameters)', 'ssm:GetParameters', param(`/${PROJECT}/dev/gitlab/deploy-token`), {}, DENY],
    ['cannot read the GitLab parameters by path', 'ssm:GetParametersByPath', param(`/${PROJECT}/dev/gitlab`), {}, DENY],
    ['cannot run commands on instances', 'ssm:SendCommand', INSTANCE, {}, DENY],
    ['cannot start sessions itself', 'ssm:StartSession', INSTANCE, {}, DENY],
    ['cannot list secrets', 'secretsmanager:ListSecrets', '*', {}, DENY],
    // Escalation and the platform's control plane.
    ['cannot pass its own role', 'iam:PassRole', roleArn(webRole(a)), { 'iam:PassedToService': 'ec2.amazonaws.com' }, DENY],
    ['cannot pass the deploy role', 'iam:PassRole', roleArn(`${PROJECT}-dev-ec2-resource-deploy`), { 'iam:PassedToService': 'ec2.amazonaws.com' }, DENY],
    ['cannot assume the infrastructure pipeline role', 'sts:AssumeRole', roleArn(`${PROJECT}-dev-infrastructure-pipeline`), {}, DENY],
    ['cannot assume the deploy role', 'sts:AssumeRole', roleArn(`${PROJECT}-dev-ec2-resource-deploy`), {}, DENY],
    ['cannot assume the webhook Lambda role', 'sts:AssumeRole', roleArn(`${PROJECT}-dev-gitlab-webhook`), {}, DENY],
    ['cannot assume its own staging role', 'sts:AssumeRole', roleArn(webRole(a, 'staging')), {}, DENY],
    ['cannot attach policies to its own role', 'iam:PutRolePolicy', roleArn(webRole(a)), {}, DENY],
    ['cannot launch instances', 'ec2:RunInstances', INSTANCE, {}, DENY],
    ['cannot terminate instances', 'ec2:TerminateInstances', INSTANCE, {}, DENY],
    ['cannot open its security group', 'ec2:AuthorizeSecurityGroupIngress', ec2('security-group/sg-0123456789abcdef0'), {}, DENY],
    ['cannot resize its own auto scaling group', 'autoscaling:SetDesiredCapacity', asg(`${PROJECT}-dev-${a}-web`), {}, DENY],
    ['cannot modify the listener rules', 'elasticloadbalancing:ModifyRule', listenerRule(), {}, DENY],
    ['cannot start the software source fetch', 'codebuild:StartBuild', project(`${PROJECT}-dev-gitlab-source-fetch-software`), {}, DENY],
    ['cannot start the infrastructure source fetch', 'codebuild:StartBuild', project(`${PROJECT}-dev-gitlab-source-fetch-infrastructure`), {}, DENY],
    ['cannot invoke the webhook Lambda', 'lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${PROJECT}-dev-gitlab-webhook`, {}, DENY],
    ['cannot stop the CloudTrail trail', 'cloudtrail:StopLogging', `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${PROJECT}-dev-trail`, {}, DENY],
  ];
}

// ---------------------------------------------------------------------------------------------
// Denied across customers: A on B's resources.
// ---------------------------------------------------------------------------------------------

function crossDeniedRows(_a: string, b: string): Row[] {
  const rows: Row[] = [
    [`cannot read ${b}'s release`, 's3:GetObject', release(b), {}, DENY],
    [`cannot read an older version of ${b}'s release`, 's3:GetObjectVersion', release(b), {}, DENY],
    [`cannot overwrite ${b}'s release`, 's3:PutObject', release(b), {}, DENY],
    [`cannot delete ${b}'s release`, 's3:DeleteObject', release(b), {}, DENY],
    [`cannot list software/${b}/`, 's3:ListBucket', bucket(), { 's3:prefix': `software/${b}/` }, DENY],
    [`cannot read infrastructure/${b}/`, 's3:GetObject', object(`infrastructure/${b}/develop.zip`), {}, DENY],
    [`cannot read ${b}'s release in staging`, 's3:GetObject', release(b, 'staging'), {}, DENY],
    [`cannot create a stream in ${b}'s log group`, 'logs:CreateLogStream', logStream(appLogGroup(b)), {}, DENY],
    [`cannot write ${b}'s log group`, 'logs:PutLogEvents', logStream(appLogGroup(b)), {}, DENY],
    [`cannot describe ${b}'s log streams`, 'logs:DescribeLogStreams', logGroupArn(appLogGroup(b)), {}, DENY],
    [`cannot put metrics in ${b}'s namespace`, 'cloudwatch:PutMetricData', '*', metrics(namespace(b)), DENY],
    [`cannot pass ${b}'s role`, 'iam:PassRole', roleArn(webRole(b)), { 'iam:PassedToService': 'ec2.amazonaws.com' }, DENY],
    [`cannot assume ${b}'s role`, 'sts:AssumeRole', roleArn(webRole(b)), {}, DENY],
    [`cannot update ${b}'s auto scaling group`, 'autoscaling:UpdateAutoScalingGroup', asg(`${PROJECT}-dev-${b}-web`), {}, DENY],
    [`cannot resize ${b}'s auto scaling group`, 'autoscaling:SetDesiredCapacity', asg(`${PROJECT}-dev-${b}-web`), {}, DENY],
    [`cannot refresh ${b}'s instances`, 'autoscaling:StartInstanceRefresh', asg(`${PROJECT}-dev-${b}-web`), {}, DENY],
    [`cannot change ${b}'s listener rule`, 'elasticloadbalancing:ModifyRule', listenerRule(), {}, DENY],
    [`cannot register targets in ${b}'s target group`, 'elasticloadbalancing:RegisterTargets', targetGroup(b), {}, DENY],
    [`cannot start a session on ${b}'s instance`, 'ssm:StartSession', ec2('instance/i-0fedcba9876543210'), {}, DENY],
  ];
  if (hasDatabase(b)) {
    const secret = customer[b]!.dbSecretArn();
    rows.push(
      [`cannot read ${b}'s database secret`, 'secretsmanager:GetSecretValue', secret, {}, DENY],
      [`cannot describe ${b}'s database secret`, 'secretsmanager:DescribeSecret', secret, {}, DENY],
      [`cannot decrypt ${b}'s secret through Secrets Manager (${b}'s SecretARN context)`, 'kms:Decrypt', KEY, secretContext(secret), DENY],
    );
  }
  return rows;
}

const PAIRS = CUSTOMERS.flatMap((a) => CUSTOMERS.filter((b) => b !== a).map((b) => [a, b] as const));

describe('the example config has the customer mix this file relies on', () => {
  test('shop and wiki have a database, blog none; each has its own stack and role in dev', () => {
    expect(CUSTOMERS.map((c) => [c, hasDatabase(c)])).toEqual([['shop', true], ['blog', false], ['wiki', true]]);
    // The web role, plus the software pipeline's three roles (customer-pipeline-iam.test.ts).
    for (const c of CUSTOMERS) expect(customer[c]!.roleNames()).toContain(webRole(c));
  });

  test('secret placeholders differ per customer and name the customer', () => {
    expect(customer.shop!.dbSecretArn()).toMatch(/^arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!db-acme-web-dev-shop-/);
    expect(customer.wiki!.dbSecretArn()).toMatch(/secret:rds!db-acme-web-dev-wiki-/);
  });

  test('the customer stacks reference the environment key, resolved to the env stack\'s placeholder', () => {
    const kms = customer.shop!.identityPolicies(webRole('shop')).find((p) => p.name === `${webRole('shop')}-kms`)!;
    expect(kms.policy.Statement.map((s) => s.Resource)).toEqual([KEY, KEY]);
  });
});

describe.each(CUSTOMERS)('%s: allowed (its own resources)', (a) => {
  test.each(allowedRows(a))('%s', async (_, action, resource, context, expected) => {
    expect(await simulateAs(a, action, resource, context)).toBe(expected);
  });
});

describe.each(CUSTOMERS)('%s: denied (platform, writes, other environments)', (a) => {
  test.each(platformDeniedRows(a))('%s', async (_, action, resource, context, expected) => {
    expect(await simulateAs(a, action, resource, context)).toBe(expected);
  });
});

describe.each(PAIRS)('%s: denied on %s', (a, b) => {
  test.each(crossDeniedRows(a, b))('%s', async (_, action, resource, context, expected) => {
    expect(await simulateAs(a, action, resource, context)).toBe(expected);
  });
});

describe('customers without a database', () => {
  test('blog has no secret policy and no Secrets Manager decrypt statement', () => {
    const names = customer.blog!.identityPolicies(webRole('blog')).map((p) => p.name);
    expect(names.sort()).toEqual([webRole('blog'), `${webRole('blog')}-kms`]);
    const kms = customer.blog!.identityPolicies(webRole('blog')).find((p) => p.name === `${webRole('blog')}-kms`)!;
    expect(kms.policy.Statement.map((s) => s.Sid)).toEqual(['DecryptReleasesThroughS3']);
  });

  test.each(CUSTOMERS.filter(hasDatabase))('blog is denied %s\'s secret, and decrypting it', async (b) => {
    const secret = customer[b]!.dbSecretArn();
    expect(await simulateAs('blog', 'secretsmanager:GetSecretValue', secret, {})).toBe(DENY);
    expect(await simulateAs('blog', 'kms:Decrypt', KEY, secretContext(secret))).toBe(DENY);
  });
});

describe('CloudTrail logs stay out of reach of customer roles', () => {
  // The key policy has no account-wide decrypt statement for CloudTrail (reading trail logs takes an
  // explicit IAM grant on the key), and the bucket denies logs/cloudtrail/ to every customer role.
  const trailContext: Context = { 'kms:CallerAccount': ACCOUNT, 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${PROJECT}-dev-trail` };
  test.each(CUSTOMERS)('%s: kms:Decrypt with a CloudTrail context is denied', async (a) => {
    expect(await simulateAs(a, 'kms:Decrypt', KEY, trailContext)).toBe(DENY);
  });
  test.each(CUSTOMERS)('%s: the CloudTrail log files are unreadable', async (a) => {
    expect(await simulateAs(a, 's3:GetObject', object(`logs/cloudtrail/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2025/01/01/x.json.gz`), {})).toBe(DENY);
  });
});

describe('cdktf synth form (terraform_remote_state) resolves like the Testing form', () => {
  test('the customer roles\' policies are the same documents once placeholders are in', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'customer-iam-'));
    try {
      const app = new App({ outdir, skipValidation: true });
      buildPlatform(app, exampleConfig());
      app.synth();
      const read = (name: string): StackJson => JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8'));
      const realDev = new StackPolicies(read('dev'));
      for (const c of CUSTOMERS) {
        const real = read(`dev-${c}`);
        expect(JSON.stringify(real)).toContain('${data.terraform_remote_state.');
        expect(new StackPolicies(real, [realDev]).identityPolicies(webRole(c))).toEqual(customer[c]!.identityPolicies(webRole(c)));
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('the tables can fail', () => {
  /** The customer stacks with one textual change to every customer role's synthesized policies. */
  function mutated(from: string | RegExp, to: string): Record<string, StackPolicies> {
    return Object.fromEntries(
      CUSTOMERS.map((c) => {
        const json: StackJson = JSON.parse(JSON.stringify(customer[c]!.json));
        for (const p of Object.values(resources(json, 'aws_iam_role_policy'))) p.policy = p.policy.replace(from, to);
        return [c, new StackPolicies(json, [dev])];
      }),
    );
  }
  const flipped = async (stacks: Record<string, StackPolicies>, rows: readonly (readonly [string, Row])[]) => {
    const out: string[] = [];
    for (const [a, [name, action, resource, context, expected]] of rows) {
      if ((await simulateAs(a, action, resource, context, stacks)) !== expected) out.push(`${a}: ${name}`);
    }
    return out;
  };
  const crossRows = PAIRS.flatMap(([a, b]) => crossDeniedRows(a, b).map((r) => [a, r] as const));

  test('widening the release prefix to software/* flips the cross-customer release rows', async () => {
    const stacks = mutated(/\/software\/[a-z0-9-]+\/\*/, '/software/*');
    const out = await flipped(stacks, crossRows.filter(([, r]) => r[1] === 's3:GetObject' || r[1] === 's3:GetObjectVersion'));
    expect(out.length).toBeGreaterThanOrEqual(PAIRS.length * 2);
  });

  test('dropping the SecretARN condition flips the cross-customer decrypt rows of customers with a database', async () => {
    const stacks = mutated(/,"kms:EncryptionContext:SecretARN":"[^"]+"/, '');
    const out = await flipped(stacks, crossRows.filter(([a, r]) => r[1] === 'kms:Decrypt' && hasDatabase(a)));
    expect(out).toHaveLength(PAIRS.filter(([a, b]) => hasDatabase(a) && hasDatabase(b)).length);
  });

  test('dropping the S3 ViaService condition flips the direct-decrypt rows', async () => {
    const stacks = mutated(/,"Condition":\{"StringEquals":\{"kms:ViaService":"s3\.[^"]+"\}\}/, '');
    const rows = CUSTOMERS.flatMap((a) => platformDeniedRows(a).filter((r) => r[0] === 'cannot decrypt with the key directly (no ViaService)').map((r) => [a, r] as const));
    expect(rows).toHaveLength(CUSTOMERS.length);
    expect(await flipped(stacks, rows)).toHaveLength(CUSTOMERS.length);
  });

  test('a namespace condition with a wildcard flips the cross-customer metrics rows', async () => {
    const stacks = mutated(/"StringEquals":\{"cloudwatch:namespace":"acme-web\/dev\/[a-z0-9-]+"\}/, '"StringLike":{"cloudwatch:namespace":"acme-web/dev/*"}');
    const out = await flipped(stacks, crossRows.filter(([, r]) => r[1] === 'cloudwatch:PutMetricData'));
    expect(out).toHaveLength(PAIRS.length);
  });

  test('a log group wildcard flips the cross-customer log rows', async () => {
    const stacks = mutated(/customers\/[a-z0-9-]+\/app/g, 'customers/*');
    const out = await flipped(stacks, crossRows.filter(([, r]) => r[1].startsWith('logs:')));
    expect(out).toHaveLength(PAIRS.length * 3);
  });
});

// ---------------------------------------------------------------------------------------------
// Plain JSON: no managed policies, no Resource "*" beyond the documented statements.
// ---------------------------------------------------------------------------------------------

describe('customer roles, as synthesized in every environment', () => {
  const customerStacks = [...all.entries()].filter(([, json]) => Object.values(resources(json, 'aws_iam_role')).some((r) => r.tags?.customer));
  const DOCUMENTED_STAR: Record<string, readonly string[]> = {
    PutMetricsInOwnNamespace: ['cloudwatch:PutMetricData'],
    SessionManager: ['ssm:UpdateInstanceInformation', 'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
    // The CodeDeploy role's describe calls (software-pipeline.ts), which have no resource-level permissions.
    DescribeFleet: [
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
  };
  /**
   * The image pipeline's "*" statements (image-pipeline.ts), in stacks of customers with an
   * infrastructure repository: describe calls and CodeBuild's VPC networking (no resource-level
   * permissions; VpcBuildNetworking once per build role), and the rollout's launch check, confined
   * by conditions (a launch template, the customer's own request tags).
   */
  const IMAGE_STAR: Record<string, readonly string[]> = {
    PackerDescribe: [
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
    VpcBuildNetworking: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'],
    RolloutDescribe: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeInstanceRefreshes', 'ec2:DescribeImages', 'ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions'],
    LaunchOwnTaggedInstancesFromTemplate: ['ec2:RunInstances', 'ec2:CreateTags'],
  };
  const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [String(v)]);

  test('every customer stack of the example config is covered', () => {
    expect(customerStacks.map(([name]) => name).sort()).toEqual(['dev-blog', 'dev-shop', 'dev-wiki', 'prod-shop', 'prod-wiki', 'staging-shop']);
  });

  test.each(customerStacks)('%s: no AWS managed (or any) policy attachment, no managed_policy_arns', (_, json) => {
    expect(resources(json, 'aws_iam_role_policy_attachment')).toEqual({});
    expect(resources(json, 'aws_iam_policy_attachment')).toEqual({});
    expect(resources(json, 'aws_iam_role_policies_exclusive')).toEqual({});
    for (const role of Object.values(resources(json, 'aws_iam_role'))) {
      expect(role.managed_policy_arns).toBeUndefined();
      expect(role.inline_policy).toBeUndefined();
    }
  });

  test.each(customerStacks)('%s: Resource "*" only in the documented statements, no wildcard actions, no Not*', (_, json) => {
    const statements = Object.values(resources(json, 'aws_iam_role_policy')).flatMap((p) => JSON.parse(p.policy).Statement as any[]);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
      expect(s.Principal).toBeUndefined();
      for (const action of list(s.Action)) expect(action).not.toMatch(/\*/);
      for (const resource of list(s.Resource)) {
        if (resource.includes('*')) {
          // Wildcards only as the documented "*", the log group's streams (`<group>:*`), the
          // release prefix (`software/<customer>/*`), a pipeline artifact folder (20 characters,
          // `<folder>*`), the auto scaling group's id (`autoScalingGroup:*:autoScalingGroupName/<name>`)
          // and the target group's id (`targetgroup/<name>/*`).
          expect(
            resource === '*' ||
              /:log-group:[^*]+:\*$/.test(resource) ||
              /:::[^/*]+\/software\/[a-z0-9-]+\/\*$/.test(resource) ||
              /:::[^/*]+\/[a-z0-9-]{20}\*$/.test(resource) ||
              /:autoScalingGroup:\*:autoScalingGroupName\/[^*]+$/.test(resource) ||
              /:targetgroup\/[^*/]+\/\*$/.test(resource) ||
              // Image pipeline: EC2 resources of a kind, confined by tag conditions (image-pipeline-iam.test.ts).
              /^arn:aws:ec2:[a-z0-9-]+:(\d{12})?:(instance|volume|subnet|security-group|image|snapshot|key-pair|network-interface|launch-template)\/\*$/.test(resource),
          ).toBe(true);
        }
      }
      if (list(s.Resource).includes('*')) {
        const documented = { ...DOCUMENTED_STAR, ...IMAGE_STAR };
        expect(Object.keys(documented)).toContain(s.Sid);
        expect(list(s.Action).sort()).toEqual([...documented[s.Sid]!].sort());
      }
    }
    const star = statements.filter((s) => list(s.Resource).includes('*'));
    const image = Object.values(resources(json, 'aws_codebuild_project')).length > 0;
    expect(star.map((s) => s.Sid).sort()).toEqual([...Object.keys(DOCUMENTED_STAR), ...(image ? [...Object.keys(IMAGE_STAR), 'VpcBuildNetworking'] : [])].sort());
    if (image) {
      expect(star.find((s) => s.Sid === 'LaunchOwnTaggedInstancesFromTemplate')!.Condition).toEqual({
        ArnLike: { 'ec2:LaunchTemplate': expect.stringMatching(/:launch-template\/\*$/) },
        StringEquals: { 'aws:RequestTag/customer': expect.any(String), 'aws:RequestTag/environment': expect.any(String), 'aws:RequestTag/project': 'acme-web' },
      });
    }
    // PutMetricData "*" is confined by a namespace condition.
    expect(star.find((s) => s.Sid === 'PutMetricsInOwnNamespace')!.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': expect.stringMatching(/^acme-web\/[a-z]+\/[a-z0-9-]+$/) } });
  });
});

describe('row counts', () => {
  const allowed = CUSTOMERS.flatMap(allowedRows);
  const denied = [...CUSTOMERS.flatMap(platformDeniedRows), ...PAIRS.flatMap(([a, b]) => crossDeniedRows(a, b))];
  test('at least 30 denied rows per customer, more denies than allows', () => {
    for (const a of CUSTOMERS) {
      const mine = platformDeniedRows(a).length + PAIRS.filter(([x]) => x === a).reduce((n, [x, b]) => n + crossDeniedRows(x, b).length, 0);
      expect(mine).toBeGreaterThanOrEqual(30);
    }
    expect(allowed.every((r) => r[4] === ALLOW)).toBe(true);
    expect(denied.every((r) => r[4] === DENY)).toBe(true);
    expect(denied.length).toBeGreaterThan(allowed.length);
  });
});
