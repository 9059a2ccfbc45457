import { execFileSync } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { testCustomer } from './support/customer';
import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { CustomerWebTier, CustomerWebTierProps, webServerImage } from '../stacks/constructs/customer/web-tier';
import { PLACEHOLDER_UNIT, placeholderFileFor, shellQuote, terraformString, webUserData, WebUserDataProps } from '../stacks/constructs/customer/web-user-data';
import { architectureOf, WebTierSettings } from '../stacks/model/customers';
import { EnvironmentExports } from '../stacks/constructs/environment-exports';
import { PolicyDocument } from '../stacks/model/iam-policy';
import { resourceList, StackJson } from './support/synth';
import { synthScoped } from './support/scope';

const ACCOUNT = '111111111111';
const BUCKET = `p-dev-artifacts-${ACCOUNT}-eu-west-1`;
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ALB_SUFFIX = 'app/p-dev/50dc6c495c0c9188';
const TG_SUFFIX = 'targetgroup/p-dev-shop/73e2d6bc24d8a067';
const TG_ARN = `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:${TG_SUFFIX}`;
const TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:p-dev-alarms`;
const SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rds!db-0a1b2c3d-AbCdEf`;

const ENV: EnvironmentExports = {
  vpcId: 'vpc-0123456789abcdef0',
  nattedSubnetIds: ['subnet-0a', 'subnet-0b', 'subnet-0c'],
  privateSubnetIds: ['subnet-1a', 'subnet-1b', 'subnet-1c'],
  albArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/${ALB_SUFFIX}`,
  albArnSuffix: ALB_SUFFIX,
  albDnsName: 'p-dev-123.eu-west-1.elb.amazonaws.com',
  albZoneId: 'Z32O12XQLNTSW2',
  albSecurityGroupId: 'sg-0a1b',
  httpsListenerArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/${ALB_SUFFIX}/f2f7dc8efc522ab2`,
  shards: [],
  kmsKeyArn: KEY,
  artifactBucketName: BUCKET,
  artifactBucketArn: `arn:aws:s3:::${BUCKET}`,
  alarmTopicArn: TOPIC,
};

function settings(over: Partial<WebTierSettings> = {}): WebTierSettings {
  const base = testCustomer().web;
  return { ...base, ...over, architecture: architectureOf(over.instanceType ?? base.instanceType) };
}

function props(over: Partial<CustomerWebTierProps> = {}): CustomerWebTierProps {
  return {
    customer: 'shop',
    settings: settings(),
    environment: ENV,
    targetGroupArn: TG_ARN,
    targetGroupArnSuffix: TG_SUFFIX,
    logRetentionDays: 30,
    ...over,
  };
}

interface Built {
  readonly synth: string;
  readonly json: StackJson;
  readonly tier: CustomerWebTier;
}

function build(over: Partial<CustomerWebTierProps> | ((scope: Construct) => Partial<CustomerWebTierProps>) = {}): Built {
  let tier!: CustomerWebTier;
  const synth = synthScoped((scope) => {
    const given = typeof over === 'function' ? over(scope) : over;
    tier = new CustomerWebTier(scope, 'web', props(given));
  });
  return { synth, json: JSON.parse(synth), tier };
}

const one = (json: StackJson, type: string) => {
  const list = resourceList(json, type);
  expect(list).toHaveLength(1);
  return list[0];
};

/** The script inside `${base64encode("...")}`, Terraform string escapes undone; token expressions stay. */
function userDataText(json: StackJson): string {
  const raw: string = one(json, 'aws_launch_template').user_data;
  const m = /^\$\{base64encode\("([\s\S]*)"\)\}$/.exec(raw);
  if (!m) throw new Error(`user_data is not base64encode("..."): ${raw.slice(0, 80)}`);
  // Undo Terraform string escapes outside the ${...} token expressions.
  return m[1]!.replace(/\$\{[^}]*\}|\$\$\{|%%\{|\\(.)/g, (all, ch: string | undefined) => {
    if (all === '$${') return '${';
    if (all === '%%{') return '%{';
    if (ch === undefined) return all;
    return ch === 'n' ? '\n' : ch;
  });
}

function bashSyntaxOk(script: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'web-user-data-'));
  const file = join(dir, 'user-data.sh');
  writeFileSync(file, script);
  execFileSync('bash', ['-n', file]); // throws with bash's message on a syntax error
}

const hasBash = (() => {
  try {
    execFileSync('bash', ['-c', 'true']);
    return true;
  } catch {
    return false;
  }
})();
const bashTest = hasBash ? test : test.skip;

const statements = (doc: PolicyDocument) => doc.Statement;
const allStatements = (tier: CustomerWebTier) => Object.values(tier.documents).flatMap(statements);
const asList = (v: string | readonly string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

describe('CustomerWebTier launch template', () => {
  const { synth, json } = build();
  const lt = one(json, 'aws_launch_template');

  test('IMDSv2 only, hop limit 1, no key pair, monitoring on, default version follows', () => {
    expect(lt.metadata_options).toEqual({ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 });
    expect(lt.key_name).toBeUndefined();
    expect(lt.monitoring).toEqual({ enabled: true });
    expect(lt.update_default_version).toBe(true);
    expect(lt.name).toBe('p-dev-shop-web');
  });

  test('no public IP; the only interface carries the web security group', () => {
    expect(lt.network_interfaces).toEqual([
      { device_index: 0, associate_public_ip_address: 'false', delete_on_termination: 'true', security_groups: [expect.stringMatching(/^\$\{aws_security_group\.web_sg_[0-9A-F]+\.id\}$/)] },
    ]);
    expect(lt.vpc_security_group_ids).toBeUndefined();
  });

  test('encrypted gp3 root volume of rootVolumeGiB with the environment key, deleted on termination', () => {
    expect(synth).toHaveResourceWithProperties(LaunchTemplate, {
      block_device_mappings: [{ device_name: '/dev/xvda', ebs: { encrypted: 'true', kms_key_id: KEY, volume_type: 'gp3', volume_size: 20, delete_on_termination: 'true' } }],
    });
    expect(one(build({ settings: settings({ rootVolumeGiB: 64 }) }).json, 'aws_launch_template').block_device_mappings[0].ebs.volume_size).toBe(64);
  });

  test('the instance profile of its own role', () => {
    expect(lt.iam_instance_profile).toEqual({ arn: expect.stringMatching(/^\$\{aws_iam_instance_profile\.web_profile_[0-9A-F]+\.arn\}$/) });
  });

  test.each([
    ['t4g.small', 'arm64'],
    ['m7g.large', 'arm64'],
    ['t3.small', 'x86_64'],
    ['m7i.large', 'x86_64'],
  ] as const)('%s boots Amazon Linux 2023 for %s', (instanceType, arch) => {
    const t = one(build({ settings: settings({ instanceType }) }).json, 'aws_launch_template');
    expect(t.instance_type).toBe(instanceType);
    expect(t.image_id).toBe(`resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`);
    expect(t.image_id).toBe(webServerImage(arch));
  });

  test('instances and volumes are tagged with Name, customer, project and environment (default_tags do not reach them)', () => {
    expect(lt.tag_specifications.map((s: any) => s.resource_type).sort()).toEqual(['instance', 'volume']);
    for (const s of lt.tag_specifications) {
      expect(s.tags).toEqual({ Name: 'p-dev-shop-web', customer: 'shop', project: 'p', environment: 'dev' });
    }
    const tagged = one(build({ tags: { 'cost-center': 'cc-1' } }).json, 'aws_launch_template');
    expect(tagged.tag_specifications[0].tags['cost-center']).toBe('cc-1');
  });
});

describe('CustomerWebTier auto scaling group', () => {
  const { synth, json } = build({ settings: settings({ minCapacity: 2, desiredCapacity: 3, maxCapacity: 4 }) });
  const asg = one(json, 'aws_autoscaling_group');

  test('spans the natted subnets, registers in the target group, replaces instances failing the ELB check', () => {
    expect(synth).toHaveResourceWithProperties(AutoscalingGroup, {
      name: 'p-dev-shop-web',
      vpc_zone_identifier: ENV.nattedSubnetIds,
      target_group_arns: [TG_ARN],
      health_check_type: 'ELB',
      health_check_grace_period: 300,
      default_instance_warmup: 300,
    });
    expect([asg.min_size, asg.desired_capacity, asg.max_size]).toEqual([2, 3, 4]);
  });

  test('uses the launch template at its explicit latest version, never $Latest or $Default', () => {
    expect(asg.launch_template).toEqual({
      id: expect.stringMatching(/^\$\{aws_launch_template\.web_lt_[0-9A-F]+\.id\}$/),
      version: expect.stringMatching(/^\$\{aws_launch_template\.web_lt_[0-9A-F]+\.latest_version\}$/),
    });
    expect(JSON.stringify(asg)).not.toMatch(/\$Latest|\$Default/);
  });

  test('scaling owns desired_capacity; a bounded capacity wait; metrics and termination policies set', () => {
    expect(asg.lifecycle).toEqual({ ignore_changes: ['desired_capacity'] });
    expect(asg.wait_for_capacity_timeout).toBe('10m');
    expect(asg.min_elb_capacity).toBeUndefined();
    expect(asg.wait_for_elb_capacity).toBeUndefined();
    expect(asg.enabled_metrics).toEqual(expect.arrayContaining(['GroupInServiceInstances', 'GroupDesiredCapacity']));
    expect(asg.termination_policies).toEqual(['OldestLaunchTemplate', 'OldestInstance']);
  });

  test('propagates Name, customer, project and environment to its instances', () => {
    expect(asg.tag).toEqual(
      expect.arrayContaining([
        { key: 'Name', value: 'p-dev-shop-web', propagate_at_launch: true },
        { key: 'customer', value: 'shop', propagate_at_launch: true },
        { key: 'project', value: 'p', propagate_at_launch: true },
        { key: 'environment', value: 'dev', propagate_at_launch: true },
      ]),
    );
  });
});

describe('CustomerWebTier security group', () => {
  const { synth, json, tier } = build();

  test('a group of its own in the VPC, without inline rules', () => {
    expect(synth).toHaveResourceWithProperties(SecurityGroup, { name: 'p-dev-shop-web', vpc_id: ENV.vpcId });
    const sg = one(json, 'aws_security_group');
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    expect(tier).toBeDefined();
  });

  test('securityGroupId lets the database construct add its own web → database egress rule', () => {
    const synthWithDbRule = synthScoped((scope) => {
      const web = new CustomerWebTier(scope, 'web', props());
      new VpcSecurityGroupEgressRule(scope, 'db-egress', { securityGroupId: web.securityGroupId, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, referencedSecurityGroupId: 'sg-0db' });
    });
    const rule = resourceList(JSON.parse(synthWithDbRule), 'aws_vpc_security_group_egress_rule').find((r) => r.from_port === 5432);
    expect(rule.security_group_id).toMatch(/^\$\{aws_security_group\.web_sg_[0-9A-F]+\.id\}$/);
  });

  test('ingress only from the ALB security group, only on the app port', () => {
    const rules = resourceList(json, 'aws_vpc_security_group_ingress_rule');
    expect(rules).toEqual([
      expect.objectContaining({ referenced_security_group_id: ENV.albSecurityGroupId, ip_protocol: 'tcp', from_port: 8080, to_port: 8080, description: expect.stringMatching(/ALB/) }),
    ]);
    expect(rules[0].cidr_ipv4).toBeUndefined();
    const other = resourceList(build({ settings: settings({ appPort: 3000 }) }).json, 'aws_vpc_security_group_ingress_rule');
    expect([other[0].from_port, other[0].to_port]).toEqual([3000, 3000]);
  });

  test('egress only TCP 443, described; no database egress here', () => {
    expect(resourceList(json, 'aws_vpc_security_group_egress_rule')).toEqual([
      expect.objectContaining({ ip_protocol: 'tcp', from_port: 443, to_port: 443, cidr_ipv4: '0.0.0.0/0', description: expect.stringMatching(/HTTPS.*SSM.*Secrets Manager.*CloudWatch.*S3/) }),
    ]);
    const withDb = build({ database: { host: 'db.example.internal', port: 5432, name: 'shop', secretArn: SECRET } });
    expect(resourceList(withDb.json, 'aws_vpc_security_group_egress_rule')).toHaveLength(1);
  });
});

describe('CustomerWebTier instance role', () => {
  const { json, tier } = build();
  const withDb = build({ database: { host: 'db.example.internal', port: 5432, name: 'shop', secretArn: SECRET } });

  test('trusted by EC2 of this account only; a profile of its own', () => {
    const role = one(json, 'aws_iam_role');
    expect(role.name).toBe('p-dev-shop-web');
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      { Sid: 'TrustedServices', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(one(json, 'aws_iam_instance_profile')).toMatchObject({ name: 'p-dev-shop-web', role: expect.stringMatching(/^\$\{aws_iam_role\.web_role_[0-9A-F]+\.name\}$/) });
    expect(tier.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/p-dev-shop-web`);
  });

  test('no managed policies attached (they reach every parameter and every log group)', () => {
    expect(resourceList(json, 'aws_iam_role_policy_attachment')).toHaveLength(0);
    expect(resourceList(json, 'aws_iam_role').every((r) => r.managed_policy_arns === undefined)).toBe(true);
  });

  test('the deployed inline policies are exactly the exposed documents', () => {
    const deployed = Object.fromEntries(resourceList(withDb.json, 'aws_iam_role_policy').map((p) => [p.name, JSON.parse(p.policy)]));
    expect(deployed).toEqual(JSON.parse(JSON.stringify(withDb.tier.documents)));
    expect(Object.keys(tier.documents).sort()).toEqual(['p-dev-shop-web', 'p-dev-shop-web-kms']);
    expect(Object.keys(withDb.tier.documents).sort()).toEqual(['p-dev-shop-web', 'p-dev-shop-web-kms', 'p-dev-shop-web-secret']);
  });

  test('S3: objects and listing of its own release prefix only', () => {
    const s3 = allStatements(tier).filter((s) => asList(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `arn:aws:s3:::${BUCKET}/software/shop/*` }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}`, Condition: { StringLike: { 's3:prefix': ['software/shop/', 'software/shop/*'] } } }),
    ]);
  });

  test('logs: its own app log group and its streams only', () => {
    const logs = allStatements(tier).filter((s) => asList(s.Action).some((a) => a.startsWith('logs:')));
    const group = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/p/dev/customers/shop/app`;
    expect(logs).toHaveLength(1);
    expect(asList(logs[0]!.Resource)).toEqual([group, `${group}:*`]);
    expect(asList(logs[0]!.Action)).not.toContain('logs:CreateLogGroup');
  });

  test('KMS: decrypt only through S3 without a database; through Secrets Manager for exactly its secret with one', () => {
    expect(tier.documents['p-dev-shop-web-kms']!.Statement).toEqual([
      { Sid: 'DecryptReleasesThroughS3', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: KEY, Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } },
    ]);
    expect(withDb.tier.documents['p-dev-shop-web-kms']!.Statement[1]).toEqual({
      Sid: 'DecryptOwnDatabaseSecret',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com', 'kms:EncryptionContext:SecretARN': SECRET } },
    });
    expect(withDb.tier.documents['p-dev-shop-web-secret']!.Statement).toEqual([
      { Sid: 'ReadOwnDatabaseSecret', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRET },
    ]);
    expect(allStatements(tier).some((s) => asList(s.Action).some((a) => a.startsWith('secretsmanager:')))).toBe(false);
  });

  test('metrics only into its own namespace', () => {
    expect(allStatements(tier).filter((s) => asList(s.Action).includes('cloudwatch:PutMetricData'))).toEqual([
      { Sid: 'PutMetricsInOwnNamespace', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'p/dev/shop' } } },
    ]);
  });

  test('Resource "*" only for Session Manager and the namespace-bound PutMetricData; no wildcard actions', () => {
    for (const t of [tier, withDb.tier]) {
      const star = allStatements(t).filter((s) => asList(s.Resource).some((r) => r.includes('*') && !/\/software\/shop\/\*$|:log-group:\/p\/dev\/customers\/shop\/app:\*$/.test(r)));
      expect(star.map((s) => s.Sid).sort()).toEqual(['PutMetricsInOwnNamespace', 'SessionManager']);
      expect(star.find((s) => s.Sid === 'SessionManager')!.Action).toEqual([
        'ssm:UpdateInstanceInformation',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ]);
      expect(allStatements(t).flatMap((s) => asList(s.Action)).filter((a) => a.includes('*'))).toEqual([]);
    }
  });

  test('nothing of another customer: an own role per customer, no shared prefix', () => {
    const blog = build({ customer: 'blog' }).tier;
    const text = JSON.stringify(blog.documents);
    expect(text).toContain('software/blog/');
    expect(text).not.toContain('software/shop');
    expect(text).not.toMatch(/software\/\*|software\/"/);
  });
});

describe('CustomerWebTier app log group', () => {
  test('named per customer, encrypted with the environment key, with the given retention', () => {
    const { synth } = build({ logRetentionDays: 14 });
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/p/dev/customers/shop/app', kms_key_id: KEY, retention_in_days: 14, tags: { customer: 'shop' } });
  });
});

describe('CustomerWebTier scaling and alarms', () => {
  test('target tracking on ALB requests per target, labelled <alb suffix>/<target group suffix>', () => {
    const { json } = build({ settings: settings({ requestsPerTarget: 250 }) });
    const p = one(json, 'aws_autoscaling_policy');
    expect(p).toMatchObject({
      name: 'p-dev-shop-requests-per-target',
      policy_type: 'TargetTrackingScaling',
      autoscaling_group_name: expect.stringMatching(/^\$\{aws_autoscaling_group\.web_asg_[0-9A-F]+\.name\}$/),
      target_tracking_configuration: { target_value: 250, predefined_metric_specification: { predefined_metric_type: 'ALBRequestCountPerTarget', resource_label: `${ALB_SUFFIX}/${TG_SUFFIX}` } },
    });
    expect(p.depends_on).toBeUndefined();
  });

  test('the scaling policy depends on routedBy (the listener rule attaching the target group)', () => {
    const { json } = build((scope) => ({ routedBy: [new SecretsmanagerSecret(scope, 'listener-rule-stand-in', { name: 'x' })] }));
    expect(one(json, 'aws_autoscaling_policy').depends_on).toEqual(['aws_secretsmanager_secret.listener-rule-stand-in']);
  });

  const { json, tier } = build({ target5xxPerMinute: 25 });
  const alarms = Object.fromEntries(resourceList(json, 'aws_cloudwatch_metric_alarm').map((a) => [a.alarm_name, a]));

  test.each([
    ['p-dev-shop-unhealthy-hosts', 'UnHealthyHostCount', 'Maximum', 0],
    ['p-dev-shop-target-5xx', 'HTTPCode_Target_5XX_Count', 'Sum', 25],
  ] as const)('%s: %s (%s) > %i for 3 of 3 minutes, on the target group and the ALB, to the alarm topic', (name, metric, stat, threshold) => {
    expect(alarms[name]).toMatchObject({
      namespace: 'AWS/ApplicationELB',
      metric_name: metric,
      statistic: stat,
      threshold,
      comparison_operator: 'GreaterThanThreshold',
      period: 60,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      treat_missing_data: 'notBreaching',
      dimensions: { TargetGroup: TG_SUFFIX, LoadBalancer: ALB_SUFFIX },
      alarm_actions: [TOPIC],
      ok_actions: [TOPIC],
    });
  });

  test('the alarms are exposed; the 5XX threshold defaults to 10', () => {
    expect(tier.alarms.unhealthyHosts.alarmNameInput).toBe('p-dev-shop-unhealthy-hosts');
    expect(tier.alarms.target5xx.alarmNameInput).toBe('p-dev-shop-target-5xx');
    const byDefault = resourceList(build().json, 'aws_cloudwatch_metric_alarm').find((a) => a.metric_name === 'HTTPCode_Target_5XX_Count');
    expect(byDefault.threshold).toBe(10);
  });

  test('every taggable resource carries the customer tag', () => {
    const { json } = build();
    const untaggable = new Set(['aws_iam_role_policy', 'aws_autoscaling_policy', 'aws_autoscaling_group']);
    for (const [type, byId] of Object.entries(json.resource ?? {})) {
      if (untaggable.has(type)) continue;
      for (const r of Object.values(byId)) expect({ type, customer: (r as any).tags?.customer }).toEqual({ type, customer: 'shop' });
    }
  });
});

describe('CustomerWebTier user data', () => {
  test('writes the settings, starts the placeholder unit; no database settings without a database', () => {
    const text = userDataText(build().json);
    for (const line of [
      "CUSTOMER='shop'",
      "ENVIRONMENT='dev'",
      "PROJECT='p'",
      "AWS_REGION='eu-west-1'",
      "APP_PORT='8080'",
      "HEALTH_CHECK_PATH='/healthz'",
      "LOG_GROUP='/p/dev/customers/shop/app'",
      "METRICS_NAMESPACE='p/dev/shop'",
      `ARTIFACT_BUCKET='${BUCKET}'`,
      "RELEASE_PREFIX='software/shop/'",
    ]) {
      expect(text).toContain(`\n${line}\n`);
    }
    expect(text).not.toMatch(/DB_/);
    expect(text).toContain(`systemctl enable --now ${PLACEHOLDER_UNIT}`);
    expect(text).toContain('ExecStart=/usr/bin/python3 -m http.server 8080 --bind 0.0.0.0 --directory /var/lib/webapp/placeholder');
    expect(text).toMatch(/\nUser=webapp\n/);
    expect(text).toContain("HEALTH_FILE='/var/lib/webapp/placeholder/healthz'");
  });

  test('database tokens are interpolated (quoted by Terraform at apply time); the secret value never appears', () => {
    const { json } = build((scope) => {
      const secret = new SecretsmanagerSecret(scope, 'db-secret', { name: 'db' });
      const host = new TerraformVariable(scope, 'db-host', { type: 'string' });
      const port = new TerraformVariable(scope, 'db-port', { type: 'number' });
      return { database: { host: host.stringValue, port: port.numberValue, name: 'shop', secretArn: secret.arn } };
    });
    const text = userDataText(json);
    expect(text).toContain(`\nDB_HOST='\${replace(var.db-host, "'", "'\\\\''")}'\n`);
    expect(text).toContain("\nDB_PORT='${var.db-port}'\n");
    expect(text).toContain("\nDB_NAME='shop'\n");
    expect(text).toContain(`\nDB_SECRET_ARN='\${replace(aws_secretsmanager_secret.db-secret.arn, "'", "'\\\\''")}'\n`);
    expect(text).not.toMatch(/password|secret_string|GetSecretValue/i);
    // No TfToken markers left unresolved.
    expect(one(json, 'aws_launch_template').user_data).not.toMatch(/TfToken/);
  });

  bashTest('the synthesized script (tokens filled in) passes bash -n, with and without a database', () => {
    const { json } = build({ database: { host: 'db.example.internal', port: 5432, name: 'shop', secretArn: SECRET } });
    const text = userDataText(json);
    expect(text).toContain(`\nDB_SECRET_ARN='${SECRET}'\n`);
    bashSyntaxOk(text);
    bashSyntaxOk(userDataText(build().json));
  });
});

describe('webUserData (pure)', () => {
  const base: WebUserDataProps = {
    customer: 'shop',
    project: 'p',
    environment: 'dev',
    region: 'eu-west-1',
    appPort: 8080,
    healthCheckPath: '/healthz',
    logGroup: '/p/dev/customers/shop/app',
    metricsNamespace: 'p/dev/shop',
    artifactBucket: BUCKET,
    releasePrefix: 'software/shop/',
  };

  bashTest('quotes hostile values safely: sourcing the settings gives them back verbatim', () => {
    const nasty = `/a'b$(touch /tmp/pwned)&c;d*e`;
    const script = webUserData({ ...base, healthCheckPath: nasty, database: { host: "h'x", port: 5432, name: 'n`id`', secretArn: 'arn:x $HOME' } });
    bashSyntaxOk(script);
    const settingsFile = /<<'WEBAPP_SETTINGS'\n([\s\S]*?)\nWEBAPP_SETTINGS\n/.exec(script)![1]!;
    const dir = mkdtempSync(join(tmpdir(), 'web-settings-'));
    writeFileSync(join(dir, 'settings.env'), settingsFile);
    const out = execFileSync('bash', ['-c', `set -a; . "$1"; printf '%s\\n' "$HEALTH_CHECK_PATH" "$DB_HOST" "$DB_NAME" "$DB_SECRET_ARN"`, 'x', join(dir, 'settings.env')]).toString();
    expect(out).toBe([nasty, "h'x", 'n`id`', 'arn:x $HOME', ''].join('\n'));
  });

  test('the script is deterministic and starts with a shebang and strict mode', () => {
    expect(webUserData(base)).toBe(webUserData(base));
    expect(webUserData(base)).toMatch(/^#!\/bin\/bash\n[\s\S]*\nset -euo pipefail\n/);
  });

  test('documents the deployment contract: the first deployment stops and disables the placeholder', () => {
    expect(webUserData(base)).toMatch(/first deployment[\s\S]*disables webapp-placeholder\.service/);
  });

  test.each([
    ['/healthz', 'healthz'],
    ['/', 'index.html'],
    ['/health/', 'health/index.html'],
    ['/api/v1/health', 'api/v1/health'],
    ['/a%20b', 'a b'],
    ['//x', 'x'],
  ])('health check path %s is served from the file %s', (path, file) => {
    expect(placeholderFileFor(path)).toBe(file);
  });

  test.each([['/a/../b'], ['/./x'], ['/%zz'], ['/a%0Ab']])('health check path %s cannot be served', (path) => {
    expect(() => placeholderFileFor(path)).toThrow(/healthCheckPath/);
  });

  test('shellQuote and terraformString', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote(8080)).toBe(`'8080'`);
    expect(terraformString('a "b" \\ %{x} ${y}')).toBe('a \\"b\\" \\\\ %%{x} ${y}');
  });

  test('rejects literal values that could become Terraform interpolation', () => {
    expect(() => webUserData({ ...base, logGroup: '/x/${y}' })).toThrow(/logGroup must be a literal/);
    expect(() => webUserData({ ...base, appPort: 80 })).toThrow(/appPort/);
  });
});

describe('CustomerWebTier validation (before anything is created)', () => {
  const cases: [string, Partial<CustomerWebTierProps>, RegExp][] = [
    ['bad customer name', { customer: 'Shop_1' }, /customer must be 2-20 characters.*got "Shop_1"/],
    ['unknown instance type', { settings: settings({ instanceType: 'huge' }) }, /settings\.instanceType must be an EC2 instance type.*got "huge"/],
    ['architecture not matching the instance type', { settings: { ...settings({ instanceType: 't3.small' }), architecture: 'arm64' } }, /settings\.architecture must be "x86_64" for instance type t3\.small.*got "arm64"/],
    ['min > max', { settings: settings({ minCapacity: 3, desiredCapacity: 3, maxCapacity: 2 }) }, /settings\.maxCapacity must be at least settings\.minCapacity \(3\), got 2/],
    ['min 0', { settings: settings({ minCapacity: 0 }) }, /settings\.minCapacity must be a whole number from 1 to 100, got 0/],
    ['desired outside min..max', { settings: settings({ desiredCapacity: 5 }) }, /settings\.desiredCapacity must be a whole number from 1 to 2.*got 5/],
    ['privileged app port', { settings: settings({ appPort: 80 }) }, /settings\.appPort must be a whole number from 1024 to 65535.*got 80/],
    ['fractional app port', { settings: settings({ appPort: 8080.5 }) }, /settings\.appPort .*got 8080\.5/],
    ['health path without leading slash', { settings: settings({ healthCheckPath: 'healthz' }) }, /settings\.healthCheckPath must be a URL path.*got "healthz"/],
    ['health path with spaces', { settings: settings({ healthCheckPath: '/health z' }) }, /settings\.healthCheckPath must be a URL path/],
    ['health path with ..', { settings: settings({ healthCheckPath: '/a/../b' }) }, /settings\.healthCheckPath must be a path the placeholder server can answer.*got "\/a\/\.\.\/b"/],
    ['bad health matcher', { settings: settings({ healthCheckMatcher: 'ok' }) }, /settings\.healthCheckMatcher must be HTTP codes.*got "ok"/],
    ['tiny root volume', { settings: settings({ rootVolumeGiB: 4 }) }, /settings\.rootVolumeGiB must be a whole number from 8 to 16384.*got 4/],
    ['zero requests per target', { settings: settings({ requestsPerTarget: 0 }) }, /settings\.requestsPerTarget must be a whole number from 1.*got 0/],
    ['no natted subnets', { environment: { ...ENV, nattedSubnetIds: [] } }, /environment\.nattedSubnetIds must be at least one subnet id, got \[\]/],
    ['duplicate subnets', { environment: { ...ENV, nattedSubnetIds: ['subnet-0a', 'subnet-0a'] } }, /environment\.nattedSubnetIds must be distinct subnet ids/],
    ['not a VPC id', { environment: { ...ENV, vpcId: 'vpc_1' } }, /environment\.vpcId must be a VPC id.*got "vpc_1"/],
    ['not a security group id', { environment: { ...ENV, albSecurityGroupId: 'alb' } }, /environment\.albSecurityGroupId must be a security group id.*got "alb"/],
    ['bad ALB suffix', { environment: { ...ENV, albArnSuffix: 'p-dev' } }, /environment\.albArnSuffix must be an ALB ARN suffix app\/<name>\/<id>, got "p-dev"/],
    ['key of another account', { environment: { ...ENV, kmsKeyArn: KEY.replace(ACCOUNT, '222222222222') } }, /environment\.kmsKeyArn must be a KMS key ARN of 111111111111 in eu-west-1/],
    ['bucket ARN not of the bucket', { environment: { ...ENV, artifactBucketArn: 'arn:aws:s3:::other' } }, /environment\.artifactBucketArn must be the literal ARN of environment\.artifactBucketName.*got "arn:aws:s3:::other"/],
    ['bad bucket name', { environment: { ...ENV, artifactBucketName: 'Bad_Bucket', artifactBucketArn: 'arn:aws:s3:::Bad_Bucket' } }, /environment\.artifactBucketName must be a literal, valid S3 bucket name.*got "Bad_Bucket"/],
    ['topic of another region', { environment: { ...ENV, alarmTopicArn: TOPIC.replace('eu-west-1', 'us-east-1') } }, /environment\.alarmTopicArn must be an SNS topic ARN of 111111111111 in eu-west-1/],
    ['target group ARN of another account', { targetGroupArn: TG_ARN.replace(ACCOUNT, '222222222222') }, /targetGroupArn must be a target group ARN of 111111111111 in eu-west-1/],
    ['target group suffix is a full ARN', { targetGroupArnSuffix: TG_ARN }, /targetGroupArnSuffix must be a target group ARN suffix targetgroup\/<name>\/<id>/],
    ['retention not offered by CloudWatch', { logRetentionDays: 10 }, /logRetentionDays must be one of CloudWatch's retention periods.*got 10/],
    ['database port out of range', { database: { host: 'db.internal', port: 70000, name: 'shop', secretArn: SECRET } }, /database\.port must be a whole number from 1 to 65535, got 70000/],
    ['database host with a quote', { database: { host: "db'; rm", port: 5432, name: 'shop', secretArn: SECRET } }, /database\.host must be a DNS host name/],
    ['database name with a dash', { database: { host: 'db.internal', port: 5432, name: 'my-db', secretArn: SECRET } }, /database\.name must be a database name.*got "my-db"/],
    ['secret ARN of another account', { database: { host: 'db.internal', port: 5432, name: 'shop', secretArn: SECRET.replace(ACCOUNT, '222222222222') } }, /database\.secretArn must be a Secrets Manager secret ARN of 111111111111/],
    ['5XX threshold of 0', { target5xxPerMinute: 0 }, /target5xxPerMinute must be a whole number from 1 to 1000000, got 0/],
    ['reserved tag', { tags: { customer: 'other' } }, /tags\.customer must be absent: Name, customer, project, environment are set by the construct, got "other"/],
  ];

  test.each(cases)('%s', (_name, over, message) => {
    expect(() => build(over)).toThrow(message);
  });

  test('a failed validation creates nothing', () => {
    let created = -1;
    expect(() =>
      synthScoped((scope) => {
        try {
          new CustomerWebTier(scope, 'web', props({ settings: settings({ appPort: 80 }) }));
        } finally {
          created = scope.node.tryFindChild('web')?.node.children.length ?? 0;
        }
      }),
    ).toThrow(/appPort/);
    expect(created).toBe(0);
  });

  test('tokens pass where values are known only after apply (cross-stack references)', () => {
    expect(() =>
      build((scope) => {
        const v = (id: string) => new TerraformVariable(scope, id, { type: 'string' }).stringValue;
        return {
          environment: { ...ENV, vpcId: v('vpc'), albSecurityGroupId: v('alb-sg'), albArnSuffix: v('alb-suffix'), kmsKeyArn: v('key'), alarmTopicArn: v('topic'), nattedSubnetIds: [v('s1'), v('s2'), v('s3')] },
          targetGroupArn: v('tg'),
          targetGroupArnSuffix: v('tg-suffix'),
        };
      }),
    ).not.toThrow();
  });
});
