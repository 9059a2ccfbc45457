/**
 * GitLab push ingestion: the HTTP API, the webhook Lambda (packaged through data.archive_file),
 * the two source-fetch CodeBuild projects, and what their roles may and may not do (simulated over
 * the synthesized policies with @cloud-copilot/iam-simulate).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CodebuildProject } from '@cdktf/provider-aws/lib/codebuild-project';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { DataArchiveFile } from '@cdktf/provider-archive/lib/data-archive-file';
import YAML from 'yaml';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { BUILD_RETRY_AFTER_SECONDS, GitlabIngestion, GitlabIngestionProps, SOURCE_FETCH_BUILD_TIMEOUT_MINUTES, SOURCE_FETCH_TOOL_KEY, WEBHOOK_RUNTIME } from '../stacks/constructs/ingestion/gitlab-ingestion';
import { DEFAULT_BUILD_RETRY_AFTER_SECONDS } from '../lambdas/gitlab-webhook/contract';
import { Context, Decision, StackPolicies, placeholderSubnetId } from './support/iam';
import { exampleConfig } from './support/config';
import { synthScoped } from './support/scope';
import { resourceList, synthStack } from './support/synth';

const ALLOW: Decision = 'Allowed';
const webhookFn = (json: any) => resourceList(json, 'aws_lambda_function').find((f: any) => /-gitlab-webhook$/.test(f.function_name));
const DENY: Decision = 'ImplicitlyDenied';
const ACCOUNT = '111111111111';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ingestion-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const bundleFile = (name: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, `exports.handler = async () => ({ statusCode: 200 }); // ${name}\n`);
  return f;
};

function props(over: Partial<GitlabIngestionProps> = {}): Omit<GitlabIngestionProps, 'artifactBucket' | 'alarmTopic'> {
  return {
    gitlabUrl: 'https://gitlab.example.com',
    authMode: 'token',
    tagPushes: false,
    repositories: [{ path: 'shop/storefront', kind: 'software', customer: 'shop', branches: { develop: 'dev' }, routedBranches: ['develop'] }],
    artifactBucketName: `acme-web-dev-artifacts-${ACCOUNT}-eu-west-1`,
    kmsKeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`,
    vpcId: 'vpc-0123456789abcdef0',
    nattedSubnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
    logRetentionDays: 3,
    webhookBundleFile: bundleFile('index.js'),
    sourceFetchBundleFile: bundleFile('clone-and-upload.js'),
    workerBundleFile: bundleFile('worker.js'),
    reconcilerBundleFile: bundleFile('reconciler.js'),
    alarmTopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:acme-web-dev-alarms`,
    ...over,
  };
}

const synthIngestion = (over: Partial<GitlabIngestionProps> = {}) =>
  synthScoped((scope) => {
    const p = props(over);
    const topic = new SnsTopic(scope, 'alarms', { name: 'acme-web-dev-alarms' });
    new GitlabIngestion(scope, 'ingestion', { ...p, artifactBucket: new S3Bucket(scope, 'artifacts', { bucket: p.artifactBucketName }), alarmTopic: topic });
  }, { project: 'acme-web' });

describe('GitlabIngestion construct', () => {
  const synth = synthIngestion();
  const json = JSON.parse(synth);

  test('HTTP API with one POST route, payload 2.0 proxy integration, throttled stage with access logs', () => {
    expect(resourceList(json, 'aws_apigatewayv2_api')).toEqual([expect.objectContaining({ protocol_type: 'HTTP', name: 'acme-web-dev-gitlab-webhook' })]);
    expect(resourceList(json, 'aws_apigatewayv2_route').map((r) => r.route_key)).toEqual(['POST /gitlab']);
    expect(resourceList(json, 'aws_apigatewayv2_integration')).toEqual([expect.objectContaining({ integration_type: 'AWS_PROXY', payload_format_version: '2.0' })]);
    expect(synth).toHaveResourceWithProperties(Apigatewayv2Stage, {
      name: '$default',
      auto_deploy: true,
      default_route_settings: { throttling_rate_limit: 50, throttling_burst_limit: 200 },
    });
    const [stage] = resourceList(json, 'aws_apigatewayv2_stage');
    expect(JSON.parse(stage.access_log_settings.format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    const [permission] = resourceList(json, 'aws_lambda_permission');
    expect(permission.source_arn).toMatch(/\/\*\/\*\/gitlab$/);
  });

  test('Lambda: newest runtime both providers accept, arm64, under GitLab timeout, reserved concurrency, zipped by archive_file', () => {
    expect(synth).toHaveResourceWithProperties(LambdaFunction, {
      runtime: WEBHOOK_RUNTIME,
      architectures: ['arm64'],
      handler: 'index.handler',
      reserved_concurrent_executions: 20,
      logging_config: expect.objectContaining({ log_format: 'JSON', log_group: expect.stringContaining('aws_cloudwatch_log_group') }),
    });
    const fn = webhookFn(json);
    expect(fn.timeout).toBeLessThan(10);
    expect(fn.filename).toMatch(/^\$\{data\.archive_file\.[\w-]+\.output_path\}$/);
    expect(fn.source_code_hash).toMatch(/^\$\{data\.archive_file\.[\w-]+\.output_base64sha256\}$/);
    expect(synth).toHaveDataSourceWithProperties(DataArchiveFile, { type: 'zip', output_path: '${path.module}/build/gitlab-webhook.zip' });
    for (const a of Object.values(json.data.archive_file) as any[]) {
      expect(a.source_file).toMatch(/^\$\{path\.module\}\/assets\//);
      expect(a.output_path).toMatch(/^\$\{path\.module\}\//);
    }
  });

  test('Lambda settings come from the Lambda contract: both build projects, routes of this environment, secret by name only', () => {
    const fn = webhookFn(json);
    const vars = fn.environment.variables;
    expect(vars).toMatchObject({
      ENVIRONMENT: 'dev',
      AUTH_MODE: 'token',
      WEBHOOK_TOKEN_PARAMETER: '/acme-web/dev/gitlab/webhook-token',
      GITLAB_URL: 'https://gitlab.example.com',
      TAG_PUSHES: 'false',
    });
    expect(vars.WEBHOOK_SIGNING_SECRET_PARAMETER).toBeUndefined();
    expect(vars.CODEBUILD_PROJECT_SOFTWARE).toMatch(/codebuild_project\.ingestion_source-fetch-software/);
    expect(vars.CODEBUILD_PROJECT_INFRASTRUCTURE).toMatch(/codebuild_project\.ingestion_source-fetch-infrastructure/);
    expect(JSON.parse(vars.ROUTES)).toEqual([{ path: 'shop/storefront', kind: 'software', customer: 'shop', branches: ['develop'] }]);
    expect(JSON.stringify(json)).not.toMatch(/aws_ssm_parameter/);
  });

  test('signature mode passes the signing-secret parameter instead', () => {
    const fn = webhookFn(JSON.parse(synthIngestion({ authMode: 'signature' })));
    expect(fn.environment.variables.WEBHOOK_SIGNING_SECRET_PARAMETER).toBe('/acme-web/dev/gitlab/webhook-signing-secret');
    expect(fn.environment.variables.WEBHOOK_TOKEN_PARAMETER).toBeUndefined();
  });

  test('every log group is KMS-encrypted with retention, under /<project>/<env>/', () => {
    const groups = resourceList(json, 'aws_cloudwatch_log_group');
    expect(groups.map((g) => g.name).sort()).toEqual([
      '/acme-web/dev/apigw/gitlab-webhook',
      '/acme-web/dev/codebuild/gitlab-source-fetch-infrastructure',
      '/acme-web/dev/codebuild/gitlab-source-fetch-software',
      '/acme-web/dev/lambda/gitlab-reconciler',
      '/acme-web/dev/lambda/gitlab-webhook',
      '/acme-web/dev/lambda/gitlab-worker',
    ]);
    for (const g of groups) {
      expect(g.kms_key_id).toBe(props().kmsKeyArn);
      expect(g.retention_in_days).toBe(3);
    }
  });

  test('CodeBuild: one project per kind, in the natted subnets, arm64, KMS, tool from S3, buildspec only calls the script', () => {
    const projects = resourceList(json, 'aws_codebuild_project');
    expect(projects.map((p) => p.name).sort()).toEqual(['acme-web-dev-gitlab-source-fetch-infrastructure', 'acme-web-dev-gitlab-source-fetch-software']);
    expect(synth).toHaveResourceWithProperties(CodebuildProject, {
      encryption_key: props().kmsKeyArn,
      vpc_config: { vpc_id: 'vpc-0123456789abcdef0', subnets: ['subnet-a', 'subnet-b', 'subnet-c'], security_group_ids: [expect.any(String)] },
      environment: expect.objectContaining({ type: 'ARM_CONTAINER' }),
    });
    for (const p of projects) {
      expect(p.source.location).toBe(`acme-web-dev-artifacts-${ACCOUNT}-eu-west-1/${SOURCE_FETCH_TOOL_KEY}`);
      const spec = YAML.parse(p.source.buildspec);
      expect(spec.phases.build.commands).toContain('node clone-and-upload.js');
      expect(spec.env['parameter-store']).toEqual({ GITLAB_DEPLOY_TOKEN: '/acme-web/dev/gitlab/deploy-token', GITLAB_DEPLOY_TOKEN_USER: '/acme-web/dev/gitlab/deploy-token-user' });
      const vars = Object.fromEntries(p.environment.environment_variable.map((v: any) => [v.name, v.value]));
      expect(vars).toMatchObject({ GITLAB_URL: 'https://gitlab.example.com', ARTIFACT_KMS_KEY_ARN: props().kmsKeyArn });
      expect(JSON.stringify(p)).not.toMatch(/GITLAB_DEPLOY_TOKEN"?\s*[:=]\s*"[^/$]/);
      expect(p.logs_config.cloudwatch_logs.status).toBe('ENABLED');
    }
    const [tool] = resourceList(json, 'aws_s3_object');
    expect(tool).toMatchObject({ key: SOURCE_FETCH_TOOL_KEY, server_side_encryption: 'aws:kms' });
  });

  test('the build security group allows only HTTPS out (no SSH: clones are HTTPS only), nothing in', () => {
    expect(resourceList(json, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
    expect(resourceList(json, 'aws_vpc_security_group_egress_rule').map((r) => [r.from_port, r.to_port, r.ip_protocol, r.cidr_ipv4])).toEqual([[443, 443, 'tcp', '0.0.0.0/0']]);
  });

  test('durable accept: KMS-encrypted delivery queue with a dead-letter queue, long visibility and retention', () => {
    const queues = resourceList(json, 'aws_sqs_queue');
    const main = queues.find((q: any) => q.name === 'acme-web-dev-gitlab-deliveries');
    const dlq = queues.find((q: any) => q.name === 'acme-web-dev-gitlab-deliveries-dlq');
    expect(main).toMatchObject({ kms_master_key_id: props().kmsKeyArn, visibility_timeout_seconds: 360, message_retention_seconds: 4 * 24 * 3600 });
    expect(dlq).toMatchObject({ kms_master_key_id: props().kmsKeyArn, message_retention_seconds: 14 * 24 * 3600 });
    expect(JSON.parse(main.redrive_policy)).toEqual({ deadLetterTargetArn: expect.stringMatching(/^\$\{aws_sqs_queue\.ingestion_delivery-dlq[\w]*\.arn\}$/), maxReceiveCount: 30 });
    expect(webhookFn(json).environment.variables.DELIVERY_QUEUE_URL).toMatch(/^\$\{aws_sqs_queue\.ingestion_delivery-queue\w*\.url\}$/);
  });

  test('the worker consumes the queue with partial batch failures and a concurrency cap', () => {
    const [mapping] = resourceList(json, 'aws_lambda_event_source_mapping');
    expect(mapping).toMatchObject({ batch_size: 10, function_response_types: ['ReportBatchItemFailures'], scaling_config: { maximum_concurrency: 5 } });
    expect(mapping.event_source_arn).toMatch(/aws_sqs_queue\.ingestion_delivery-queue\w*\.arn/);
    const worker = resourceList(json, 'aws_lambda_function').find((f: any) => f.function_name === 'acme-web-dev-gitlab-worker');
    expect(worker).toMatchObject({ timeout: 60, handler: 'index.handler', architectures: ['arm64'] });
    expect(worker.environment.variables).toMatchObject({ ENVIRONMENT: 'dev', ARTIFACT_BUCKET: props().artifactBucketName });
  });

  test('dead-lettered work raises an alarm to the environment\'s alarm topic', () => {
    const alarm = resourceList(json, 'aws_cloudwatch_metric_alarm').find((a: any) => a.alarm_name === 'acme-web-dev-gitlab-deliveries-dead-lettered');
    expect(alarm).toMatchObject({
      alarm_name: 'acme-web-dev-gitlab-deliveries-dead-lettered',
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      alarm_actions: [props().alarmTopicArn],
      depends_on: ['aws_sns_topic.alarms'],
    });
    expect(alarm.dimensions.QueueName).toMatch(/aws_sqs_queue\.ingestion_delivery-dlq\w*\.name/);
  });

  test('a retried build (the reconciler\'s ReconcileBuildRetried metric > 0) raises an alarm to the environment\'s alarm topic', () => {
    const alarm = resourceList(json, 'aws_cloudwatch_metric_alarm').find((a: any) => a.alarm_name === 'acme-web-dev-gitlab-build-retried');
    // Namespace, metric and dimension exactly as the reconciler's EMF line has them (gitlab-reconciler.test.ts).
    expect(alarm).toMatchObject({
      namespace: 'GitlabIngestion',
      metric_name: 'ReconcileBuildRetried',
      dimensions: { Environment: 'dev' },
      statistic: 'Sum',
      period: 600,
      evaluation_periods: 1,
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      treat_missing_data: 'notBreaching',
      alarm_actions: [props().alarmTopicArn],
      ok_actions: [props().alarmTopicArn],
      depends_on: ['aws_sns_topic.alarms'],
    });
    expect(alarm.alarm_description).toContain('Runbook: "A delivery failed"');
    // That runbook section exists and says what build-retried means.
    const runbook = fs.readFileSync(path.join(__dirname, '..', 'docs', 'RUNBOOK.md'), 'utf8');
    const section = runbook.split(/^## /m).find((sec) => sec.startsWith('A delivery failed\n'));
    expect(section).toContain('**build-retried**');
    expect(section).toContain('acme-web-dev-gitlab-build-retried'.replace('acme-web-dev', '<project>-<env>'));
    const [other] = resourceList(JSON.parse(synthIngestion({ reconcileIntervalMinutes: 30 })), 'aws_cloudwatch_metric_alarm').filter((a: any) => a.metric_name === 'ReconcileBuildRetried');
    expect(other.period).toBe(1800);
  });

  test('the reconciler retries a build after 2 x the source fetch\'s CodeBuild timeout + 10 min, the same constant the projects use', () => {
    expect(SOURCE_FETCH_BUILD_TIMEOUT_MINUTES).toBe(15);
    expect(BUILD_RETRY_AFTER_SECONDS).toBe(2 * SOURCE_FETCH_BUILD_TIMEOUT_MINUTES * 60 + 600);
    // The Lambda's own default (a function without the variable) agrees.
    expect(DEFAULT_BUILD_RETRY_AFTER_SECONDS).toBe(BUILD_RETRY_AFTER_SECONDS);
    for (const project of resourceList(json, 'aws_codebuild_project')) expect(project.build_timeout).toBe(SOURCE_FETCH_BUILD_TIMEOUT_MINUTES);
    const rec = resourceList(json, 'aws_lambda_function').find((f: any) => f.function_name === 'acme-web-dev-gitlab-reconciler');
    expect(rec.environment.variables.BUILD_RETRY_AFTER_SECONDS).toBe(String(BUILD_RETRY_AFTER_SECONDS));
  });

  test('the reconciler runs on an EventBridge Scheduler rate, 10 minutes by default or as configured', () => {
    const [schedule] = resourceList(json, 'aws_scheduler_schedule');
    expect(schedule).toMatchObject({ name: 'acme-web-dev-gitlab-reconcile', schedule_expression: 'rate(10 minutes)', flexible_time_window: { mode: 'OFF' } });
    expect(schedule.target.arn).toMatch(/aws_lambda_function\.ingestion_reconciler\w*\.arn/);
    const [other] = resourceList(JSON.parse(synthIngestion({ reconcileIntervalMinutes: 30 })), 'aws_scheduler_schedule');
    expect(other.schedule_expression).toBe('rate(30 minutes)');
    const rec = resourceList(json, 'aws_lambda_function').find((f: any) => f.function_name === 'acme-web-dev-gitlab-reconciler');
    expect(rec.environment.variables).toMatchObject({ GITLAB_API_TOKEN_PARAMETER: '/acme-web/dev/gitlab/api-token', GITLAB_URL: 'https://gitlab.example.com' });
    expect(rec.reserved_concurrent_executions).toBe(1);
  });

  test('validates its props before creating anything', () => {
    expect(() => synthIngestion({ reconcileIntervalMinutes: 2 })).toThrow(/reconcileIntervalMinutes must be a whole number from 5 to 1440, got 2/);
    expect(() => synthIngestion({ alarmTopicArn: 'topic' })).toThrow(/alarmTopicArn must be an SNS topic ARN/);
    expect(() => synthIngestion({ nattedSubnetIds: ['a'] })).toThrow(/nattedSubnetIds must list the 3 natted subnets, got 1/);
    expect(() => synthIngestion({ webhookBundleFile: 'relative/index.js' })).toThrow(/webhookBundleFile must be an absolute path, got "relative\/index.js"/);
    expect(() => synthIngestion({ reservedConcurrency: 0 })).toThrow(/reservedConcurrency must be a whole number from 1 to 100, got 0/);
    expect(() => synthIngestion({ gitlabUrl: 'http://gitlab.example.com' })).toThrow(/gitlabUrl must start with https:\/\//);
  });
});

describe('in the environment stacks', () => {
  test('the webhook reserves 20 executions by default, the configured number, or none with null', () => {
    const reserved = (v?: number | null) => {
      const cfg = exampleConfig((c) => {
        if (v !== undefined) c.gitlab.webhookReservedConcurrency = v;
      });
      return webhookFn(synthStack('dev', cfg)).reserved_concurrent_executions;
    };
    expect(reserved()).toBe(20);
    expect(reserved(20)).toBe(20);
    expect(reserved(null)).toBeUndefined();
  });

  test('each environment routes only its own branches and outputs the webhook URL', () => {
    const cfg = exampleConfig();
    for (const [env, expected] of [
      ['dev', [['shop/storefront', ['develop']], ['shop/storefront-infra', ['develop']], ['blog/site', ['main']], ['wiki/app', ['develop']]]],
      ['prod', [['shop/storefront', ['main']], ['shop/storefront-infra', ['main']], ['wiki/app', ['main']]]],
    ] as const) {
      const json = synthStack(env, cfg);
      const fn = webhookFn(json);
      const routes = JSON.parse(fn.environment.variables.ROUTES);
      expect(routes.map((r: any) => [r.path, r.branches])).toEqual(expected);
      expect(json.output!.gitlab_webhook_url.value).toMatch(/^\$\{aws_apigatewayv2_api\.ingestion_api\.api_endpoint\}\/gitlab$/);
      expect(Object.keys(json.output!.source_fetch_projects.value).sort()).toEqual(['infrastructure', 'software']);
    }
  });
});

describe('IAM: webhook Lambda and source-fetch roles (synthesized dev stack)', () => {
  const dev = StackPolicies.of('dev');
  const KEY = dev.key().arn;
  const bucket = `arn:aws:s3:::acme-web-dev-artifacts-${ACCOUNT}-eu-west-1`;
  const object = (key: string) => `${bucket}/${key}`;
  const project = (name: string) => `arn:aws:codebuild:eu-west-1:${ACCOUNT}:project/${name}`;
  const param = (name: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${name}`;
  const stream = (group: string) => `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${group}:log-stream:s1`;
  const via = (service: string): Context => ({ 'kms:ViaService': `${service}.eu-west-1.amazonaws.com` });
  const WEBHOOK = 'acme-web-dev-gitlab-webhook';
  const WORKER = 'acme-web-dev-gitlab-worker';
  const RECONCILER = 'acme-web-dev-gitlab-reconciler';
  const SCHEDULER = 'acme-web-dev-gitlab-reconcile-scheduler';
  const DELIVERIES = 'acme-web-dev-gitlab-deliveries';
  const queue = (name: string) => `arn:aws:sqs:eu-west-1:${ACCOUNT}:${name}`;
  const fn = (name: string) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${name}`;
  const FETCH_SW = 'acme-web-dev-gitlab-source-fetch-software';
  const FETCH_INFRA = 'acme-web-dev-gitlab-source-fetch-infrastructure';

  const cases: [string, string, string, string, Context, Decision][] = [
    // The webhook Lambda: only its secret and its queue (the worker does the rest).
    ['webhook records a delivery in its queue', WEBHOOK, 'sqs:SendMessage', queue(DELIVERIES), {}, ALLOW],
    ['webhook encrypts its message through SQS', WEBHOOK, 'kms:GenerateDataKey', KEY, via('sqs'), ALLOW],
    ['webhook reads its token parameter', WEBHOOK, 'ssm:GetParameter', param('/acme-web/dev/gitlab/webhook-token'), {}, ALLOW],
    ['webhook decrypts its secret through SSM', WEBHOOK, 'kms:Decrypt', KEY, via('ssm'), ALLOW],
    ['webhook writes its own log stream', WEBHOOK, 'logs:PutLogEvents', stream('/acme-web/dev/lambda/gitlab-webhook'), {}, ALLOW],
    ['webhook cannot send to the dead-letter queue', WEBHOOK, 'sqs:SendMessage', queue(`${DELIVERIES}-dlq`), {}, DENY],
    ['webhook cannot send to another environment\'s queue', WEBHOOK, 'sqs:SendMessage', queue('acme-web-prod-gitlab-deliveries'), {}, DENY],
    ['webhook cannot receive from its queue', WEBHOOK, 'sqs:ReceiveMessage', queue(DELIVERIES), {}, DENY],
    ['webhook cannot purge its queue', WEBHOOK, 'sqs:PurgeQueue', queue(DELIVERIES), {}, DENY],
    ['webhook cannot write a config file any more', WEBHOOK, 's3:PutObject', object('webhook/dev/abc.json'), {}, DENY],
    ['webhook cannot start builds any more', WEBHOOK, 'codebuild:StartBuild', project(FETCH_SW), {}, DENY],
    ['webhook cannot write software/', WEBHOOK, 's3:PutObject', object('software/shop/develop.zip'), {}, DENY],
    ['webhook cannot read the deploy token', WEBHOOK, 'ssm:GetParameter', param('/acme-web/dev/gitlab/deploy-token'), {}, DENY],
    ['webhook cannot read the API token', WEBHOOK, 'ssm:GetParameter', param('/acme-web/dev/gitlab/api-token'), {}, DENY],
    ['webhook cannot read another environment\'s token', WEBHOOK, 'ssm:GetParameter', param('/acme-web/prod/gitlab/webhook-token'), {}, DENY],
    ['webhook cannot use the key directly', WEBHOOK, 'kms:Decrypt', KEY, {}, DENY],
    ['webhook cannot write another log group', WEBHOOK, 'logs:PutLogEvents', stream('/acme-web/dev/cloudtrail'), {}, DENY],
    // The worker: its queue, webhook/ configs and records, the two source-fetch projects.
    ['worker receives from its queue', WORKER, 'sqs:ReceiveMessage', queue(DELIVERIES), {}, ALLOW],
    ['worker deletes handled messages', WORKER, 'sqs:DeleteMessage', queue(DELIVERIES), {}, ALLOW],
    ['worker delays a retry', WORKER, 'sqs:ChangeMessageVisibility', queue(DELIVERIES), {}, ALLOW],
    ['worker decrypts messages through SQS', WORKER, 'kms:Decrypt', KEY, via('sqs'), ALLOW],
    ['worker writes a config file under webhook/', WORKER, 's3:PutObject', object('webhook/dev/abc.json'), {}, ALLOW],
    ['worker reads a build record under webhook/', WORKER, 's3:GetObject', object('webhook/dev/abc.build.json'), {}, ALLOW],
    ['worker lists webhook/ (404 instead of 403 for a missing record)', WORKER, 's3:ListBucket', bucket, { 's3:prefix': 'webhook/dev/abc.build.json' }, ALLOW],
    ['worker starts the software source fetch', WORKER, 'codebuild:StartBuild', project(FETCH_SW), {}, ALLOW],
    ['worker starts the infrastructure source fetch', WORKER, 'codebuild:StartBuild', project(FETCH_INFRA), {}, ALLOW],
    ['worker finds an unrecorded build', WORKER, 'codebuild:BatchGetBuilds', project(FETCH_SW), {}, ALLOW],
    ['worker encrypts its config through S3', WORKER, 'kms:GenerateDataKey', KEY, via('s3'), ALLOW],
    ['worker rewrites a head marker (the reconciler\'s retry window counts from it)', WORKER, 's3:PutObject', object(`webhook/dev/heads/software/shop/develop/${'a'.repeat(40)}`), {}, ALLOW],
    ['worker writes its own log stream', WORKER, 'logs:PutLogEvents', stream('/acme-web/dev/lambda/gitlab-worker'), {}, ALLOW],
    ['worker cannot send messages (no loops)', WORKER, 'sqs:SendMessage', queue(DELIVERIES), {}, DENY],
    ['worker cannot read the dead-letter queue', WORKER, 'sqs:ReceiveMessage', queue(`${DELIVERIES}-dlq`), {}, DENY],
    ['worker cannot write software/', WORKER, 's3:PutObject', object('software/shop/develop.zip'), {}, DENY],
    ['worker cannot read software/', WORKER, 's3:GetObject', object('software/shop/develop.zip'), {}, DENY],
    ['worker cannot delete a config file', WORKER, 's3:DeleteObject', object('webhook/dev/abc.json'), {}, DENY],
    ['worker cannot list other prefixes', WORKER, 's3:ListBucket', bucket, { 's3:prefix': 'software/' }, DENY],
    ['worker cannot start another CodeBuild project', WORKER, 'codebuild:StartBuild', project('acme-web-dev-infrastructure-pipeline'), {}, DENY],
    ['worker cannot start the staging source fetch', WORKER, 'codebuild:StartBuild', project('acme-web-staging-gitlab-source-fetch-software'), {}, DENY],
    ['worker cannot read any parameter', WORKER, 'ssm:GetParameter', param('/acme-web/dev/gitlab/webhook-token'), {}, DENY],
    ['worker cannot use the key directly', WORKER, 'kms:Decrypt', KEY, {}, DENY],
    // The reconciler: its API token, HeadObject of zips and head markers, its queue.
    ['reconciler reads its API token', RECONCILER, 'ssm:GetParameter', param('/acme-web/dev/gitlab/api-token'), {}, ALLOW],
    ['reconciler decrypts its token through SSM', RECONCILER, 'kms:Decrypt', KEY, via('ssm'), ALLOW],
    ['reconciler reads a software zip\'s metadata (HeadObject)', RECONCILER, 's3:GetObject', object('software/shop/develop.zip'), {}, ALLOW],
    ['reconciler reads an infrastructure zip\'s metadata', RECONCILER, 's3:GetObject', object('infrastructure/shop/develop.zip'), {}, ALLOW],
    ['reconciler reads a head marker', RECONCILER, 's3:GetObject', object(`webhook/dev/heads/software/shop/develop/${'a'.repeat(40)}`), {}, ALLOW],
    ['reconciler lists the head markers (404 for a missing marker)', RECONCILER, 's3:ListBucket', bucket, { 's3:prefix': `webhook/dev/heads/software/shop/develop/${'a'.repeat(40)}` }, ALLOW],
    ['reconciler cannot write a head marker (a retry refreshes it through the worker)', RECONCILER, 's3:PutObject', object(`webhook/dev/heads/software/shop/develop/${'a'.repeat(40)}`), {}, DENY],
    ['reconciler lists software/ (404 for a missing zip)', RECONCILER, 's3:ListBucket', bucket, { 's3:prefix': 'software/shop/develop.zip' }, ALLOW],
    ['reconciler queues a missed push', RECONCILER, 'sqs:SendMessage', queue(DELIVERIES), {}, ALLOW],
    ['reconciler encrypts its message through SQS', RECONCILER, 'kms:GenerateDataKey', KEY, via('sqs'), ALLOW],
    ['reconciler writes its own log stream', RECONCILER, 'logs:PutLogEvents', stream('/acme-web/dev/lambda/gitlab-reconciler'), {}, ALLOW],
    ['reconciler cannot read the deploy token', RECONCILER, 'ssm:GetParameter', param('/acme-web/dev/gitlab/deploy-token'), {}, DENY],
    ['reconciler cannot read the webhook token', RECONCILER, 'ssm:GetParameter', param('/acme-web/dev/gitlab/webhook-token'), {}, DENY],
    ['reconciler cannot read another environment\'s API token', RECONCILER, 'ssm:GetParameter', param('/acme-web/prod/gitlab/api-token'), {}, DENY],
    ['reconciler cannot write a zip', RECONCILER, 's3:PutObject', object('software/shop/develop.zip'), {}, DENY],
    ['reconciler cannot read config files', RECONCILER, 's3:GetObject', object('webhook/dev/abc.json'), {}, DENY],
    ['reconciler cannot read another environment\'s markers', RECONCILER, 's3:GetObject', object(`webhook/prod/heads/software/shop/main/${'a'.repeat(40)}`), {}, DENY],
    ['reconciler cannot list logs/', RECONCILER, 's3:ListBucket', bucket, { 's3:prefix': 'logs/' }, DENY],
    ['reconciler cannot receive from the queue', RECONCILER, 'sqs:ReceiveMessage', queue(DELIVERIES), {}, DENY],
    ['reconciler cannot start builds', RECONCILER, 'codebuild:StartBuild', project(FETCH_SW), {}, DENY],
    ['reconciler cannot use the key directly', RECONCILER, 'kms:Decrypt', KEY, {}, DENY],
    // The scheduler role: invoke the reconciler, nothing else.
    ['scheduler invokes the reconciler', SCHEDULER, 'lambda:InvokeFunction', fn('acme-web-dev-gitlab-reconciler'), {}, ALLOW],
    ['scheduler cannot invoke the worker', SCHEDULER, 'lambda:InvokeFunction', fn('acme-web-dev-gitlab-worker'), {}, DENY],
    ['scheduler cannot invoke the webhook', SCHEDULER, 'lambda:InvokeFunction', fn('acme-web-dev-gitlab-webhook'), {}, DENY],
    // The source fetch of each kind: read webhook/ and its tool, write only its own kind, read the deploy token.
    ['software fetch reads a config file', FETCH_SW, 's3:GetObject', object('webhook/dev/abc.json'), {}, ALLOW],
    ['software fetch reads its tool', FETCH_SW, 's3:GetObject', object(SOURCE_FETCH_TOOL_KEY), {}, ALLOW],
    ['software fetch uploads under software/', FETCH_SW, 's3:PutObject', object('software/shop/develop.zip'), {}, ALLOW],
    ['software fetch reads the deploy token', FETCH_SW, 'ssm:GetParameters', param('/acme-web/dev/gitlab/deploy-token'), {}, ALLOW],
    ['software fetch encrypts the upload through S3', FETCH_SW, 'kms:GenerateDataKey', KEY, via('s3'), ALLOW],
    ['software fetch decrypts the token through SSM', FETCH_SW, 'kms:Decrypt', KEY, via('ssm'), ALLOW],
    ['infrastructure fetch uploads under infrastructure/', FETCH_INFRA, 's3:PutObject', object('infrastructure/shop/develop.zip'), {}, ALLOW],
    ['software fetch cannot write infrastructure/', FETCH_SW, 's3:PutObject', object('infrastructure/shop/develop.zip'), {}, DENY],
    ['infrastructure fetch cannot write software/', FETCH_INFRA, 's3:PutObject', object('software/shop/develop.zip'), {}, DENY],
    ['software fetch cannot write webhook/', FETCH_SW, 's3:PutObject', object('webhook/dev/abc.json'), {}, DENY],
    ['software fetch cannot replace its own tool', FETCH_SW, 's3:PutObject', object(SOURCE_FETCH_TOOL_KEY), {}, DENY],
    ['software fetch cannot read logs/', FETCH_SW, 's3:GetObject', object('logs/cloudtrail/x.json.gz'), {}, DENY],
    ['software fetch cannot read the webhook token', FETCH_SW, 'ssm:GetParameters', param('/acme-web/dev/gitlab/webhook-token'), {}, DENY],
    ['software fetch cannot start builds', FETCH_SW, 'codebuild:StartBuild', project(FETCH_SW), {}, DENY],
    ['software fetch cannot use the key directly', FETCH_SW, 'kms:Decrypt', KEY, {}, DENY],
    ['software fetch lets CodeBuild attach its ENI in a natted subnet', FETCH_SW, 'ec2:CreateNetworkInterfacePermission', `arn:aws:ec2:eu-west-1:${ACCOUNT}:network-interface/eni-1`, { 'ec2:AuthorizedService': 'codebuild.amazonaws.com', 'ec2:Subnet': `arn:aws:ec2:eu-west-1:${ACCOUNT}:subnet/${placeholderSubnetId('network_natted-eu-west-1b')}` }, ALLOW],
    ['software fetch cannot attach its ENI in a public subnet', FETCH_SW, 'ec2:CreateNetworkInterfacePermission', `arn:aws:ec2:eu-west-1:${ACCOUNT}:network-interface/eni-1`, { 'ec2:AuthorizedService': 'codebuild.amazonaws.com', 'ec2:Subnet': `arn:aws:ec2:eu-west-1:${ACCOUNT}:subnet/${placeholderSubnetId('network_public-eu-west-1b')}` }, DENY],
    ['software fetch cannot create ENI permissions outside the natted subnets', FETCH_SW, 'ec2:CreateNetworkInterfacePermission', `arn:aws:ec2:eu-west-1:${ACCOUNT}:network-interface/eni-1`, { 'ec2:AuthorizedService': 'codebuild.amazonaws.com', 'ec2:Subnet': `arn:aws:ec2:eu-west-1:${ACCOUNT}:subnet/subnet-elsewhere` }, DENY],
    ['software fetch cannot run instances', FETCH_SW, 'ec2:RunInstances', `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`, {}, DENY],
  ];

  test.each(cases)('%s', async (_, role, action, resource, context, expected) => {
    expect(await dev.simulateAs(role, action, resource, context)).toBe(expected);
  });

  test('the table has more denies than allows', () => {
    expect(cases.filter((c) => c[5] === DENY).length).toBeGreaterThan(cases.filter((c) => c[5] === ALLOW).length);
  });

  test('trust: only Lambda assumes the webhook role, only CodeBuild the fetch roles, both from this account', async () => {
    const assume = (principal: string, role: string, sourceAccount = ACCOUNT) =>
      dev.simulateFrom(principal, 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/${role}`, { 'aws:SourceAccount': sourceAccount });
    expect(await assume('lambda.amazonaws.com', WEBHOOK)).toBe(ALLOW);
    expect(await assume('codebuild.amazonaws.com', FETCH_SW)).toBe(ALLOW);
    expect(await assume('codebuild.amazonaws.com', WEBHOOK)).not.toBe(ALLOW);
    expect(await assume('lambda.amazonaws.com', FETCH_INFRA)).not.toBe(ALLOW);
    expect(await assume('lambda.amazonaws.com', WEBHOOK, '222222222222')).not.toBe(ALLOW);
    expect(await assume('lambda.amazonaws.com', WORKER)).toBe(ALLOW);
    expect(await assume('lambda.amazonaws.com', RECONCILER)).toBe(ALLOW);
    expect(await assume('scheduler.amazonaws.com', SCHEDULER)).toBe(ALLOW);
    expect(await assume('scheduler.amazonaws.com', RECONCILER)).not.toBe(ALLOW);
    expect(await assume('lambda.amazonaws.com', SCHEDULER)).not.toBe(ALLOW);
  });
});
