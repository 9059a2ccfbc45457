import { Construct } from 'constructs';
import { DataArchiveFile } from '@cdktf/provider-archive/lib/data-archive-file';
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { CodebuildProject } from '@cdktf/provider-aws/lib/codebuild-project';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { AssetType, ITerraformDependable, TerraformAsset } from 'cdktf';
import * as path from 'path';
import { REPOSITORY_KINDS, RepositoryKind, WebhookAuthMode } from '../../model/config/schema';
import { RoutedRepository } from '../../model/config/validate';
import { Statement, policyDocument, policyJson, regionalArn, s3Arn, serviceTrust } from '../../model/iam-policy';
import { envName, gitlabParameterNames, ingestionNames, logGroupNames, roleNames } from '../../model/naming';
import { RECONCILE_METRICS, reconcileMetricName, reconcilerEnvironmentVariables, webhookEnvironmentVariables, workerEnvironmentVariables } from '../../../lambdas/gitlab-webhook/contract';
import { retryWindowSeconds } from '../../../lambdas/gitlab-webhook/worker';
import { kmsActionsFor, kmsViaService, logGroupWrite, s3ListPrefix, s3ObjectAccess } from '../iam/grants';
import { ARTIFACT_PREFIXES } from '../../model/artifact-layout';
import { sourceFetchBuildspec } from './buildspec';
import { NamingScope } from '../naming-scope';

/** Newest Node.js Lambda runtime that both the pinned provider (aws 6.25) and the offline-check mirror (aws 5.100) accept. */
export const WEBHOOK_RUNTIME = 'nodejs22.x';
/** GitLab gives up on a webhook after 10 s; the Lambda must answer well before. */
export const WEBHOOK_TIMEOUT_SECONDS = 8;
/** CodeBuild image with git and Node.js on arm64 (Graviton). */
export const SOURCE_FETCH_IMAGE = 'aws/codebuild/amazonlinux-aarch64-standard:3.0';
/** Route GitLab posts to: `<webhook_url>` is `<api endpoint>/gitlab`. */
export const WEBHOOK_ROUTE_PATH = '/gitlab';
/** Worker Lambda timeout: a batch of 10 deliveries, a few S3 and CodeBuild calls each. */
export const WORKER_TIMEOUT_SECONDS = 60;
/** Visibility timeout of the delivery queue: 6 × the worker timeout, as AWS recommends for Lambda consumers. */
export const DELIVERY_VISIBILITY_TIMEOUT_SECONDS = 6 * WORKER_TIMEOUT_SECONDS;
/** Receives before a delivery is dead-lettered: with the worker's backoff (30 s doubling to 15 min) about 6.4 hours of retries. */
export const DELIVERY_MAX_RECEIVE_COUNT = 30;
/** The delivery queue keeps a message 4 days (longer than the retry window); the dead-letter queue 14 days (SQS's maximum). */
export const DELIVERY_RETENTION_SECONDS = 4 * 24 * 3600;
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;
/** Batch size and maximum concurrency of the worker's SQS event source (5 × 10 deliveries in flight). */
export const WORKER_BATCH_SIZE = 10;
export const WORKER_MAX_CONCURRENCY = 5;
/** API stage throttling: 200 pushes arriving at once pass the burst; 50/s sustained; above → 429. */
export const DEFAULT_THROTTLE_RATE = 50;
export const DEFAULT_THROTTLE_BURST = 200;
/** Reserved concurrency of the webhook Lambda when the props say nothing. */
export const DEFAULT_WEBHOOK_CONCURRENCY = 20;
/** Reconciler Lambda timeout (GitLab API calls, paced by its rate limit). */
export const RECONCILER_TIMEOUT_SECONDS = 300;
/** CodeBuild timeout of a source fetch (clone and upload of one commit), minutes. */
export const SOURCE_FETCH_BUILD_TIMEOUT_MINUTES = 15;
/** Queueing on top of the builds' run time: SQS, worker backoff, CodeBuild's queue. */
export const BUILD_RETRY_SLACK_SECONDS = 600;
/**
 * A build of a head whose zip is still not there this long after the head marker was written is
 * retried once by the reconciler (BUILD_RETRY_AFTER_SECONDS): twice the build timeout plus slack.
 */
export const BUILD_RETRY_AFTER_SECONDS = 2 * SOURCE_FETCH_BUILD_TIMEOUT_MINUTES * 60 + BUILD_RETRY_SLACK_SECONDS;

/** Key of the clone-and-upload program in the artifact bucket (CodeBuild's S3 source). */
export const SOURCE_FETCH_TOOL_KEY = `${ARTIFACT_PREFIXES.tooling}gitlab-source-fetch.zip`;

export interface GitlabIngestionProps {   
  /** GitLab base URL: clone URLs are built from it, never taken from a payload, so the deploy token goes nowhere else. */
  readonly gitlabUrl: string;
  /** How deliveries are authenticated. */
  readonly authMode: WebhookAuthMode;
  /** Whether tag pushes start builds. */
  readonly tagPushes: boolean;
  /** Repositories routed to this environment, with their branches. */
  readonly repositories: readonly RoutedRepository[];
  /** Literal name of the environment's artifact bucket (literal so that policies read plainly in plans). */
  readonly artifactBucketName: string;
  /** The artifact bucket's resources: whatever names the bucket literally waits for them (creation order). */
  readonly artifactBucket: ITerraformDependable;
  /** ARN of the environment KMS key (SSE-KMS for objects, encryption of log groups and builds). */
  readonly kmsKeyArn: string;
  /** VPC of the natted subnets. */
  readonly vpcId: string;
  /** Natted subnets: CodeBuild runs there, so a self-managed GitLab sees the NAT's stable IP. */
  readonly nattedSubnetIds: readonly string[];
  /** Retention of the log groups, days (one of CloudWatch's allowed values). */
  readonly logRetentionDays: number;
  /** Absolute path of the bundled webhook handler (index.js). */
  readonly webhookBundleFile: string;
  /** Absolute path of the bundled clone-and-upload program (clone-and-upload.js). */
  readonly sourceFetchBundleFile: string;
  /** Absolute path of the bundled delivery worker (index.js). */
  readonly workerBundleFile: string;
  /** Absolute path of the bundled reconciler (index.js). */
  readonly reconcilerBundleFile: string;
  /** Literal ARN of the environment's alarm topic: dead-lettered deliveries and retried builds alarm there. */
  readonly alarmTopicArn: string;
  /** The alarm topic resource (the ARN is literal, so the alarm waits for it explicitly). */
  readonly alarmTopic: ITerraformDependable;
  /** Minutes between reconciler runs. @default 10 */
  readonly reconcileIntervalMinutes?: number;
  /** Reserved concurrency of the webhook Lambda; null reserves none (accounts with a concurrency quota of 10). @default 20 */
  readonly reservedConcurrency?: number | null;
  /** Steady-state requests per second of the API stage. @default 50 */
  readonly throttleRateLimit?: number;
  /** Burst of the API stage. @default 200 */
  readonly throttleBurstLimit?: number;
}

/**
 * GitLab push ingestion: HTTP API (payload 2.0, one POST route) → webhook Lambda (authenticates,
 * routes and records the delivery in an SQS queue, then answers 202) → worker Lambda (writes the
 * commit's config file under webhook/ and starts a build, retried with backoff for hours, then
 * dead-lettered with an alarm) → CodeBuild (clones exactly that commit and uploads a zip to
 * software/ or infrastructure/). A scheduled reconciler compares GitLab's branch heads with the
 * zips and queues what was missed. One CodeBuild project per repository kind, so each build role
 * can write only its own kind's prefix.
 */
export class GitlabIngestion extends Construct {
  readonly api: Apigatewayv2Api;
  readonly webhookFunction: LambdaFunction;
  readonly webhookRole: IamRole;
  readonly deliveryQueue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly deadLetterAlarm: CloudwatchMetricAlarm;
  /** ReconcileBuildRetried > 0: a build of a branch head did not produce its zip and was started again. */
  readonly buildRetriedAlarm: CloudwatchMetricAlarm;
  readonly workerFunction: LambdaFunction;
  readonly workerRole: IamRole;
  readonly reconcilerFunction: LambdaFunction;
  readonly reconcilerRole: IamRole;
  /** The source-fetch CodeBuild project of each kind. */
  readonly buildProjects: Readonly<Record<RepositoryKind, CodebuildProject>>;
  readonly buildRoles: Readonly<Record<RepositoryKind, IamRole>>;
  /** `https://<api>.execute-api.<region>.amazonaws.com/gitlab`, to register in GitLab. */
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: GitlabIngestionProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    validate(props);
    const p = { ...props, ...ns };
    const name = (...parts: string[]) => envName(p, ...parts);
    const bucketArn = s3Arn(p.region, p.artifactBucketName);
    const params = gitlabParameterNames(p);
    const paramArn = (n: string) => regionalArn(p, 'ssm', `parameter${n}`);
    const roles = roleNames(p);
    const groups = logGroupNames(p);
    const logGroup = (logicalId: string, groupName: string) =>
      new CloudwatchLogGroup(this, logicalId, { name: groupName, retentionInDays: p.logRetentionDays, kmsKeyId: p.kmsKeyArn });
    // The key ARN is known only after apply: KMS grants go in a policy of their own, so the main
    // policy of each role stays literal and readable in the plan.
    const kmsPolicy = (logicalId: string, roleName: string, role: IamRole, ...statements: Statement[]) =>
      new IamRolePolicy(this, logicalId, { name: `${roleName}-kms`, role: role.id, policy: policyJson(policyDocument(...statements)) });

    // --- CodeBuild: one project per kind --------------------------------------------------------
    const toolArchive = this.zipped('source-fetch', p.sourceFetchBundleFile, 'gitlab-source-fetch');
    const tool = new S3Object(this, 'source-fetch-tool', {
      bucket: p.artifactBucketName,
      key: SOURCE_FETCH_TOOL_KEY,
      source: toolArchive.outputPath,
      sourceHash: toolArchive.outputMd5,
      serverSideEncryption: 'aws:kms',
      kmsKeyId: p.kmsKeyArn,
      // The bucket is named literally: without this edge Terraform may upload first (NoSuchBucket).
      dependsOn: [p.artifactBucket],
    });
    const buildSg = new SecurityGroup(this, 'source-fetch-sg', {
      name: name('gitlab-source-fetch'),
      description: 'GitLab source fetch builds: HTTPS out only, nothing in',
      vpcId: p.vpcId,
      tags: { Name: name('gitlab-source-fetch') },
    });
    // HTTPS only: the clone URL must lie under gitlab.url, which the config requires to be https://
    // (clone-and-upload checks it with httpCloneUrlProblem); SSH clone URLs are validated by the
    // webhook but never fetched, so no TCP 22.
    new VpcSecurityGroupEgressRule(this, 'source-fetch-sg-out-443', {
      securityGroupId: buildSg.id,
      description: 'HTTPS to GitLab, S3 and AWS APIs',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });
    const kinds: readonly RepositoryKind[] = REPOSITORY_KINDS;
    const buildRoles = {} as Record<RepositoryKind, IamRole>;
    const buildProjects = {} as Record<RepositoryKind, CodebuildProject>;
    for (const kind of kinds) {
      const projectName = name('gitlab-source-fetch', kind);
      const groupName = kind === 'software' ? groups.sourceFetchSoftware : groups.sourceFetchInfrastructure;
      const group = logGroup(`source-fetch-${kind}-logs`, groupName);
      const role = new IamRole(this, `source-fetch-${kind}-role`, {
        name: kind === 'software' ? roles.sourceFetchSoftware : roles.sourceFetchInfrastructure,
        description: `CodeBuild: clone GitLab ${kind} repositories of ${p.env} and upload them to ${ARTIFACT_PREFIXES[kind]}`,
        assumeRolePolicy: policyJson(serviceTrust(['codebuild.amazonaws.com'], { StringEquals: { 'aws:SourceAccount': p.account } })),
      });
      const roleName = kind === 'software' ? roles.sourceFetchSoftware : roles.sourceFetchInfrastructure;
      new IamRolePolicy(this, `source-fetch-${kind}-policy`, {
        name: roleName,
        role: role.id,
        policy: policyJson(
          policyDocument(
            logGroupWrite('WriteOwnLogs', p, groupName),
            s3ObjectAccess('ReadWebhookConfigs', bucketArn, ARTIFACT_PREFIXES.webhook, 'read'),
            { Sid: 'ReadSourceFetchTool', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: s3Arn(p.region, p.artifactBucketName, SOURCE_FETCH_TOOL_KEY) },
            s3ObjectAccess('UploadOwnKindOnly', bucketArn, ARTIFACT_PREFIXES[kind], 'write'),
            {
              Sid: 'ReadDeployToken',
              Effect: 'Allow',
              Action: 'ssm:GetParameters',
              Resource: [paramArn(params.deployToken), paramArn(params.deployTokenUser)],
            },
            {
              // CodeBuild in a VPC describes the network and manages its own ENIs; these EC2 actions
              // do not support resource-level permissions, so AWS requires "*".
              Sid: 'VpcBuildNetworking',
              Effect: 'Allow',
              Action: [
                'ec2:CreateNetworkInterface',
                'ec2:DeleteNetworkInterface',
                'ec2:DescribeDhcpOptions',
                'ec2:DescribeNetworkInterfaces',
                'ec2:DescribeSecurityGroups',
                'ec2:DescribeSubnets',
                'ec2:DescribeVpcs',
              ],
              Resource: '*',
            },
          ),
        ),
      });
      // The subnet ids are known only after apply, so this statement has a policy of its own too.
      new IamRolePolicy(this, `source-fetch-${kind}-vpc`, {
        name: `${roleName}-vpc`,
        role: role.id,
        policy: policyJson(
          policyDocument({
            Sid: 'VpcBuildEniPermissionInNattedSubnets',
            Effect: 'Allow',
            Action: 'ec2:CreateNetworkInterfacePermission',
            Resource: regionalArn(p, 'ec2', 'network-interface/*'),
            Condition: {
              StringEquals: { 'ec2:AuthorizedService': 'codebuild.amazonaws.com' },
              ArnEquals: { 'ec2:Subnet': p.nattedSubnetIds.map((s) => regionalArn(p, 'ec2', `subnet/${s}`)) },
            },
          }),
        ),
      });
      kmsPolicy(
        `source-fetch-${kind}-kms`,
        roleName,
        role,
        kmsViaService('ReadAndWriteObjectsThroughS3', p.kmsKeyArn, kmsActionsFor('read-write'), 's3', p.region),
        kmsViaService('DecryptDeployTokenThroughSsm', p.kmsKeyArn, ['kms:Decrypt'], 'ssm', p.region),
      );
      buildRoles[kind] = role;
      buildProjects[kind] = new CodebuildProject(this, `source-fetch-${kind}`, {
        name: projectName,
        description: `Clones the pushed commit of a GitLab ${kind} repository and uploads it to ${ARTIFACT_PREFIXES[kind]} (${p.env})`,
        serviceRole: role.arn,
        encryptionKey: p.kmsKeyArn,
        buildTimeout: SOURCE_FETCH_BUILD_TIMEOUT_MINUTES,
        queuedTimeout: 60,
        source: { type: 'S3', location: `${p.artifactBucketName}/${SOURCE_FETCH_TOOL_KEY}`, buildspec: sourceFetchBuildspec({ deployTokenParameter: params.deployToken, deployTokenUserParameter: params.deployTokenUser }) },
        artifacts: { type: 'NO_ARTIFACTS' },
        environment: {
          type: 'ARM_CONTAINER',
          computeType: 'BUILD_GENERAL1_SMALL',
          image: SOURCE_FETCH_IMAGE,
          imagePullCredentialsType: 'CODEBUILD',
          environmentVariable: [
            { name: 'ARTIFACT_BUCKET', value: p.artifactBucketName },
            { name: 'ARTIFACT_KMS_KEY_ARN', value: p.kmsKeyArn },
            { name: 'GITLAB_URL', value: p.gitlabUrl },
          ],
        },
        vpcConfig: { vpcId: p.vpcId, subnets: [...p.nattedSubnetIds], securityGroupIds: [buildSg.id] },
        logsConfig: { cloudwatchLogs: { groupName: group.name, status: 'ENABLED' }, s3Logs: { status: 'DISABLED' } },
        dependsOn: [tool],
      });
    }
    this.buildRoles = buildRoles;
    this.buildProjects = buildProjects;

    // --- Delivery queue (durable accept) ---------------------------------------------------------
    const iname = ingestionNames(p);
    const queueArn = regionalArn(p, 'sqs', iname.deliveryQueue);
    this.deadLetterQueue = new SqsQueue(this, 'delivery-dlq', {
      name: iname.deadLetterQueue,
      messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      kmsMasterKeyId: p.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      tags: { Name: iname.deadLetterQueue },
    });
    this.deliveryQueue = new SqsQueue(this, 'delivery-queue', {
      name: iname.deliveryQueue,
      visibilityTimeoutSeconds: DELIVERY_VISIBILITY_TIMEOUT_SECONDS,
      messageRetentionSeconds: DELIVERY_RETENTION_SECONDS,
      kmsMasterKeyId: p.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT }),
      tags: { Name: iname.deliveryQueue },
    });
    this.deadLetterAlarm = new CloudwatchMetricAlarm(this, 'dead-letter-alarm', {
      alarmName: iname.deadLetterAlarm,
      alarmDescription: `GitLab deliveries of ${p.env} were given up after ${DELIVERY_MAX_RECEIVE_COUNT} attempts (~${Math.round(retryWindowSeconds(DELIVERY_MAX_RECEIVE_COUNT) / 3600)} h) and wait in ${iname.deadLetterQueue}. Runbook: "redriving the dead-letter queue".`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: this.deadLetterQueue.name },
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [p.alarmTopicArn],
      okActions: [p.alarmTopicArn],
      dependsOn: [p.alarmTopic],
    });

    // The reconciler's EMF metric (contract.ts RECONCILE_METRICS), summed over one reconcile interval.
    const reconcileIntervalMinutes = p.reconcileIntervalMinutes ?? 10;
    this.buildRetriedAlarm = new CloudwatchMetricAlarm(this, 'build-retried-alarm', {
      alarmName: iname.buildRetriedAlarm,
      alarmDescription: `A GitLab branch head of ${p.env} had a build started, but ${Math.round(BUILD_RETRY_AFTER_SECONDS / 60)} min later its zip was still not at that commit; the reconciler queued it once more (build-retried). Runbook: "A delivery failed", build-retried.`,
      namespace: RECONCILE_METRICS.namespace,
      metricName: reconcileMetricName('build-retried'),
      dimensions: { [RECONCILE_METRICS.dimension]: p.env },
      statistic: 'Sum',
      period: reconcileIntervalMinutes * 60,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [p.alarmTopicArn],
      okActions: [p.alarmTopicArn],
      dependsOn: [p.alarmTopic],
    });

    // --- Webhook Lambda ------------------------------------------------------------------------
    const fnName = name('gitlab-webhook');
    const fnGroupName = groups.webhookLambda;
    const fnGroup = logGroup('webhook-logs', fnGroupName);
    const usesToken = p.authMode !== 'signature';
    const usesSignature = p.authMode !== 'token';
    const secretParams = [...(usesToken ? [params.webhookToken] : []), ...(usesSignature ? [params.webhookSigningSecret] : [])];
    this.webhookRole = new IamRole(this, 'webhook-role', {
      name: roles.webhookLambda,
      description: `GitLab webhook Lambda of ${p.env}`,
      assumeRolePolicy: policyJson(serviceTrust(['lambda.amazonaws.com'], { StringEquals: { 'aws:SourceAccount': p.account } })),
    });
    new IamRolePolicy(this, 'webhook-policy', {
      name: roles.webhookLambda,
      role: this.webhookRole.id,
      policy: policyJson(
        policyDocument(
          logGroupWrite('WriteOwnLogs', p, fnGroupName),
          { Sid: 'RecordDeliveries', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn },
          {
            Sid: 'ReadWebhookSecret',
            Effect: 'Allow',
            Action: 'ssm:GetParameter',
            Resource: secretParams.map(paramArn),
          },
        ),
      ),
    });
    kmsPolicy(
      'webhook-kms',
      roles.webhookLambda,
      this.webhookRole,
      kmsViaService('EncryptDeliveriesThroughSqs', p.kmsKeyArn, ['kms:GenerateDataKey', 'kms:Decrypt'], 'sqs', p.region),
      kmsViaService('DecryptWebhookSecretThroughSsm', p.kmsKeyArn, ['kms:Decrypt'], 'ssm', p.region),
    );
    /** The routed repositories and branches, as the webhook and the reconciler read them. */
    const routes = p.repositories.map((r) => ({ path: r.path, kind: r.kind, customer: r.customer, branches: r.routedBranches }));
    this.webhookFunction = this.nodeFunction('webhook', {
      bundleFile: p.webhookBundleFile,
      zipName: 'gitlab-webhook',
      functionName: fnName,
      description: `GitLab push webhook of ${p.env}: authenticates and routes a push, records it in ${iname.deliveryQueue}, answers 202`,
      role: this.webhookRole,
      timeout: WEBHOOK_TIMEOUT_SECONDS,
      reservedConcurrentExecutions: p.reservedConcurrency === null ? undefined : (p.reservedConcurrency ?? DEFAULT_WEBHOOK_CONCURRENCY),
      logGroup: fnGroup,
      // The Lambda's own contract (lambdas/gitlab-webhook/contract.ts) builds the variables.
      variables: webhookEnvironmentVariables({
        environment: p.env,
        artifactBucket: p.artifactBucketName,
        artifactKmsKeyArn: p.kmsKeyArn,
        codebuildProjects: { software: buildProjects.software.name, infrastructure: buildProjects.infrastructure.name },
        gitlabUrl: p.gitlabUrl,
        authMode: p.authMode,
        webhookTokenParameter: usesToken ? params.webhookToken : undefined,
        webhookSigningSecretParameter: usesSignature ? params.webhookSigningSecret : undefined,
        tagPushes: p.tagPushes,
        routes,
        deliveryQueueUrl: this.deliveryQueue.url,
      }),
    });

    // --- Worker Lambda (queue → config, StartBuild, build record) -------------------------------
    const projectArns = kinds.map((k) => regionalArn(p, 'codebuild', `project/${name('gitlab-source-fetch', k)}`));
    const workerGroup = logGroup('worker-logs', groups.webhookWorker);
    this.workerRole = new IamRole(this, 'worker-role', {
      name: roles.webhookWorker,
      description: `GitLab delivery worker Lambda of ${p.env}`,
      assumeRolePolicy: policyJson(serviceTrust(['lambda.amazonaws.com'], { StringEquals: { 'aws:SourceAccount': p.account } })),
    });
    new IamRolePolicy(this, 'worker-policy', {
      name: roles.webhookWorker,
      role: this.workerRole.id,
      policy: policyJson(
        policyDocument(
          logGroupWrite('WriteOwnLogs', p, groups.webhookWorker),
          {
            Sid: 'ConsumeDeliveries',
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
            Resource: queueArn,
          },
          // Read too: a retry reads the build record (also under webhook/); the listing lets S3
          // answer 404 rather than 403 for a record that is not written yet.
          s3ObjectAccess('WriteAndReadWebhookConfigs', bucketArn, ARTIFACT_PREFIXES.webhook, 'read-write'),
          s3ListPrefix('ListWebhookConfigs', bucketArn, ARTIFACT_PREFIXES.webhook),
          {
            Sid: 'StartAndFindSourceFetchBuilds',
            Effect: 'Allow',
            Action: ['codebuild:StartBuild', 'codebuild:ListBuildsForProject', 'codebuild:BatchGetBuilds'],
            Resource: projectArns,
          },
        ),
      ),
    });
    kmsPolicy(
      'worker-kms',
      roles.webhookWorker,
      this.workerRole,
      kmsViaService('WriteConfigsThroughS3', p.kmsKeyArn, kmsActionsFor('read-write'), 's3', p.region),
      kmsViaService('ReadDeliveriesThroughSqs', p.kmsKeyArn, ['kms:Decrypt'], 'sqs', p.region),
    );
    this.workerFunction = this.nodeFunction('worker', {
      bundleFile: p.workerBundleFile,
      zipName: 'gitlab-worker',
      functionName: iname.workerFunction,
      dependsOn: [p.artifactBucket],
      description: `GitLab delivery worker of ${p.env}: writes the commit config under ${ARTIFACT_PREFIXES.webhook} and starts the source fetch, with retries`,
      role: this.workerRole,
      timeout: WORKER_TIMEOUT_SECONDS,
      logGroup: workerGroup,
      variables: workerEnvironmentVariables({
        environment: p.env,
        artifactBucket: p.artifactBucketName,
        artifactKmsKeyArn: p.kmsKeyArn,
        codebuildProjects: { software: buildProjects.software.name, infrastructure: buildProjects.infrastructure.name },
        deliveryQueueUrl: this.deliveryQueue.url,
      }),
    });
    new LambdaEventSourceMapping(this, 'worker-source', {
      eventSourceArn: this.deliveryQueue.arn,
      functionName: this.workerFunction.arn,
      batchSize: WORKER_BATCH_SIZE,
      functionResponseTypes: ['ReportBatchItemFailures'],
      scalingConfig: { maximumConcurrency: WORKER_MAX_CONCURRENCY },
    });

    // --- Reconciler (EventBridge Scheduler → Lambda) ---------------------------------------------
    const reconcilerGroup = logGroup('reconciler-logs', groups.reconciler);
    this.reconcilerRole = new IamRole(this, 'reconciler-role', {
      name: roles.reconciler,
      description: `GitLab reconciler Lambda of ${p.env}: queues routed branches whose head was not built`,
      assumeRolePolicy: policyJson(serviceTrust(['lambda.amazonaws.com'], { StringEquals: { 'aws:SourceAccount': p.account } })),
    });
    new IamRolePolicy(this, 'reconciler-policy', {
      name: roles.reconciler,
      role: this.reconcilerRole.id,
      policy: policyJson(
        policyDocument(
          logGroupWrite('WriteOwnLogs', p, groups.reconciler),
          { Sid: 'ReadGitlabApiToken', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: paramArn(params.apiToken) },
          {
            // HeadObject needs s3:GetObject: the zips' commit-sha, and the worker's "build started" markers.
            Sid: 'HeadZipsAndBuildMarkers',
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: [s3Arn(p.region, p.artifactBucketName, `${ARTIFACT_PREFIXES.software}*`), s3Arn(p.region, p.artifactBucketName, `${ARTIFACT_PREFIXES.infrastructure}*`), s3Arn(p.region, p.artifactBucketName, `${ARTIFACT_PREFIXES.webhook}${p.env}/heads/*`)],
          },
          {
            // 404 rather than 403 for a zip or marker that does not exist yet.
            Sid: 'ListZipsAndBuildMarkers',
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: bucketArn,
            Condition: { StringLike: { 's3:prefix': [`${ARTIFACT_PREFIXES.software}*`, `${ARTIFACT_PREFIXES.infrastructure}*`, `${ARTIFACT_PREFIXES.webhook}${p.env}/heads/*`] } },
          },
          { Sid: 'QueueMissedPushes', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn },
        ),
      ),
    });
    kmsPolicy(
      'reconciler-kms',
      roles.reconciler,
      this.reconcilerRole,
      kmsViaService('EncryptDeliveriesThroughSqs', p.kmsKeyArn, ['kms:GenerateDataKey', 'kms:Decrypt'], 'sqs', p.region),
      kmsViaService('DecryptApiTokenThroughSsm', p.kmsKeyArn, ['kms:Decrypt'], 'ssm', p.region),
    );
    this.reconcilerFunction = this.nodeFunction('reconciler', {
      bundleFile: p.reconcilerBundleFile,
      zipName: 'gitlab-reconciler',
      functionName: iname.reconcilerFunction,
      dependsOn: [p.artifactBucket],
      description: `GitLab reconciler of ${p.env}: queues a build for every routed branch whose GitLab head is not its zip's commit`,
      role: this.reconcilerRole,
      timeout: RECONCILER_TIMEOUT_SECONDS,
      // One run at a time: a slow run (GitLab rate limit) never overlaps the next.
      reservedConcurrentExecutions: p.reservedConcurrency === null ? undefined : 1,
      logGroup: reconcilerGroup,
      variables: reconcilerEnvironmentVariables({
        environment: p.env,
        artifactBucket: p.artifactBucketName,
        gitlabUrl: p.gitlabUrl,
        apiTokenParameter: params.apiToken,
        deliveryQueueUrl: this.deliveryQueue.url,
        routes,
        timeBudgetSeconds: RECONCILER_TIMEOUT_SECONDS - 30,
        buildRetryAfterSeconds: BUILD_RETRY_AFTER_SECONDS,
      }),
    });
    const schedulerRole = new IamRole(this, 'reconcile-scheduler-role', {
      name: roles.reconcileScheduler,
      description: `EventBridge Scheduler: runs the GitLab reconciler of ${p.env}`,
      assumeRolePolicy: policyJson(serviceTrust(['scheduler.amazonaws.com'], { StringEquals: { 'aws:SourceAccount': p.account } })),
    });
    new IamRolePolicy(this, 'reconcile-scheduler-policy', {
      name: roles.reconcileScheduler,
      role: schedulerRole.id,
      policy: policyJson(policyDocument({ Sid: 'InvokeReconciler', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: regionalArn(p, 'lambda', `function:${iname.reconcilerFunction}`) })),
    });
    new SchedulerSchedule(this, 'reconcile-schedule', {
      name: iname.reconcileSchedule,
      description: `Runs ${iname.reconcilerFunction} every ${reconcileIntervalMinutes} minutes`,
      scheduleExpression: `rate(${reconcileIntervalMinutes} minutes)`,
      flexibleTimeWindow: { mode: 'OFF' },
      target: { arn: this.reconcilerFunction.arn, roleArn: schedulerRole.arn, retryPolicy: { maximumRetryAttempts: 0 } },
    });

    // --- HTTP API --------------------------------------------------------------------------------
    const apiGroup = logGroup('api-access-logs', groups.webhookApi);
    this.api = new Apigatewayv2Api(this, 'api', {
      name: name('gitlab-webhook'),
      description: `GitLab webhook endpoint of ${p.env}`,
      protocolType: 'HTTP',
    });
    const integration = new Apigatewayv2Integration(this, 'integration', {
      apiId: this.api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: this.webhookFunction.invokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: (WEBHOOK_TIMEOUT_SECONDS + 1) * 1000,
    });
    new Apigatewayv2Route(this, 'route', {
      apiId: this.api.id,
      routeKey: `POST ${WEBHOOK_ROUTE_PATH}`,
      target: `integrations/${integration.id}`,
    });
    new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: p.throttleRateLimit ?? DEFAULT_THROTTLE_RATE, throttlingBurstLimit: p.throttleBurstLimit ?? DEFAULT_THROTTLE_BURST },
      accessLogSettings: {
        destinationArn: apiGroup.arn,
        format: JSON.stringify({
          requestId: '$context.requestId',
          ip: '$context.identity.sourceIp',
          requestTime: '$context.requestTime',
          routeKey: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          integrationStatus: '$context.integrationStatus',
          integrationError: '$context.integrationErrorMessage',
          userAgent: '$context.identity.userAgent',
        }),
      },
    });
    new LambdaPermission(this, 'api-invoke', {
      statementId: 'AllowHttpApiInvoke',
      action: 'lambda:InvokeFunction',
      functionName: this.webhookFunction.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/*/*${WEBHOOK_ROUTE_PATH}`,
    });
    this.webhookUrl = `${this.api.apiEndpoint}${WEBHOOK_ROUTE_PATH}`;
  }

  /**
   * Ships a bundled file with the stack (a cdktf asset, copied into the stack folder) and zips it at
   * plan time with data.archive_file. Both paths are relative to the stack folder (`${path.module}`).
   */
  /**
   * A Node.js Lambda of the ingestion (arm64, 256 MB, JSON logs to its own group) from a bundled
   * program, zipped at plan time (`<id>-bundle`, `<id>-zip`; the function's construct id is `id`).
   */
  private nodeFunction(
    id: string,
    o: {
      readonly bundleFile: string;
      readonly zipName: string;
      readonly functionName: string;
      readonly description: string;
      readonly role: IamRole;
      readonly timeout: number;
      readonly logGroup: CloudwatchLogGroup;
      readonly variables: Record<string, string>;
      readonly reservedConcurrentExecutions?: number;
      readonly dependsOn?: ITerraformDependable[];
    },
  ): LambdaFunction {
    const archive = this.zipped(id, o.bundleFile, o.zipName);
    return new LambdaFunction(this, id, {
      functionName: o.functionName,
      dependsOn: o.dependsOn,
      description: o.description,
      role: o.role.arn,
      runtime: WEBHOOK_RUNTIME,
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: archive.outputPath,
      sourceCodeHash: archive.outputBase64Sha256,
      memorySize: 256,
      timeout: o.timeout,
      reservedConcurrentExecutions: o.reservedConcurrentExecutions,
      loggingConfig: { logFormat: 'JSON', logGroup: o.logGroup.name, applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
      environment: { variables: o.variables },
    });
  }

  private zipped(id: string, file: string, zipName: string): DataArchiveFile {
    const asset = new TerraformAsset(this, `${id}-bundle`, { path: file, type: AssetType.FILE });
    return new DataArchiveFile(this, `${id}-zip`, {
      type: 'zip',
      sourceFile: `\${path.module}/${asset.path}`,
      outputFileMode: '0644',
      outputPath: `\${path.module}/build/${zipName}.zip`,
    });
  }
}

function validate(p: GitlabIngestionProps): void {
  const problems: string[] = [];
  if (p.nattedSubnetIds.length !== 3) problems.push(`nattedSubnetIds must list the 3 natted subnets, got ${p.nattedSubnetIds.length}`);
  for (const [prop, file] of [
    ['webhookBundleFile', p.webhookBundleFile],
    ['sourceFetchBundleFile', p.sourceFetchBundleFile],
    ['workerBundleFile', p.workerBundleFile],
    ['reconcilerBundleFile', p.reconcilerBundleFile],
  ] as const) {
    if (!path.isAbsolute(file)) problems.push(`${prop} must be an absolute path, got ${JSON.stringify(file)}`);
  }
  const rc = p.reservedConcurrency;
  if (rc !== undefined && rc !== null && (!Number.isInteger(rc) || rc < 1 || rc > 100)) problems.push(`reservedConcurrency must be a whole number from 1 to 100, got ${rc}`);
  const ri = p.reconcileIntervalMinutes;
  if (ri !== undefined && (!Number.isInteger(ri) || ri < 5 || ri > 1440)) problems.push(`reconcileIntervalMinutes must be a whole number from 5 to 1440, got ${ri}`);
  for (const [prop, v, min, max] of [
    ['throttleRateLimit', p.throttleRateLimit, 1, 10000],
    ['throttleBurstLimit', p.throttleBurstLimit, 1, 5000],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) problems.push(`${prop} must be a whole number from ${min} to ${max}, got ${v}`);
  }
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(p.alarmTopicArn)) problems.push(`alarmTopicArn must be an SNS topic ARN, got ${JSON.stringify(p.alarmTopicArn)}`);
  if (!/^https:\/\//.test(p.gitlabUrl)) problems.push(`gitlabUrl must start with https://, got ${JSON.stringify(p.gitlabUrl)}`);
  if (problems.length > 0) throw new Error(`GitlabIngestion: ${problems.join('; ')}`);
}
