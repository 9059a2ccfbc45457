/**
 * The worker's parts one by one, with exact inputs and outputs: the AWS error classification, the
 * queue message, the S3 writes and CodeBuild calls of a delivery (first delivery, duplicates, the
 * lookup of an unrecorded build beyond CodeBuild's token window), the worker's log lines and
 * visibility backoff, its settings and its entry point. The end-to-end behaviour under load and
 * failures is in gitlab-worker.test.ts.
 */
import { createHash } from 'crypto';
import { Readable } from 'stream';
import { sdkStreamMixin } from '@smithy/core/serde';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { BatchGetBuildsCommand, Build, CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand, StartBuildCommandInput } from '@aws-sdk/client-codebuild';
import { httpStatusOf, isNotFound, isPreconditionFailed, upstreamStatus } from '../../lambdas/gitlab-webhook/aws-errors';
import { BUILD_LOOKUP_LIMIT, buildRecordKeyOf, configKeyOf, deliver, DeliveryResult, deliveryKeyOf, idempotencyTokenOf, MissingBuildIdError, TOKEN_TRUST_MS } from '../../lambdas/gitlab-webhook/delivery';
import { deliveryMessageBody, enqueueDelivery, MAX_COMMIT_MESSAGE_CHARS, parseDeliveryMessage } from '../../lambdas/gitlab-webhook/queue';
import { BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS, backoffSeconds, createWorker, retryWindowSeconds } from '../../lambdas/gitlab-webhook/worker';
import { parseWorkerSettings } from '../../lambdas/gitlab-webhook/worker-settings';
import { handler } from '../../lambdas/gitlab-webhook/worker-index';
import { sdk } from '../../lambdas/gitlab-webhook/sdk';
import { WORKER_ENV, workerEnvironmentVariables } from '../../lambdas/gitlab-webhook/contract';
import { createLogger } from '../../lambdas/gitlab-webhook/log';
import { SettingsError } from '../../lambdas/gitlab-webhook/settings';
import { parseSourceConfig, SourceConfig, SourceConfigError } from '../../lambdas/shared/source-config';
import { coldLoad } from './helpers/cold-load';
import { baseInput, FakeAws, KMS_KEY, NOW_MS, QUEUE_URL, s3SlowDown, sourceConfigOf, sqsEvent, throttled } from './helpers/webhook';

const BUCKET = baseInput.artifactBucket;
const SHA = 'c5a7e9f1b40d2e6a1c4e8f9b3d2c5a7e9f1b40d2';
const DELIVERY_KEY = '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40';
const CONFIG_KEY = `webhook/dev/${DELIVERY_KEY}.json`;
const RECORD_KEY = `webhook/dev/${DELIVERY_KEY}.build.json`;
const TOKEN = createHash('sha256').update(`dev/${DELIVERY_KEY}`, 'utf8').digest('hex');
/** Error names that mean "slow down" (answered 503, retried), spelled out: the table aws-errors.ts must hold. */
const THROTTLING_NAMES = ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded', 'AccountLimitExceededException', 'ServiceUnavailable', 'ServiceUnavailableException'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const sourceConfig = (over: Partial<SourceConfig> = {}): SourceConfig => sourceConfigOf({ deliveryKey: DELIVERY_KEY, after: SHA, commit: { ...sourceConfigOf().commit, sha: SHA }, ...over });

const target = { artifactBucket: BUCKET, artifactKmsKeyArn: KMS_KEY, codebuildProjects: baseInput.codebuildProjects, environment: 'dev' };

/** Log lines as objects, without the time stamp. */
function capture(): { lines: Array<Record<string, unknown>>; write: (line: string) => void } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    write: (line) => {
      const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      expect(time).toMatch(ISO);
      lines.push(rest);
    },
  };
}

const errorOf = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}), ...extra });

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

/** The tables and constants these modules build when they load (throttling names, the key pattern, the key and token functions), loaded by the test that checks them. */
/* eslint-disable @typescript-eslint/no-require-imports */
const coldAwsErrors = () => coldLoad<typeof import('../../lambdas/gitlab-webhook/aws-errors')>(() => require('../../lambdas/gitlab-webhook/aws-errors'));
const coldDelivery = () => coldLoad<typeof import('../../lambdas/gitlab-webhook/delivery')>(() => require('../../lambdas/gitlab-webhook/delivery'));
const coldQueue = () => coldLoad<typeof import('../../lambdas/gitlab-webhook/queue')>(() => require('../../lambdas/gitlab-webhook/queue'));
/* eslint-enable @typescript-eslint/no-require-imports */

describe('module tables and constants, as a cold start loads them', () => {
  test.each(THROTTLING_NAMES)('%s (status 400) is worth retrying soon: 503', (name) => {
    const { upstreamStatus: status } = coldAwsErrors();
    expect(status(errorOf(name, 400))).toBe(503);
    expect(status(errorOf(`${name}Not`, 400))).toBe(502);
    expect(status(errorOf('', 400))).toBe(502);
  });

  test.each([
    ['a GitLab UUID', DELIVERY_KEY, true],
    ['one character', 'a', true],
    ['128 characters', `a${'-'.repeat(127)}`, true],
    ['129 characters', `a${'-'.repeat(128)}`, false],
    ['a leading dash', '-abc', false],
    ['a leading underscore', '_abc', false],
    ['a slash', 'abc/def', false],
    ['a trailing dot', 'abc.', false],
    ['a trailing newline', 'abc\n', false],
    ['empty', '', false],
  ])('IDEMPOTENCY_KEY: %s is %p', (_, key, ok) => {
    expect(coldDelivery().IDEMPOTENCY_KEY.test(key)).toBe(ok);
  });

  test('the delivery key layout, the token and the token-trust window', () => {
    const d = coldDelivery();
    expect(d.configKeyOf('dev', DELIVERY_KEY)).toBe(CONFIG_KEY);
    expect(d.buildRecordKeyOf('dev', DELIVERY_KEY)).toBe(RECORD_KEY);
    expect(d.idempotencyTokenOf('dev', DELIVERY_KEY)).toBe(TOKEN);
    expect(d.TOKEN_TRUST_MS).toBe(4 * 60 * 1000);
    expect(d.BUILD_LOOKUP_LIMIT).toBe(300);
  });

  test('commit messages are cut at 16 KiB', () => {
    const q = coldQueue();
    expect(q.MAX_COMMIT_MESSAGE_CHARS).toBe(16 * 1024);
    const long = sourceConfig({ commit: { ...sourceConfig().commit, message: 'm'.repeat(20_000) } });
    expect((JSON.parse(q.deliveryMessageBody(long)) as SourceConfig).commit.message).toBe(`${'m'.repeat(16 * 1024)}\n[…]`);
  });
});

describe('AWS error classification', () => {
  test.each<[string, unknown, number | undefined]>([
    ['an SDK error', errorOf('SlowDown', 503), 503],
    ['an error without metadata', errorOf('Boom'), undefined],
    ['metadata without a status', Object.assign(new Error('x'), { $metadata: {} }), undefined],
    ['null', null, undefined],
    ['undefined', undefined, undefined],
    ['a string', 'oops', undefined],
  ])('httpStatusOf %s', (_, e, status) => {
    expect(httpStatusOf(e)).toBe(status);
  });

  test.each<[string, unknown, boolean]>([
    ['412', errorOf('SomethingElse', 412), true],
    ['the name PreconditionFailed without a status', errorOf('PreconditionFailed'), true],
    ['S3 PreconditionFailed', new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'pre-condition' }), true],
    ['409 (a conflicting conditional write)', errorOf('ConditionalRequestConflict', 409), false],
    ['404', errorOf('NoSuchKey', 404), false],
    ['null', null, false],
    ['undefined', undefined, false],
  ])('isPreconditionFailed: %s', (_, e, expected) => {
    expect(isPreconditionFailed(e)).toBe(expected);
  });

  test.each<[string, unknown, boolean]>([
    ['NoSuchKey without a status', errorOf('NoSuchKey'), true],
    ['NotFound without a status', errorOf('NotFound'), true],
    ['any name with 404', errorOf('Whatever', 404), true],
    ['AccessDenied 403 (no s3:ListBucket)', errorOf('AccessDenied', 403), false],
    ['NoSuchBucket 400', errorOf('NoSuchBucket', 400), false],
    ['null', null, false],
    ['undefined', undefined, false],
  ])('isNotFound: %s', (_, e, expected) => {
    expect(isNotFound(e)).toBe(expected);
  });

  test.each(THROTTLING_NAMES)('upstreamStatus: %s (status 400) is 503', (name) => {
    expect(upstreamStatus(errorOf(name, 400))).toBe(503);
    expect(upstreamStatus(errorOf(name))).toBe(503);
  });

  test.each<[string, unknown, 502 | 503]>([
    ['429', errorOf('Whatever', 429), 503],
    ['503', errorOf('Whatever', 503), 503],
    ['409', errorOf('Whatever', 409), 503],
    ['$retryable.throttling true', errorOf('Whatever', 400, { $retryable: { throttling: true } }), 503],
    ['$retryable.throttling false', errorOf('Whatever', 400, { $retryable: { throttling: false } }), 502],
    ['$retryable without throttling', errorOf('Whatever', 500, { $retryable: {} }), 502],
    ['500', errorOf('InternalError', 500), 502],
    ['502', errorOf('BadGateway', 502), 502],
    ['403', errorOf('AccessDenied', 403), 502],
    ['412', errorOf('PreconditionFailed', 412), 502],
    ['no name, no status', {}, 502],
    ['an empty name', errorOf(''), 502],
    ['null', null, 502],
    ['undefined', undefined, 502],
  ])('upstreamStatus: %s is %i', (_, e, expected) => {
    expect(upstreamStatus(e)).toBe(expected);
  });
});

describe('the queue message', () => {
  const withMessage = (message: string | null) => sourceConfig({ commit: { ...sourceConfig().commit, message } });

  test('the body is the config as JSON, and parses back to it', () => {
    const body = deliveryMessageBody(sourceConfig());
    expect(JSON.parse(body)).toEqual(sourceConfig());
    expect(parseDeliveryMessage(body)).toEqual(sourceConfig());
  });

  test.each([
    ['no message', null, null],
    ['an empty message', '', ''],
    ['a message of exactly the limit', 'x'.repeat(MAX_COMMIT_MESSAGE_CHARS), 'x'.repeat(MAX_COMMIT_MESSAGE_CHARS)],
    ['a message one over the limit', `${'x'.repeat(MAX_COMMIT_MESSAGE_CHARS)}y`, `${'x'.repeat(MAX_COMMIT_MESSAGE_CHARS)}\n[…]`],
    ['a 200 kB message', 'z'.repeat(200 * 1024), `${'z'.repeat(MAX_COMMIT_MESSAGE_CHARS)}\n[…]`],
  ])('%s', (_, message, expected) => {
    expect(MAX_COMMIT_MESSAGE_CHARS).toBe(16384);
    const doc = JSON.parse(deliveryMessageBody(withMessage(message))) as SourceConfig;
    expect(doc).toEqual(withMessage(expected));
  });

  test('a message the worker must not act on is refused', () => {
    expect(() => parseDeliveryMessage('{"version":2}')).toThrow(new SourceConfigError('unsupported config version 2; expected 1'));
  });

  test('SendMessage: the queue, the body and the delivery key attribute; answers the message id', async () => {
    const sqs = new SQSClient({ region: 'eu-west-1' });
    expect(await enqueueDelivery(sqs, QUEUE_URL, sourceConfig())).toBe('msg-1');
    expect(aws.sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: deliveryMessageBody(sourceConfig()), MessageAttributes: { deliveryKey: { DataType: 'String', StringValue: DELIVERY_KEY } } },
    ]);
  });

  test('SendMessage without a message id answers an empty string; an SQS failure is thrown', async () => {
    const sqs = new SQSClient({ region: 'eu-west-1' });
    aws.sqs.on(SendMessageCommand).resolvesOnce({}).rejectsOnce(throttled());
    expect(await enqueueDelivery(sqs, QUEUE_URL, sourceConfig())).toBe('');
    await expect(enqueueDelivery(sqs, QUEUE_URL, sourceConfig())).rejects.toThrow('Rate exceeded');
  });
});

describe('delivery keys', () => {
  const push = { projectPath: 'Acme/Web-Shop', ref: 'refs/heads/main', before: '1'.repeat(40), after: SHA };

  test('the Idempotency-Key header wins, as it is', () => {
    expect(deliveryKeyOf(DELIVERY_KEY, push)).toBe(DELIVERY_KEY);
    expect(deliveryKeyOf('', push)).toBe('');
  });

  test('else sha256 of the lower-cased path, ref, before and after, one a line', () => {
    const expected = createHash('sha256').update(`acme/web-shop\nrefs/heads/main\n${'1'.repeat(40)}\n${SHA}`, 'utf8').digest('hex');
    expect(deliveryKeyOf(undefined, push)).toBe(expected);
    expect(deliveryKeyOf(undefined, { ...push, projectPath: 'acme/web-shop' })).toBe(expected);
  });

  test('a branch name beyond ASCII is hashed as UTF-8', () => {
    const bytes = Buffer.from(`acme/web-shop\nrefs/heads/größe-✓\n${'1'.repeat(40)}\n${SHA}`, 'utf8');
    expect(deliveryKeyOf(undefined, { ...push, ref: 'refs/heads/größe-✓' })).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(idempotencyTokenOf('dev', 'größe')).toBe(createHash('sha256').update(Buffer.from('dev/größe', 'utf8')).digest('hex'));
  });

  test('the S3 keys and the CodeBuild token', () => {
    expect(configKeyOf('dev', DELIVERY_KEY)).toBe(CONFIG_KEY);
    expect(buildRecordKeyOf('dev', DELIVERY_KEY)).toBe(RECORD_KEY);
    expect(idempotencyTokenOf('dev', DELIVERY_KEY)).toBe(TOKEN);
    expect(TOKEN_TRUST_MS).toBe(240_000);
    expect(BUILD_LOOKUP_LIMIT).toBe(300);
  });
});

describe('deliver', () => {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const clients = { s3: () => s3, codebuild: () => codebuild };
  const puts = () => aws.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  const starts = () => aws.codebuild.commandCalls(StartBuildCommand).map((c) => c.args[0].input);
  const headMarkerPut = (config = sourceConfig()) => ({
    Bucket: BUCKET,
    Key: `webhook/dev/heads/${config.kind}/acme/main/${SHA}`,
    Body: JSON.stringify({ deliveryKey: DELIVERY_KEY, targetKey: config.targetKey }),
    ContentType: 'application/json',
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: KMS_KEY,
  });
  const configPut = (config = sourceConfig()) => ({
    Bucket: BUCKET,
    Key: CONFIG_KEY,
    Body: `${JSON.stringify(config, null, 2)}\n`,
    ContentType: 'application/json',
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: KMS_KEY,
    IfNoneMatch: '*',
  });
  const recordPut = (_buildId: string) => ({
    Bucket: BUCKET,
    Key: RECORD_KEY,
    Body: expect.any(String),
    ContentType: 'application/json',
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: KMS_KEY,
  });
  const startInput = (project = 'wvm-dev-source-fetch') => ({
    projectName: project,
    idempotencyToken: TOKEN,
    environmentVariablesOverride: [
      { name: 'CONFIG_BUCKET', value: BUCKET, type: 'PLAINTEXT' },
      { name: 'CONFIG_KEY', value: CONFIG_KEY, type: 'PLAINTEXT' },
    ],
  });
  const recordOf = () => JSON.parse(aws.object(RECORD_KEY)!.body) as Record<string, unknown>;

  test('first delivery: head marker, config (If-None-Match), StartBuild, build record', async () => {
    const log = capture();
    const before = Date.now();
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS });
    const build = 'wvm-dev-source-fetch:00000001-build';
    expect(result).toEqual({ status: 'started', buildId: build, configKey: CONFIG_KEY });
    expect(puts()).toEqual([headMarkerPut(), configPut(), recordPut(build)]);
    expect(starts()).toEqual([startInput()]);
    expect(recordOf()).toEqual({ buildId: build, deliveryKey: DELIVERY_KEY, recordedAt: expect.stringMatching(ISO) });
    expect(Date.parse(recordOf().recordedAt as string)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(aws.s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(log.lines).toEqual([]);
  });

  test('an infrastructure repository builds with the infrastructure project', async () => {
    const config = sourceConfig({ kind: 'infrastructure', targetKey: 'infrastructure/acme/main.zip' });
    const result = await deliver(clients, target, config, createLogger('debug', () => undefined), { now: () => NOW_MS });
    expect(result.buildId).toBe('wvm-dev-source-fetch-infrastructure:00000001-build');
    expect(puts()[0]).toEqual(headMarkerPut(config));
    expect(starts()).toEqual([startInput('wvm-dev-source-fetch-infrastructure')]);
  });

  test('a duplicate with a build record answers the recorded build and starts nothing', async () => {
    await deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS });
    aws.resetHistory();
    const log = capture();
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS + 3600_000 });
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: false });
    expect(aws.s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: RECORD_KEY }]);
    expect(puts()).toEqual([headMarkerPut(), configPut()]);
    expect(starts()).toEqual([]);
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(0);
    expect(log.lines).toEqual([]);
  });

  /** The config is there, the record is not: the first attempt stopped after the config write. */
  async function unrecorded(opts: { startedAt?: number; record?: string } = {}): Promise<void> {
    aws.objects.set(`${BUCKET}/${CONFIG_KEY}`, { body: '{}', input: { Bucket: BUCKET, Key: CONFIG_KEY } });
    if (opts.record !== undefined) aws.objects.set(`${BUCKET}/${RECORD_KEY}`, { body: opts.record, input: { Bucket: BUCKET, Key: RECORD_KEY } });
    if (opts.startedAt !== undefined) {
      aws.clock = opts.startedAt;
      await codebuild.send(new StartBuildCommand(startInput() as StartBuildCommandInput));
      aws.resetHistory();
    }
  }

  test.each([
    ['just received', 0],
    ['1 ms inside the token-trust window', TOKEN_TRUST_MS - 1],
  ])('no record, %s: StartBuild again with the same token (CodeBuild answers the first build), no lookup', async (_, age) => {
    await unrecorded({ startedAt: NOW_MS });
    aws.clock = NOW_MS + age;
    const log = capture();
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS + age });
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: true });
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(0);
    expect(starts()).toEqual([startInput()]);
    expect(aws.builds).toHaveLength(1);
    expect(recordOf()).toEqual({ buildId: 'wvm-dev-source-fetch:00000001-build', deliveryKey: DELIVERY_KEY, recordedAt: expect.stringMatching(ISO) });
    expect(log.lines).toEqual([]);
  });

  test.each([
    ['exactly at the end of the token-trust window', TOKEN_TRUST_MS],
    ['an hour later', 3600_000],
  ])('no record, %s: the build is looked up by its CONFIG_KEY, recorded, not started again', async (_, age) => {
    await unrecorded({ startedAt: NOW_MS });
    aws.clock = NOW_MS + age;
    const log = capture();
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS + age });
    const build = 'wvm-dev-source-fetch:00000001-build';
    expect(result).toEqual({ status: 'duplicate', buildId: build, configKey: CONFIG_KEY, restarted: false });
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand).map((c) => c.args[0].input)).toEqual([{ projectName: 'wvm-dev-source-fetch', sortOrder: 'DESCENDING', nextToken: undefined }]);
    expect(aws.codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input)).toEqual([{ ids: [build] }]);
    expect(starts()).toEqual([]);
    expect(puts()).toEqual([headMarkerPut(), configPut(), recordPut(build)]);
    expect(recordOf()).toEqual({ buildId: build, deliveryKey: DELIVERY_KEY, recordedAt: expect.stringMatching(ISO) });
    expect(log.lines).toEqual([{ level: 'warn', msg: 'found the build of an unrecorded delivery', deliveryKey: DELIVERY_KEY, buildId: build }]);
  });

  test('no record and no build found beyond the window: the build is started (restarted)', async () => {
    await unrecorded();
    aws.clock = NOW_MS + 3600_000;
    const log = capture();
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS + 3600_000 });
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: true });
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(1);
    expect(aws.codebuild.commandCalls(BatchGetBuildsCommand)).toHaveLength(0);
    expect(starts()).toEqual([startInput()]);
    expect(log.lines).toEqual([]);
  });

  test('without a clock option the real clock is used', async () => {
    await unrecorded();
    const result = await deliver(clients, target, sourceConfig({ receivedAt: new Date().toISOString() }), createLogger('debug', () => undefined));
    expect(result.status).toBe('duplicate');
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(0);
  });

  test('an unreadable receivedAt: looked up among all builds since the epoch', async () => {
    await unrecorded();
    // A build of another config, started long ago, then ours: the lookup must not stop at the old one.
    aws.buildInfo.set('wvm-dev-source-fetch:ours', { project: 'wvm-dev-source-fetch', startTime: Date.parse('2001-01-01T00:00:00Z'), configKey: CONFIG_KEY });
    aws.buildInfo.set('wvm-dev-source-fetch:other', { project: 'wvm-dev-source-fetch', startTime: Date.parse('2000-01-01T00:00:00Z'), configKey: 'webhook/dev/other.json' });
    const result = await deliver(clients, target, sourceConfig({ receivedAt: 'yesterday' }), createLogger('debug', () => undefined), { now: () => NOW_MS });
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:ours', configKey: CONFIG_KEY, restarted: false });
  });

  test('an unreadable receivedAt counts as the epoch: a build started before 1970 ends the lookup', async () => {
    await unrecorded();
    aws.buildInfo.set('wvm-dev-source-fetch:ours', { project: 'wvm-dev-source-fetch', startTime: NOW_MS, configKey: CONFIG_KEY });
    aws.buildInfo.set('wvm-dev-source-fetch:1969', { project: 'wvm-dev-source-fetch', startTime: -120_000, configKey: 'webhook/dev/other.json' });
    const many = Array.from({ length: 100 }, (_, i) => `wvm-dev-source-fetch:pad-${i}`);
    // The 1969 build on the first page (ListBuilds answers newest first: the reverse of insertion).
    for (const id of many.slice(0, 99)) aws.buildInfo.set(id, { project: 'wvm-dev-source-fetch', startTime: NOW_MS, configKey: `webhook/dev/${id}.json` });
    const result = await deliver(clients, target, sourceConfig({ receivedAt: 'yesterday' }), createLogger('debug', () => undefined), { now: () => NOW_MS });
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(1);
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: true });
  });

  describe('the lookup of an unrecorded build', () => {
    const AGE = 3600_000;
    const build = (id: string, startTime: number | undefined, configKey: string | undefined) => ({
      id,
      ...(startTime !== undefined ? { startTime: new Date(startTime) } : {}),
      ...(configKey !== undefined ? { environment: { environmentVariables: [{ name: 'CONFIG_BUCKET', value: configKey }, { name: 'CONFIG_KEY', value: configKey }] } } : {}),
    });
    /** Pages of builds (newest first); BatchGetBuilds answers the builds of the ids asked for. */
    function pages(list: ReadonlyArray<ReadonlyArray<ReturnType<typeof build>>>): void {
      const all = new Map(list.flat().map((b) => [b.id, b]));
      let p = 0;
      aws.codebuild.on(ListBuildsForProjectCommand).callsFake(async () => {
        const page = list[p++] ?? [];
        return { ids: page.map((b) => b.id), ...(p < list.length ? { nextToken: `t${p}` } : {}) };
      });
      aws.codebuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({ builds: input.ids.map((id) => all.get(id)!) as Build[] }));
    }
    const run = async () => {
      await unrecorded();
      aws.clock = NOW_MS + AGE;
      return deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS + AGE });
    };
    const listed = () => aws.codebuild.commandCalls(ListBuildsForProjectCommand).map((c) => c.args[0].input.nextToken);
    const found = (id: string): DeliveryResult => ({ status: 'duplicate', buildId: id, configKey: CONFIG_KEY, restarted: false });
    const others = (n: number, from: number, startTime: number) => Array.from({ length: n }, (_, i) => build(`b-${from + i}`, startTime, `webhook/dev/other-${from + i}.json`));

    test('pages through the builds with the next token until the build turns up', async () => {
      pages([others(100, 0, NOW_MS), others(100, 100, NOW_MS), [...others(10, 200, NOW_MS), build('b-ours', NOW_MS, CONFIG_KEY)]]);
      expect(await run()).toEqual(found('b-ours'));
      expect(listed()).toEqual([undefined, 't1', 't2']);
      expect(starts()).toEqual([]);
    });

    test('asks BatchGetBuilds for at most 100 ids of a page', async () => {
      aws.codebuild.on(ListBuildsForProjectCommand).resolves({ ids: Array.from({ length: 150 }, (_, i) => `b-${i}`) });
      aws.codebuild.on(BatchGetBuildsCommand).resolves({ builds: [] });
      const result = await run();
      expect(aws.codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input.ids)).toEqual([Array.from({ length: 100 }, (_, i) => `b-${i}`)]);
      expect(result.status).toBe('duplicate');
    });

    test(`stops after ${BUILD_LOOKUP_LIMIT} builds and starts the build`, async () => {
      pages([others(100, 0, NOW_MS), others(100, 100, NOW_MS), others(100, 200, NOW_MS), [build('b-ours', NOW_MS, CONFIG_KEY)]]);
      expect(await run()).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: true });
      expect(listed()).toEqual([undefined, 't1', 't2']);
    });

    test('stops at a page with a build started over a minute before the delivery', async () => {
      pages([[...others(5, 0, NOW_MS), build('b-old', NOW_MS - 60_001, 'webhook/dev/old.json')], [build('b-ours', NOW_MS, CONFIG_KEY)]]);
      expect((await run()).buildId).toBe('wvm-dev-source-fetch:00000001-build');
      expect(listed()).toEqual([undefined]);
    });

    test('goes on past a build started exactly a minute before the delivery, or without a start time', async () => {
      pages([[build('b-edge', NOW_MS - 60_000, 'webhook/dev/edge.json'), build('b-nostart', undefined, 'webhook/dev/x.json')], [build('b-ours', NOW_MS, CONFIG_KEY)]]);
      expect(await run()).toEqual(found('b-ours'));
      expect(listed()).toEqual([undefined, 't1']);
    });

    test('the match in an old page still counts', async () => {
      pages([[build('b-old', NOW_MS - 86_400_000, 'webhook/dev/old.json'), build('b-ours', NOW_MS - 86_400_000, CONFIG_KEY)]]);
      expect(await run()).toEqual(found('b-ours'));
    });

    test('a matching build without an id, builds without variables, a variable of another name: not a match', async () => {
      const { id: _, ...noId } = build('x', NOW_MS, CONFIG_KEY);
      const noVars = build('b-novars', NOW_MS, undefined);
      const otherName = { id: 'b-othername', startTime: new Date(NOW_MS), environment: { environmentVariables: [{ name: 'CONFIG_BUCKET', value: CONFIG_KEY }] } };
      const noList = { id: 'b-nolist', startTime: new Date(NOW_MS), environment: {} };
      aws.codebuild.on(ListBuildsForProjectCommand).resolves({ ids: ['x', 'y', 'z', 'w'] });
      aws.codebuild.on(BatchGetBuildsCommand).resolves({ builds: [noId, noVars, otherName, noList] as Build[] });
      expect(await run()).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: true });
    });

    test('no ids, or no builds in the answer: not found', async () => {
      aws.codebuild.on(ListBuildsForProjectCommand).resolves({ nextToken: 'more' });
      expect((await run()).status).toBe('duplicate');
      expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(1);
      expect(aws.codebuild.commandCalls(BatchGetBuildsCommand)).toHaveLength(0);
      expect(starts()).toEqual([startInput()]);
    });

    test('BatchGetBuilds without builds: next page', async () => {
      let p = 0;
      aws.codebuild.on(ListBuildsForProjectCommand).callsFake(async () => (p++ === 0 ? { ids: ['a'], nextToken: 'n' } : { ids: ['b'] }));
      aws.codebuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => (input.ids[0] === 'a' ? {} : { builds: [build('b', NOW_MS, CONFIG_KEY)] as Build[] }));
      expect(await run()).toEqual(found('b'));
    });
  });

  test.each([
    ['not JSON', 'not json'],
    ['no build id', '{"deliveryKey":"x"}'],
    ['an empty build id', '{"buildId":""}'],
    ['a numeric build id', '{"buildId":42}'],
    ['JSON null', 'null'],
  ])('a build record with %s: logged, and the build started again with the same token', async (_, record) => {
    await unrecorded({ startedAt: NOW_MS, record });
    const log = capture();
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS });
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:00000001-build', configKey: CONFIG_KEY, restarted: true });
    expect(log.lines).toEqual([{ level: 'warn', msg: 'unreadable build record; starting the build again with the same idempotency token', deliveryKey: DELIVERY_KEY }]);
  });

  test('the build record is read from the SDK body stream as UTF-8', async () => {
    await unrecorded({ startedAt: NOW_MS });
    aws.resetHistory();
    aws.s3.on(GetObjectCommand).callsFake(async () => ({ Body: sdkStreamMixin(Readable.from([Buffer.from(JSON.stringify({ buildId: 'wvm-dev-source-fetch:recorded' }), 'utf8')])) }));
    const result = await deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS });
    expect(result).toEqual({ status: 'duplicate', buildId: 'wvm-dev-source-fetch:recorded', configKey: CONFIG_KEY, restarted: false });
    expect(starts()).toEqual([]);
  });

  test('a build record without a body counts as unreadable', async () => {
    await unrecorded({ startedAt: NOW_MS });
    aws.s3.on(GetObjectCommand).resolves({});
    const log = capture();
    expect((await deliver(clients, target, sourceConfig(), createLogger('debug', log.write), { now: () => NOW_MS })).status).toBe('duplicate');
    expect(log.lines.map((l) => l.msg)).toEqual(['unreadable build record; starting the build again with the same idempotency token']);
  });

  test('a build record that cannot be read (403) fails the delivery: nothing is started', async () => {
    await unrecorded({ startedAt: NOW_MS });
    aws.s3.on(GetObjectCommand).rejects(errorOf('AccessDenied', 403));
    await expect(deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS })).rejects.toThrow('AccessDenied happened');
    expect(starts()).toEqual([]);
  });

  test('a failed head marker write fails the delivery before the config is written', async () => {
    aws.failNext('PutObject', 1, s3SlowDown);
    await expect(deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS })).rejects.toThrow('Please reduce your request rate.');
    expect(puts()).toEqual([headMarkerPut()]);
    expect(aws.object(CONFIG_KEY)).toBeUndefined();
  });

  test('a failed config write other than 412 fails the delivery: no lookup, no build', async () => {
    aws.failNextPut.set(CONFIG_KEY, s3SlowDown());
    await expect(deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS })).rejects.toThrow('Please reduce your request rate.');
    expect(aws.s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(starts()).toEqual([]);
  });

  test.each([
    ['no build', {}],
    ['a build without an id', { build: {} }],
    ['an empty build id', { build: { id: '' } }],
  ])('StartBuild answering %s fails the delivery; no build record', async (_, answer) => {
    aws.codebuild.on(StartBuildCommand).resolves(answer);
    const err = await deliver(clients, target, sourceConfig(), createLogger('debug', () => undefined), { now: () => NOW_MS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingBuildIdError);
    expect(err).toMatchObject({ name: 'MissingBuildIdError', message: 'StartBuild returned no build id' });
    expect(aws.object(RECORD_KEY)).toBeUndefined();
  });
});

describe('the worker', () => {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const worker = (write: (line: string) => void, now?: () => number) =>
    createWorker({ target, clients: { s3: () => s3, codebuild: () => codebuild, sqs: () => sqs }, queueUrl: QUEUE_URL, log: createLogger('debug', write), ...(now ? { now } : {}) });
  const body = deliveryMessageBody(sourceConfig());
  const visibility = () => aws.sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
  const delivered = { deliveryKey: DELIVERY_KEY, project: 'acme/web-shop', ref: 'refs/heads/main', commit: SHA, targetKey: 'software/acme/main.zip' };

  test('BACKOFF: 30 s doubling, at most 15 min', () => {
    expect([BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS]).toEqual([30, 900]);
  });

  test.each([
    [-3, 30],
    [0, 30],
    [1, 30],
    [1.9, 30],
    [2, 60],
    [2.5, 60],
    [3, 120],
    [4, 240],
    [5, 480],
    [6, 900],
    [21, 900],
    [22, 900],
    [1e6, 900],
  ])('backoffSeconds(%d) = %d', (n, s) => {
    expect(backoffSeconds(n)).toBe(s);
  });

  test.each([
    [0, 0],
    [1, 0],
    [2, 30],
    [3, 90],
    [7, 30 + 60 + 120 + 240 + 480 + 900],
    [30, 30 + 60 + 120 + 240 + 480 + 900 * 24],
  ])('retryWindowSeconds(%d) = %d', (n, s) => {
    expect(retryWindowSeconds(n)).toBe(s);
  });

  test('a delivery that works: one info line with what was delivered; no batch failure', async () => {
    const log = capture();
    const res = await worker(log.write, () => NOW_MS)(sqsEvent([{ id: 'm1', body, receiveCount: 2 }]), { awsRequestId: 'req-1' });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(log.lines).toEqual([
      { level: 'info', msg: 'delivery worked', requestId: 'req-1', messageId: 'm1', receiveCount: 2, ...delivered, status: 'started', buildId: 'wvm-dev-source-fetch:00000001-build', restarted: false },
    ]);
    expect(visibility()).toEqual([]);
  });

  test('a redelivery: duplicate; restarted says whether StartBuild was called again', async () => {
    const w = worker(() => undefined, () => NOW_MS);
    await w(sqsEvent([{ id: 'm1', body, receiveCount: 1 }]));
    const log = capture();
    await worker(log.write, () => NOW_MS)(sqsEvent([{ id: 'm1', body, receiveCount: 2 }]));
    aws.objects.delete(`${BUCKET}/${RECORD_KEY}`);
    await worker(log.write, () => NOW_MS)(sqsEvent([{ id: 'm1', body, receiveCount: 3 }]));
    expect(log.lines.map((l) => [l.msg, l.requestId, l.status, l.restarted])).toEqual([
      ['delivery worked', null, 'duplicate', false],
      ['delivery worked', null, 'duplicate', true],
    ]);
    expect(aws.builds).toHaveLength(1);
  });

  test('the worker defaults to the real clock', async () => {
    aws.objects.set(`${BUCKET}/${CONFIG_KEY}`, { body: '{}', input: { Bucket: BUCKET, Key: CONFIG_KEY } });
    const fresh = deliveryMessageBody(sourceConfig({ receivedAt: new Date().toISOString() }));
    expect(await worker(() => undefined)(sqsEvent([{ id: 'm1', body: fresh, receiveCount: 1 }]))).toEqual({ batchItemFailures: [] });
    expect(aws.codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(0);
  });

  test('a failed delivery: a warning with the error, the message made visible after the backoff, a batch failure', async () => {
    aws.failNext('StartBuild', 1, throttled);
    const log = capture();
    const res = await worker(log.write, () => NOW_MS)(sqsEvent([{ id: 'm1', body, receiveCount: 3 }]), { awsRequestId: 'req-1' });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(log.lines).toEqual([
      { level: 'warn', msg: 'delivery failed; retrying later', requestId: 'req-1', messageId: 'm1', receiveCount: 3, ...delivered, retryInSeconds: 120, errorName: 'ThrottlingException', errorMessage: 'Rate exceeded', awsStatus: 400 },
    ]);
    expect(visibility()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m1-3', VisibilityTimeout: 120 }]);
  });

  test('a message that is not a config: the warning has only the receive count and the error', async () => {
    const log = capture();
    const res = await worker(log.write, () => NOW_MS)(sqsEvent([{ id: 'bad', body: '{"version":1}', receiveCount: 1 }]));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    const expected = (() => {
      try {
        parseSourceConfig('{"version":1}');
      } catch (e) {
        return (e as Error).message;
      }
      return 'parsed';
    })();
    expect(log.lines).toEqual([{ level: 'warn', msg: 'delivery failed; retrying later', requestId: null, messageId: 'bad', receiveCount: 1, retryInSeconds: 30, errorName: 'SourceConfigError', errorMessage: expected }]);
    expect(visibility()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-bad-1', VisibilityTimeout: 30 }]);
    expect(aws.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('ChangeMessageVisibility failing: logged; the message still fails (it comes back after the queue timeout)', async () => {
    aws.sqs.on(ChangeMessageVisibilityCommand).rejects(errorOf('AWS.SimpleQueueService.NonExistentQueue', 400));
    const log = capture();
    const res = await worker(log.write, () => NOW_MS)(sqsEvent([{ id: 'bad', body: 'nope', receiveCount: 6 }]));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(log.lines.map((l) => ({ ...l, errorMessage: l.msg === 'delivery failed; retrying later' ? 'x' : l.errorMessage }))).toEqual([
      { level: 'warn', msg: 'delivery failed; retrying later', requestId: null, messageId: 'bad', receiveCount: 6, retryInSeconds: 900, errorName: 'SourceConfigError', errorMessage: 'x' },
      { level: 'warn', msg: 'could not set the retry delay', requestId: null, messageId: 'bad', errorName: 'AWS.SimpleQueueService.NonExistentQueue', errorMessage: 'AWS.SimpleQueueService.NonExistentQueue happened', awsStatus: 400 },
    ]);
  });

  test.each([
    ['missing', undefined, 1, 30],
    ['"0"', '0', 1, 30],
    ['not a number', 'many', 1, 30],
    ['"4"', '4', 4, 240],
  ])('ApproximateReceiveCount %s (%p): receive count %i, retry in %i s', async (_, count, receiveCount, delay) => {
    const event = sqsEvent([{ id: 'bad', body: 'nope', receiveCount: 9 }]);
    const record = event.Records[0]!;
    const attributes = { ...record.attributes } as Record<string, string>;
    if (count === undefined) delete attributes.ApproximateReceiveCount;
    else attributes.ApproximateReceiveCount = count;
    const log = capture();
    await worker(log.write, () => NOW_MS)({ Records: [{ ...record, attributes: attributes as never }] });
    expect(log.lines[0]).toMatchObject({ receiveCount, retryInSeconds: delay });
    expect(visibility()).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-bad-9', VisibilityTimeout: delay }]);
  });

  test('a record without attributes counts as the first receive', async () => {
    const record = sqsEvent([{ id: 'bad', body: 'nope', receiveCount: 9 }]).Records[0]!;
    const log = capture();
    await worker(log.write, () => NOW_MS)({ Records: [{ ...record, attributes: undefined as never }] });
    expect(log.lines[0]).toMatchObject({ receiveCount: 1, retryInSeconds: 30 });
  });

  test('a batch: each message on its own, failures reported by message id in order', async () => {
    const other = deliveryMessageBody(sourceConfig({ deliveryKey: 'second-delivery' }));
    const log = capture();
    const res = await worker(log.write, () => NOW_MS)(
      sqsEvent([
        { id: 'm1', body, receiveCount: 1 },
        { id: 'bad1', body: 'x', receiveCount: 1 },
        { id: 'm2', body: other, receiveCount: 1 },
        { id: 'bad2', body: 'y', receiveCount: 2 },
      ]),
      { awsRequestId: 'req-9' },
    );
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad1' }, { itemIdentifier: 'bad2' }] });
    expect(log.lines.map((l) => [l.level, l.messageId, l.requestId])).toEqual([
      ['info', 'm1', 'req-9'],
      ['warn', 'bad1', 'req-9'],
      ['info', 'm2', 'req-9'],
      ['warn', 'bad2', 'req-9'],
    ]);
  });

  test.each([
    ['no records', {}],
    ['no event', undefined],
    ['an empty batch', { Records: [] }],
  ])('%s: nothing to do', async (_, event) => {
    const log = capture();
    expect(await worker(log.write, () => NOW_MS)(event as never)).toEqual({ batchItemFailures: [] });
    expect(log.lines).toEqual([]);
  });
});

describe('worker settings', () => {
  const input = { artifactBucket: BUCKET, artifactKmsKeyArn: KMS_KEY, codebuildProjects: baseInput.codebuildProjects, environment: 'dev', deliveryQueueUrl: QUEUE_URL };
  const env = (over: Record<string, string | undefined> = {}) => ({ ...workerEnvironmentVariables(input), ...over });
  const problemsOf = (e: Record<string, string | undefined>): readonly string[] => {
    try {
      parseWorkerSettings(e);
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      return (err as SettingsError).problems;
    }
    return [];
  };

  test('every variable set: the settings; the log level defaults to info', () => {
    expect(parseWorkerSettings(env())).toEqual({
      artifactBucket: BUCKET,
      artifactKmsKeyArn: KMS_KEY,
      codebuildProjects: { software: 'wvm-dev-source-fetch', infrastructure: 'wvm-dev-source-fetch-infrastructure' },
      environment: 'dev',
      queueUrl: QUEUE_URL,
      logLevel: 'info',
    });
  });

  test.each(['debug', 'info', 'warn', 'error'])('LOG_LEVEL=%s', (level) => {
    expect(parseWorkerSettings(env({ LOG_LEVEL: level })).logLevel).toBe(level);
  });

  test.each([
    ['ARTIFACT_BUCKET', 'an S3 bucket name', 'Artifacts_Bucket'],
    ['ARTIFACT_KMS_KEY_ARN', 'a KMS key ARN', 'arn:aws:kms:eu-west-1:1111:key/x'],
    ['CODEBUILD_PROJECT_SOFTWARE', 'a CodeBuild project name', '-source-fetch'],
    ['CODEBUILD_PROJECT_INFRASTRUCTURE', 'a CodeBuild project name', 'source fetch'],
    ['ENVIRONMENT', 'an environment name', 'Dev'],
    ['DELIVERY_QUEUE_URL', 'an SQS queue URL', 'http://sqs.eu-west-1.amazonaws.com/111122223333/q'],
  ])('%s missing, empty or not %s', (name, what, bad) => {
    const required = `${name} is required (${what})`;
    expect(problemsOf(env({ [name]: undefined }))).toEqual([required]);
    expect(problemsOf(env({ [name]: '' }))).toEqual([required]);
    expect(problemsOf(env({ [name]: bad }))).toEqual([`${name}=${JSON.stringify(bad)} is not ${what}`]);
  });

  test('an unknown LOG_LEVEL', () => {
    expect(problemsOf(env({ LOG_LEVEL: 'verbose' }))).toEqual(['LOG_LEVEL="verbose" must be one of debug, info, warn, error']);
  });

  test('every problem at once, in one error', () => {
    const problems = [
      'ARTIFACT_BUCKET is required (an S3 bucket name)',
      'ARTIFACT_KMS_KEY_ARN is required (a KMS key ARN)',
      'CODEBUILD_PROJECT_SOFTWARE is required (a CodeBuild project name)',
      'CODEBUILD_PROJECT_INFRASTRUCTURE is required (a CodeBuild project name)',
      'ENVIRONMENT is required (an environment name)',
      'DELIVERY_QUEUE_URL is required (an SQS queue URL)',
      'LOG_LEVEL="loud" must be one of debug, info, warn, error',
    ];
    expect(() => parseWorkerSettings({ LOG_LEVEL: 'loud' })).toThrow(new SettingsError(problems));
    expect(Object.values(WORKER_ENV).sort()).toEqual([...Object.keys(env()), 'LOG_LEVEL'].sort());
  });
});

/**
 * The entry point keeps its worker for the life of the container (one module instance in this file),
 * so these tests run in order: invalid settings first (nothing is kept), then the first valid batch.
 */
describe('the entry point', () => {
  const saved = process.env;
  const env = workerEnvironmentVariables({ artifactBucket: BUCKET, artifactKmsKeyArn: KMS_KEY, codebuildProjects: baseInput.codebuildProjects, environment: 'dev', deliveryQueueUrl: QUEUE_URL });
  const made: Array<[string, unknown]> = [];
  const lines: Array<Record<string, unknown>> = [];
  beforeEach(() => {
    const real = { s3: sdk.s3(), codebuild: sdk.codebuild(), sqs: sdk.sqs() };
    // The SDK modules as the entry point loads them, with constructors that record their configuration.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const recording = <C extends new (...args: any[]) => object>(name: string, Client: C): C =>
      class extends Client {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        constructor(...args: any[]) {
          made.push([name, args[0]]);
          super({ ...args[0], region: 'eu-west-1' });
        }
      };
    jest.spyOn(sdk, 's3').mockReturnValue({ ...real.s3, S3Client: recording('s3', real.s3.S3Client) } as never);
    jest.spyOn(sdk, 'codebuild').mockReturnValue({ ...real.codebuild, CodeBuildClient: recording('codebuild', real.codebuild.CodeBuildClient) } as never);
    jest.spyOn(sdk, 'sqs').mockReturnValue({ ...real.sqs, SQSClient: recording('sqs', real.sqs.SQSClient) } as never);
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => {
      const { time: _, ...rest } = JSON.parse(String(line)) as Record<string, unknown>;
      lines.push(rest);
      return true;
    });
  });
  afterEach(() => {
    process.env = saved;
    jest.restoreAllMocks();
    made.length = 0;
    lines.length = 0;
  });
  const clientConfig = { maxAttempts: 3, requestHandler: { connectionTimeout: 2000, requestTimeout: 10000 } };

  test('invalid settings fail the batch, naming every problem', async () => {
    process.env = { ...env, ENVIRONMENT: '', DELIVERY_QUEUE_URL: 'queue' };
    await expect(handler(sqsEvent([{ id: 'm1', body: deliveryMessageBody(sourceConfig()), receiveCount: 1 }]))).rejects.toThrow(
      new SettingsError(['ENVIRONMENT is required (an environment name)', 'DELIVERY_QUEUE_URL="queue" is not an SQS queue URL']),
    );
    expect(made).toEqual([]);
  });

  test('the first batch: settings from the environment, one client of each kind (3 attempts, 2 s connect, 10 s request timeout), kept for later batches', async () => {
    process.env = { ...env };
    const second = deliveryMessageBody(sourceConfig({ deliveryKey: 'second-delivery' }));
    const res = await handler(sqsEvent([{ id: 'm1', body: deliveryMessageBody(sourceConfig()), receiveCount: 1 }, { id: 'm2', body: second, receiveCount: 1 }]), { awsRequestId: 'req-1' });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(made).toEqual([
      ['s3', clientConfig],
      ['codebuild', clientConfig],
    ]);
    expect(lines.map((l) => [l.level, l.msg, l.requestId, l.messageId])).toEqual([
      ['info', 'delivery worked', 'req-1', 'm1'],
      ['info', 'delivery worked', 'req-1', 'm2'],
    ]);
    expect(aws.object(CONFIG_KEY)?.input).toMatchObject({ Bucket: BUCKET, SSEKMSKeyId: KMS_KEY });
    expect(aws.codebuild.commandCalls(StartBuildCommand).map((c) => c.args[0].input.projectName)).toEqual(['wvm-dev-source-fetch', 'wvm-dev-source-fetch']);

    // Later batches use the same worker, whatever the environment says now.
    process.env = {};
    made.length = 0;
    lines.length = 0;
    const res2 = await handler(sqsEvent([{ id: 'bad', body: 'nope', receiveCount: 2 }, { id: 'bad2', body: 'nope', receiveCount: 1 }]));
    expect(res2).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }, { itemIdentifier: 'bad2' }] });
    expect(made).toEqual([['sqs', clientConfig]]);
    expect(aws.sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-bad-2', VisibilityTimeout: 60 },
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-bad2-1', VisibilityTimeout: 30 },
    ]);
    expect(lines.map((l) => [l.level, l.msg, l.requestId])).toEqual([
      ['warn', 'delivery failed; retrying later', null],
      ['warn', 'delivery failed; retrying later', null],
    ]);
  });
});
