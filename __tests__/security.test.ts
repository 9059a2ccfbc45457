import { Cloudtrail } from '@cdktf/provider-aws/lib/cloudtrail';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { ArtifactBucket, ArtifactBucketProps } from '../stacks/constructs/security/artifact-bucket';
import { AuditTrail, objectWrittenPattern } from '../stacks/constructs/security/audit-trail';
import { EnvironmentKey, EnvironmentKeyProps } from '../stacks/constructs/security/environment-key';
import { ARTIFACT_PREFIXES, CLOUDTRAIL_S3_KEY_PREFIX, sourcePrefix } from '../stacks/model/artifact-layout';
import { PipelineRoles } from '../stacks/constructs/security/pipeline-roles';
import { SecurityFoundation, SecurityFoundationProps } from '../stacks/constructs/security/security-foundation';
import { VpcFlowLog } from '../stacks/constructs/security/vpc-flow-log';
import { kmsViaService, logGroupWrite, s3ListPrefix, s3ObjectAccess } from '../stacks/constructs/iam/grants';
import { allOf, envRetagging } from '../stacks/model/iam-policy';
import { kmsAliasName, logGroupName, logGroupNames, logGroupPrefix, sourceRuleNames, trailName } from '../stacks/model/naming';
import { SecureBucket } from '../stacks/constructs/storage/secure-bucket';
import { exampleConfig } from './support/config';
import { TEST_SCOPE, synthScoped } from './support/scope';
import { resourceList, resources, synthStack } from './support/synth';

const ENV = TEST_SCOPE;
const TRAIL = 'arn:aws:cloudtrail:eu-west-1:111111111111:trail/p-dev-trail';
const BUCKET = 'p-dev-artifacts-111111111111-eu-west-1';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000';
const HTTPS_LISTENER_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/p-dev/50dc6c495c0c9188/f2f7dc8efc522ab2';

const foundationProps: SecurityFoundationProps = {
  ...ENV,
  kmsDeletionWindowDays: 7,
  cloudWatchLogRetentionDays: 3,
  s3LogExpirationDays: 1,
  noncurrentVersionExpirationDays: 30,
  flowLogVpcId: 'vpc-0123456789abcdef0',
  httpsListenerArn: HTTPS_LISTENER_ARN,
};

function foundation(over: Partial<SecurityFoundationProps> = {}) {
  const synth = synthScoped((scope) => new SecurityFoundation(scope, 'sec', { ...foundationProps, ...over }));
  return { synth, json: JSON.parse(synth) };
}

const statementsOf = (policy: string) => JSON.parse(policy).Statement as any[];
const sids = (policy: string) => statementsOf(policy).map((s) => s.Sid);

describe('naming and layout conventions', () => {
  test('every log group of an environment is /<project>/<env>/...', () => {
    expect(logGroupName(ENV, 'lambda', 'gitlab-webhook')).toBe('/p/dev/lambda/gitlab-webhook');
    expect(logGroupPrefix(ENV)).toBe('/p/dev/');
    for (const name of Object.values(logGroupNames(ENV))) expect(name.startsWith(logGroupPrefix(ENV))).toBe(true);
    expect(logGroupNames({ project: 'acme-web', env: 'dev' })).toEqual({
      cloudTrail: '/acme-web/dev/cloudtrail',
      infrastructurePipeline: '/acme-web/dev/codebuild/infrastructure-pipeline',
      sourceFetchSoftware: '/acme-web/dev/codebuild/gitlab-source-fetch-software',
      sourceFetchInfrastructure: '/acme-web/dev/codebuild/gitlab-source-fetch-infrastructure',
      webhookLambda: '/acme-web/dev/lambda/gitlab-webhook',
      webhookWorker: '/acme-web/dev/lambda/gitlab-worker',
      reconciler: '/acme-web/dev/lambda/gitlab-reconciler',
      webhookApi: '/acme-web/dev/apigw/gitlab-webhook',
    });
    expect(() => logGroupName(ENV)).toThrow(/at least one part/);
    expect(() => logGroupName(ENV, 'a/b')).toThrow(/may use only/);
  });

  test('key alias, trail and rule names', () => {
    expect(kmsAliasName(ENV)).toBe('alias/p-dev');
    expect(trailName(ENV)).toBe('p-dev-trail');
    expect(sourceRuleNames(ENV)).toEqual({ software: 'p-dev-software-source-written', infrastructure: 'p-dev-infrastructure-source-written' });
  });

  test('bucket prefixes are literal, end in "/", and logs live under logs/', () => {
    for (const prefix of Object.values(ARTIFACT_PREFIXES)) expect(prefix).toMatch(/^[a-z-]+(\/[a-z-]+)*\/$/);
    expect(ARTIFACT_PREFIXES.cloudTrailLogs.startsWith(ARTIFACT_PREFIXES.logs)).toBe(true);
    expect(ARTIFACT_PREFIXES.vpcFlowLogs.startsWith(ARTIFACT_PREFIXES.logs)).toBe(true);
    expect(CLOUDTRAIL_S3_KEY_PREFIX).toBe('logs/cloudtrail');
    expect(sourcePrefix('software')).toBe('software/');
  });
});

describe('grant statements', () => {
  test('object access, prefix listing, KMS through one service, log writing', () => {
    expect(s3ObjectAccess('W', BUCKET_ARN, 'webhook/', 'write')).toEqual({ Sid: 'W', Effect: 'Allow', Action: ['s3:PutObject'], Resource: `${BUCKET_ARN}/webhook/*` });
    expect(s3ListPrefix('L', BUCKET_ARN, 'software/').Condition).toEqual({ StringLike: { 's3:prefix': ['software/', 'software/*'] } });
    expect(kmsViaService('K', KEY_ARN, ['kms:Decrypt'], 's3', 'eu-west-1').Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } });
    expect(logGroupWrite('G', ENV, '/p/dev/lambda/x').Resource).toEqual([
      'arn:aws:logs:eu-west-1:111111111111:log-group:/p/dev/lambda/x',
      'arn:aws:logs:eu-west-1:111111111111:log-group:/p/dev/lambda/x:log-stream:*',
    ]);
  });

  test('reject wildcards and kms:*', () => {
    expect(() => s3ObjectAccess('W', BUCKET_ARN, 'software/*', 'read')).toThrow(/literal key prefix/);
    expect(() => s3ListPrefix('L', BUCKET_ARN, 'software')).toThrow(/ending in "\/"/);
    expect(() => kmsViaService('K', KEY_ARN, ['kms:*'], 's3', 'eu-west-1')).toThrow(/never kms:\*/);
  });

  test('condition helpers: re-tagging guard, merging', () => {
    expect(envRetagging('p', 'dev')).toEqual({
      StringEquals: { 'aws:ResourceTag/project': 'p', 'aws:ResourceTag/environment': 'dev' },
      'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['project', 'environment'] },
      Null: { 'aws:TagKeys': 'false' },
    });
    expect(allOf({ StringEquals: { a: '1' } }, { StringEquals: { b: '2' } })).toEqual({ StringEquals: { a: '1', b: '2' } });
    expect(() => allOf({ StringEquals: { a: '1' } }, { StringEquals: { a: '2' } })).toThrow(/given twice/);
  });
});

describe('EnvironmentKey', () => {
  const props: EnvironmentKeyProps = { deletionWindowDays: 7, cloudTrailArn: TRAIL, logDelivery: true };
  const synth = synthScoped((scope) => new EnvironmentKey(scope, 'key', props));
  const [key] = resourceList(JSON.parse(synth), 'aws_kms_key');

  test('customer-managed, rotated, deletion window from props, alias alias/<project>-<env>', () => {
    expect(synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 7 });
    expect(synth).toHaveResourceWithProperties(KmsAlias, { name: 'alias/p-dev' });
  });

  test('one statement per principal, each conditioned except the root delegation', () => {
    const statements = statementsOf(key.policy);
    expect(statements.map((s) => s.Sid)).toEqual([
      'AccountRootIamDelegation',
      'CloudTrailEncryptsThisTrailsLogs',
      'CloudTrailDescribesKey',
      'CloudWatchLogsEncryptsOwnLogGroups',
      'AlarmsOfThisEnvironmentUseTheAlarmTopic',
      'AutoScalingEncryptsCustomerVolumes',
      'AutoScalingGrantsForAttachedVolumes',
      'LogDeliveryEncryptsFlowLogsForArtifactBucket',
    ]);
    // No wildcard principal for reading: CloudTrail log files take an IAM grant (root delegation).
    // The only Principal "*" statements are Auto Scaling's, narrowed to its service-linked role's ARN.
    expect(JSON.stringify(statements)).not.toMatch(/"AWS":"\*"/);
    for (const s of statements.filter((x) => x.Principal === '*')) {
      expect(s.Condition.ArnEquals['aws:PrincipalArn']).toBe('arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling');
      expect(s.Action).not.toContain('kms:*');
    }
    for (const s of statements.slice(1)) expect(s.Condition).toBeDefined();
    const byId = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(byId.CloudTrailEncryptsThisTrailsLogs.Condition).toEqual({
      StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:111111111111:trail/*' },
      StringEquals: { 'aws:SourceArn': TRAIL },
    });
    expect(byId.CloudWatchLogsEncryptsOwnLogGroups.Principal).toEqual({ Service: 'logs.eu-west-1.amazonaws.com' });
    expect(byId.CloudWatchLogsEncryptsOwnLogGroups.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:111111111111:log-group:/p/dev/*' } });
    expect(byId.LogDeliveryEncryptsFlowLogsForArtifactBucket.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '111111111111' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:logs:eu-west-1:111111111111:*' },
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': [BUCKET_ARN, `${BUCKET_ARN}/logs/vpc-flow/*`] },
    });
  });

  test('no log-delivery statement without log delivery', () => {
    const json = JSON.parse(synthScoped((scope) => new EnvironmentKey(scope, 'key', { ...props, logDelivery: undefined })));
    expect(sids(resourceList(json, 'aws_kms_key')[0].policy)).not.toContain('LogDeliveryEncryptsFlowLogsForArtifactBucket');
  });

  test('validates its props before creating anything', () => {
    const bad = (over: Partial<EnvironmentKeyProps>) => () => synthScoped((scope) => new EnvironmentKey(scope, 'key', { ...props, ...over }));
    expect(bad({ deletionWindowDays: 6 })).toThrow(/7 to 30, got 6/);
    expect(bad({ deletionWindowDays: 31 })).toThrow(/7 to 30, got 31/);
    expect(() => synthScoped((scope) => new EnvironmentKey(scope, 'key', props), { account: '1234' })).toThrow(/12-digit/);
    expect(bad({ cloudTrailArn: 'arn:aws:cloudtrail:us-east-1:111111111111:trail/x' })).toThrow(/must be a trail of 111111111111 in eu-west-1/);
  });
});

describe('ArtifactBucket', () => {
  const props: ArtifactBucketProps = { kmsKeyArn: KEY_ARN, cloudTrailArn: TRAIL, logExpirationDays: 1, noncurrentVersionExpirationDays: 30, logDelivery: true };
  const synth = synthScoped((scope) => new ArtifactBucket(scope, 'artifacts', props));
  const json = JSON.parse(synth);

  test('named <project>-<env>-artifacts-<account>-<region>, SSE-KMS with the key and bucket keys', () => {
    expect(resourceList(json, 'aws_s3_bucket')[0].bucket).toBe(BUCKET);
    expect(synth).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: KEY_ARN }, bucket_key_enabled: true }],
    });
    expect(resourceList(json, 'aws_s3_bucket_versioning')[0].versioning_configuration.status).toBe('Enabled');
    expect(resourceList(json, 'aws_s3_bucket_ownership_controls')[0].rule.object_ownership).toBe('BucketOwnerEnforced');
    expect(resourceList(json, 'aws_s3_bucket_public_access_block')[0]).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
  });

  test('lifecycle: logs/ expire (a literal prefix), noncurrent versions expire, multipart uploads aborted', () => {
    const rules = resourceList(json, 'aws_s3_bucket_lifecycle_configuration')[0].rule;
    expect(rules.find((r: any) => r.id === 'expire-logs')).toMatchObject({ filter: [{ prefix: 'logs/' }], expiration: [{ days: 1 }] });
    expect(rules.find((r: any) => r.id === 'expire-noncurrent-versions').noncurrent_version_expiration).toEqual([{ noncurrent_days: 30 }]);
    expect(rules.find((r: any) => r.id === 'abort-incomplete-multipart-uploads').abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 1 }]);
    expect(rules.filter((r: any) => r.expiration).map((r: any) => r.filter[0].prefix)).toEqual(['logs/']);
  });

  test('policy: TLS only, CloudTrail and log delivery write under their prefixes, scoped by source', () => {
    const statements = statementsOf(resourceList(json, 'aws_s3_bucket_policy')[0].policy);
    expect(statements.map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'CloudTrailChecksBucketAcl', 'CloudTrailWritesThisTrailsLogs', 'LogDeliveryChecksBucket', 'LogDeliveryWritesFlowLogs']);
    const byId = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(byId.CloudTrailWritesThisTrailsLogs).toMatchObject({ Resource: `${BUCKET_ARN}/logs/cloudtrail/AWSLogs/111111111111/*`, Condition: { StringEquals: { 'aws:SourceArn': TRAIL } } });
    expect(byId.LogDeliveryWritesFlowLogs.Resource).toBe(`${BUCKET_ARN}/logs/vpc-flow/AWSLogs/111111111111/vpcflowlogs/eu-west-1/*`);
    expect(JSON.stringify(statements)).not.toMatch(/x-amz-acl/);
  });

  test('exposes literal name, ARN, flow-log destination and object ARNs', () => {
    synthScoped((scope) => {
      const b = new ArtifactBucket(scope, 'a', props);
      expect(b.name).toBe(BUCKET);
      expect(b.arn).toBe(BUCKET_ARN);
      expect(b.flowLogDestinationArn).toBe(`${BUCKET_ARN}/logs/vpc-flow/`);
      expect(b.objectsArn('webhook')).toBe(`${BUCKET_ARN}/webhook/*`);
      expect(b.bucket).toBeInstanceOf(SecureBucket);
    });
  });

  test('validates its props before creating anything', () => {
    const bad = (over: Partial<ArtifactBucketProps>) => () => synthScoped((scope) => new ArtifactBucket(scope, 'a', { ...props, ...over }));
    expect(bad({ logExpirationDays: 0 })).toThrow(/logExpirationDays must be a whole number of days >= 1, got 0/);
    expect(bad({ noncurrentVersionExpirationDays: 1.5 })).toThrow(/noncurrentVersionExpirationDays/);
    expect(bad({ cloudTrailArn: 'arn:aws:cloudtrail:eu-west-1:222222222222:trail/x' })).toThrow(/trail of 111111111111/);
  });
});

describe('AuditTrail', () => {
  const { synth, json } = foundation();

  test('single-region trail with log file validation, KMS, logs under logs/cloudtrail, CloudWatch Logs', () => {
    expect(synth).toHaveResourceWithProperties(Cloudtrail, {
      name: 'p-dev-trail',
      s3_bucket_name: BUCKET,
      s3_key_prefix: 'logs/cloudtrail',
      is_multi_region_trail: false,
      enable_log_file_validation: true,
      cloud_watch_logs_group_arn: 'arn:aws:logs:eu-west-1:111111111111:log-group:/p/dev/cloudtrail:*',
      cloud_watch_logs_role_arn: 'arn:aws:iam::111111111111:role/p-dev-cloudtrail-logs',
    });
    const [trail] = resourceList(json, 'aws_cloudtrail');
    expect(trail.kms_key_id).toMatch(/^\$\{aws_kms_key\.[\w-]+\.arn\}$/);
    expect(trail.depends_on.join()).toMatch(/aws_s3_bucket_policy.*aws_cloudwatch_log_group.*aws_iam_role_policy/);
  });

  test('data events: only writes of S3 objects under software/ and infrastructure/', () => {
    const [trail] = resourceList(json, 'aws_cloudtrail');
    expect(trail.event_selector).toBeUndefined();
    expect(trail.advanced_event_selector).toEqual([
      {
        name: 'Writes of pipeline sources',
        field_selector: [
          { field: 'eventCategory', equals: ['Data'] },
          { field: 'resources.type', equals: ['AWS::S3::Object'] },
          { field: 'readOnly', equals: ['false'] },
          { field: 'resources.ARN', starts_with: [`${BUCKET_ARN}/software/`, `${BUCKET_ARN}/infrastructure/`] },
        ],
      },
    ]);
  });

  test('KMS-encrypted log group with the configured retention; CloudTrail may write only its own stream', () => {
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/p/dev/cloudtrail', retention_in_days: 3 });
    expect(resourceList(json, 'aws_cloudwatch_log_group')[0].kms_key_id).toMatch(/aws_kms_key/);
    const role = resourceList(json, 'aws_iam_role').find((r) => r.name === 'p-dev-cloudtrail-logs');
    expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: 'cloudtrail.amazonaws.com' });
    const policy = resourceList(json, 'aws_iam_role_policy').find((p) => p.name === 'p-dev-cloudtrail-logs');
    expect(statementsOf(policy.policy)).toEqual([
      {
        Sid: 'WriteOwnTrailStream',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: 'arn:aws:logs:eu-west-1:111111111111:log-group:/p/dev/cloudtrail:log-stream:111111111111_CloudTrail_eu-west-1*',
      },
    ]);
  });

  test('one EventBridge rule per source prefix, matching object writes reported by CloudTrail', () => {
    const rules = resourceList(json, 'aws_cloudwatch_event_rule');
    expect(rules.map((r) => r.name).sort()).toEqual(['p-dev-infrastructure-source-written', 'p-dev-software-source-written']);
    const software = rules.find((r) => r.name === 'p-dev-software-source-written');
    expect(JSON.parse(software.event_pattern)).toEqual({
      source: ['aws.s3'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['s3.amazonaws.com'],
        eventName: ['PutObject', 'CompleteMultipartUpload', 'CopyObject'],
        requestParameters: { bucketName: [BUCKET], key: [{ prefix: 'software/' }] },
      },
    });
    expect(resourceList(json, 'aws_cloudwatch_event_target')).toEqual([]);
    expect(objectWrittenPattern('b', 'infrastructure/').detail.requestParameters.key).toEqual([{ prefix: 'infrastructure/' }]);
  });

  test('exposes literal names and ARNs', () => {
    synthScoped((scope) => {
      const f = new SecurityFoundation(scope, 'sec', foundationProps);
      expect(f.trail.trailArn).toBe(TRAIL);
      expect(AuditTrail.trailArnOf(ENV)).toBe(TRAIL);
      expect(f.trail.logGroupArn).toBe('arn:aws:logs:eu-west-1:111111111111:log-group:/p/dev/cloudtrail');
      expect(f.trail.sourceRules.infrastructure).toMatchObject({ name: 'p-dev-infrastructure-source-written', arn: 'arn:aws:events:eu-west-1:111111111111:rule/p-dev-infrastructure-source-written', prefix: 'infrastructure/' });
    });
  });

  test('rejects a retention CloudWatch does not offer', () => {
    expect(() => foundation({ cloudWatchLogRetentionDays: 2 })).toThrow(/retention periods .*got 2/);
  });
});

describe('PipelineRoles', () => {
  const { json } = foundation();
  const role = (name: string) => resourceList(json, 'aws_iam_role').find((r) => r.name === name);
  const roleId = (name: string) => Object.entries(resources(json, 'aws_iam_role')).find(([, r]) => r.name === name)![0];
  const inline = (name: string) => resourceList(json, 'aws_iam_role_policy').filter((p) => p.role === `\${aws_iam_role.${roleId(name)}.id}`);

  test('two roles with deterministic names and trusts; service trusts pinned to the account; no environment-wide web-server or software-pipeline role', () => {
    const trust = (name: string) => JSON.parse(role(name).assume_role_policy).Statement[0];
    expect(trust('p-dev-infrastructure-pipeline')).toMatchObject({
      Principal: { Service: ['codepipeline.amazonaws.com', 'codebuild.amazonaws.com'] },
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
    });
    // Software releases run on per-customer roles (customer/software-pipeline.ts).
    expect(role('p-dev-software-pipeline')).toBeUndefined();
    expect(role('p-dev-web-server-instance')).toBeUndefined();
    expect(resourceList(json, 'aws_iam_instance_profile')).toEqual([]);
    expect(resourceList(json, 'aws_iam_role_policy_attachment')).toEqual([]);
    expect(trust('p-dev-ec2-resource-deploy')).toEqual({
      Sid: 'InfrastructurePipelineOnly',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:role/p-dev-infrastructure-pipeline' },
      Action: 'sts:AssumeRole',
    });
    expect(role('p-dev-ec2-resource-deploy').depends_on).toEqual([`aws_iam_role.${roleId('p-dev-infrastructure-pipeline')}`]);
  });

  test('inline policies named after the role; the KMS grant apart, only through S3', () => {
    expect(inline('p-dev-infrastructure-pipeline').map((p) => p.name).sort()).toEqual(['p-dev-infrastructure-pipeline', 'p-dev-infrastructure-pipeline-kms']);
    expect(inline('p-dev-ec2-resource-deploy').map((p) => p.name).sort()).toEqual(['p-dev-ec2-resource-deploy', 'p-dev-ec2-resource-deploy-listener']);
    const kms = statementsOf(inline('p-dev-infrastructure-pipeline').find((p) => p.name.endsWith('-kms')).policy);
    expect(kms).toEqual([
      {
        Sid: 'UseKeyOnlyThroughS3',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: expect.stringMatching(/^\$\{aws_kms_key\.[\w-]+\.arn\}$/),
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
    // The main policies are fully literal, so plans show them.
    for (const p of resourceList(json, 'aws_iam_role_policy').filter((x) => !/-(kms|listener)$/.test(x.name))) expect(p.policy).not.toMatch(/\$\{/);
  });

  test('deploy role: every statement on customer-tagged resources, the VPC, the natted subnets, its ALB\'s rules, or read-only', () => {
    const statements = statementsOf(inline('p-dev-ec2-resource-deploy').find((p) => p.name === 'p-dev-ec2-resource-deploy').policy);
    for (const s of statements) {
      const text = JSON.stringify(s);
      const customer = /"aws:(Resource|Request)Tag\/customer":"false"/.test(text) && /aws:(Resource|Request)Tag\/environment/.test(text);
      const platformNeeded =
        (s.Sid === 'CreateSecurityGroupsInOwnVpc' && s.Resource.endsWith(':vpc/*')) ||
        (s.Sid === 'LaunchIntoNattedSubnetsOnly' && s.Condition.StringEquals['aws:ResourceTag/tier'] === 'natted') ||
        s.Sid === 'ReorderRulesOnOwnAlb';
      const other = /ec2:CreateAction|iam:PassedToService/.test(text) || s.Sid === 'LaunchWithNewVolumesAndInterfaces' || s.Sid === 'RulesOfOwnSecurityGroups';
      const readOnly = s.Resource === '*' && [s.Action].flat().every((a: string) => /:Describe/.test(a));
      expect({ sid: s.Sid, ok: customer || platformNeeded || other || readOnly }).toEqual({ sid: s.Sid, ok: true });
    }
    expect(statements.find((s) => s.Sid === 'PassCustomerInstanceRolesToEc2Only')).toEqual({
      Sid: 'PassCustomerInstanceRolesToEc2Only',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::111111111111:role/p-dev-*-web',
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
    expect(JSON.stringify(statements)).not.toMatch(/elasticloadbalancing:CreateRule/);
    expect(statementsOf(inline('p-dev-ec2-resource-deploy').find((p) => p.name === 'p-dev-ec2-resource-deploy-listener').policy)).toEqual([
      {
        Sid: 'CreateCustomerRulesOnHttpsListenerOnly',
        Effect: 'Allow',
        Action: 'elasticloadbalancing:CreateRule',
        Resource: HTTPS_LISTENER_ARN,
        Condition: {
          StringEquals: { 'aws:RequestTag/project': 'p', 'aws:RequestTag/environment': 'dev' },
          Null: { 'aws:RequestTag/customer': 'false' },
        },
      },
    ]);
  });

  test('exposes literal names and ARNs', () => {
    synthScoped((scope) => {
      const f = new SecurityFoundation(scope, 'sec', foundationProps);
      expect(f.roles.arns).toEqual({
        infrastructurePipeline: 'arn:aws:iam::111111111111:role/p-dev-infrastructure-pipeline',
        ec2ResourceDeploy: 'arn:aws:iam::111111111111:role/p-dev-ec2-resource-deploy',
      });
      expect(f.roles.documents.ec2ResourceDeploy).toHaveLength(2);
      expect(f.key.aliasName).toBe('alias/p-dev');
      expect(f.key.aliasArn).toBe('arn:aws:kms:eu-west-1:111111111111:alias/p-dev');
    });
  });

  test('validates its props before creating anything', () => {
    const bad = (over: object) => () =>
      synthScoped((scope) => new PipelineRoles(scope, 'r', { bucketArn: BUCKET_ARN, kmsKeyArn: KEY_ARN, httpsListenerArn: HTTPS_LISTENER_ARN, ...over }));
    expect(bad({ bucketArn: `${BUCKET_ARN}/software/*` })).toThrow(/literal ARN of a bucket/);
    expect(bad({ httpsListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/p-prod/1/2' })).toThrow(/httpsListenerArn must be the HTTPS listener/);
    expect(bad({ httpsListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/p-dev/*' })).toThrow(/httpsListenerArn/);
    expect(() => synthScoped((scope) => new PipelineRoles(scope, 'r', { bucketArn: BUCKET_ARN, kmsKeyArn: KEY_ARN, httpsListenerArn: HTTPS_LISTENER_ARN }), { account: 'x' })).toThrow(/12-digit/);
  });
});

describe('VpcFlowLog', () => {
  test('all traffic of the VPC to the artifact bucket under logs/vpc-flow/, after the bucket policy', () => {
    const { synth, json } = foundation();
    expect(synth).toHaveResourceWithProperties(FlowLog, {
      vpc_id: 'vpc-0123456789abcdef0',
      traffic_type: 'ALL',
      log_destination_type: 's3',
      log_destination: `${BUCKET_ARN}/logs/vpc-flow/`,
      destination_options: { file_format: 'plain-text', hive_compatible_partitions: false, per_hour_partition: false },
    });
    expect(resourceList(json, 'aws_flow_log')[0].depends_on[0]).toMatch(/^aws_s3_bucket_policy\./);
  });

  test('without a VPC: no flow log and no log-delivery grants on bucket or key', () => {
    const { json } = foundation({ flowLogVpcId: undefined });
    expect(resourceList(json, 'aws_flow_log')).toEqual([]);
    expect(JSON.stringify(json)).not.toMatch(/delivery\.logs\.amazonaws\.com/);
  });

  test('validates its destination', () => {
    const bad = (destinationArn: string) => () => synthScoped((scope) => new VpcFlowLog(scope, 'f', { vpcId: 'vpc-1', destinationArn }));
    expect(bad(`${BUCKET_ARN}/logs/*`)).toThrow(/literal prefix/);
    expect(bad('arn:aws:logs:eu-west-1:111111111111:log-group:x')).toThrow(/S3 bucket ARN/);
  });
});

describe('environment stacks', () => {
  const cfg = exampleConfig();

  test.each(['dev', 'staging', 'prod'])('%s has the security foundation and its outputs', (env) => {
    const json = synthStack(env, cfg);
    expect(resourceList(json, 'aws_kms_key')).toHaveLength(1);
    expect(resourceList(json, 'aws_cloudtrail')).toHaveLength(1);
    expect(resourceList(json, 'aws_flow_log')).toHaveLength(1);
    expect(resourceList(json, 'aws_iam_role').map((r) => r.name).sort()).toEqual(
      [
        'cloudtrail-logs',
        'ec2-resource-deploy',
        'gitlab-reconcile-scheduler',
        'gitlab-reconciler',
        'gitlab-source-fetch-infrastructure',
        'gitlab-source-fetch-software',
        'gitlab-webhook',
        'gitlab-worker',
        'infrastructure-pipeline',
        ...(env === 'prod' ? ['nat-eu-west-1a', 'nat-eu-west-1b', 'nat-eu-west-1c'] : ['nat-eu-west-1a']),
      ].map((n) => `acme-web-${env}-${n}`),
    );
    expect(json.output!.kms_key_alias.value).toBe(`alias/acme-web-${env}`);
    expect(json.output!.artifact_bucket_name.value).toBe(`acme-web-${env}-artifacts-111111111111-eu-west-1`);
    expect(json.output!.pipeline_trigger_rules.value.software).toEqual({
      name: `acme-web-${env}-software-source-written`,
      arn: `arn:aws:events:eu-west-1:111111111111:rule/acme-web-${env}-software-source-written`,
    });
    expect(Object.keys(json.output!.role_arns.value).sort()).toEqual(['ec2ResourceDeploy', 'infrastructurePipeline']);
    expect(json.output!.web_server_instance_profile).toBeUndefined();
    expect(resourceList(json, 'aws_iam_instance_profile').map((p) => p.name).every((n: string) => n.includes('-nat-'))).toBe(true);
  });

  test('config drives deletion window, retention, log expiry; network.flowLogs false means no flow log', () => {
    const prod = synthStack('prod', cfg);
    expect(resourceList(prod, 'aws_kms_key')[0].deletion_window_in_days).toBe(30);
    expect(resourceList(prod, 'aws_cloudwatch_log_group')[0].retention_in_days).toBe(30);
    const artifactLifecycle = resourceList(prod, 'aws_s3_bucket_lifecycle_configuration').find((l) => /security_artifacts/.test(l.bucket));
    const rules = artifactLifecycle.rule;
    expect(rules.find((r: any) => r.id === 'expire-logs').expiration).toEqual([{ days: 7 }]);
    expect(resourceList(synthStack('dev', cfg), 'aws_kms_key')[0].deletion_window_in_days).toBe(7);
    const noFlow = synthStack('dev', exampleConfig((c) => (c.environments[0].network.flowLogs = false)));
    expect(resourceList(noFlow, 'aws_flow_log')).toEqual([]);
  });

  test('no data source calls AWS (archive_file only zips local files)', () => {
    for (const env of ['dev', 'prod']) expect(Object.keys(synthStack(env, cfg).data ?? {})).toEqual(['archive_file']);
  });
});
