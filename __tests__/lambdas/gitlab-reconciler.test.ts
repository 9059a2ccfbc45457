/**
 * The reconciler against a local HTTP server that speaks GitLab's branches and projects API, and
 * aws-sdk-client-mock fakes of S3 (HeadObject of zips and head markers) and SQS. No real sleeps:
 * Retry-After waits go through an injected sleep.
 */
import { createHash } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Route } from '../../lambdas/gitlab-webhook/contract';
import { createLogger } from '../../lambdas/gitlab-webhook/log';
import { createReconciler, reconcileDeliveryKey, ReconcilerSettings, retryAfterSeconds } from '../../lambdas/gitlab-webhook/reconciler';
import { handler, parseReconcilerSettings } from '../../lambdas/gitlab-webhook/reconciler-index';
import { SettingsError } from '../../lambdas/gitlab-webhook/settings';
import { DEFAULT_BUILD_RETRY_AFTER_SECONDS, reconcilerEnvironmentVariables } from '../../lambdas/gitlab-webhook/contract';
import { FakeAws, KMS_KEY, NOW_MS, QUEUE_URL, baseInput, sqsEvent, testWorker } from './helpers/webhook';

const API_TOKEN = 'glpat-readonly-0123456789';
const API_PARAM = '/wvm/dev/gitlab/api-token';
const sha = (c: string) => c.repeat(40);

interface GitlabState {
  projects: Map<string, { id: number; branches: Map<string, string> }>;
  requests: string[];
  /** Answer the next n requests with 429 and this Retry-After. */
  rateLimit: { remaining: number; retryAfter: string };
  inFlight: number;
  maxInFlight: number;
  /** Answers a request instead of the fake API when it returns something (raw body text, status, headers). */
  override?: (url: string) => { status: number; text: string; headers?: Record<string, string> } | undefined;
  /** Request headers of every request, in order. */
  headers: http.IncomingHttpHeaders[];
}

let server: http.Server;
let gitlabUrl: string;
const state: GitlabState = { projects: new Map(), requests: [], rateLimit: { remaining: 0, retryAfter: '0' }, inFlight: 0, maxInFlight: 0, headers: [] };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      setImmediate(() => {
        state.inFlight--;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      });
    state.requests.push(req.url ?? '');
    state.headers.push(req.headers);
    const custom = state.override?.(req.url ?? '');
    if (custom !== undefined) {
      return setImmediate(() => {
        state.inFlight--;
        res.writeHead(custom.status, { 'content-type': 'application/json', ...custom.headers });
        res.end(custom.text);
      });
    }
    if (req.headers['private-token'] !== API_TOKEN) return send(401, { message: '401 Unauthorized' });
    if (state.rateLimit.remaining > 0) {
      state.rateLimit.remaining--;
      return send(429, { message: 'Retry later' }, { 'retry-after': state.rateLimit.retryAfter });
    }
    const m = /^\/api\/v4\/projects\/([^/]+)(?:\/repository\/branches\/(.+))?$/.exec(req.url ?? '');
    const project = m ? state.projects.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !project) return send(404, { message: '404 Project Not Found' });
    const path = decodeURIComponent(m[1]!);
    if (m[2] === undefined) {
      return send(200, { id: project.id, path_with_namespace: path, http_url_to_repo: `https://gitlab.example.com/${path}.git`, ssh_url_to_repo: `git@gitlab.example.com:${path}.git` });
    }
    const name = decodeURIComponent(m[2]);
    const head = project.branches.get(name);
    if (head === undefined) return send(404, { message: '404 Branch Not Found' });
    return send(200, { name, merged: false, protected: true, default: name === 'main', commit: { id: head, short_id: head.slice(0, 8), title: 'Fix checkout total', message: 'Fix checkout total\n', author_name: 'Bob Builder', author_email: 'bob@example.com', committed_date: '2025-03-01T11:20:30.000+01:00' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gitlabUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws({ [API_PARAM]: API_TOKEN });
  state.projects = new Map([['acme/web-shop', { id: 4711, branches: new Map([['main', sha('a')]]) }]]);
  state.requests = [];
  state.rateLimit = { remaining: 0, retryAfter: '0' };
  state.maxInFlight = 0;
  state.override = undefined;
  state.headers = [];
});
afterEach(() => aws.restore());

const RETRY_AFTER = 2400;
const ROUTES: Route[] = [{ path: 'acme/web-shop', kind: 'software', customer: 'acme', branches: ['main'] }];

function reconciler(over: Partial<ReconcilerSettings> = {}, startMs = NOW_MS) {
  const logs: string[] = [];
  const sleeps: number[] = [];
  const time = { ms: startMs };
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const s3 = new S3Client({ region: 'eu-west-1' });
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const run = createReconciler({
    settings: { environment: 'dev', artifactBucket: baseInput.artifactBucket, gitlabUrl, apiTokenParameter: API_PARAM, queueUrl: QUEUE_URL, routes: ROUTES, timeBudgetSeconds: 240, concurrency: 4, buildRetryAfterSeconds: RETRY_AFTER, ...over },
    clients: { s3: () => s3, sqs: () => sqs },
    secrets: { get: async (name) => (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value ?? '' },
    log: createLogger('debug', (l) => logs.push(l)),
    now: () => time.ms,
    sleep: async (ms) => {
      sleeps.push(ms);
      time.ms += ms;
    },
  });
  return { run, logs, sleeps, time };
}

/** A zip as the source fetch uploads it: `commit-sha` metadata. */
const putZip = (key: string, commit: string) => aws.objects.set(`${baseInput.artifactBucket}/${key}`, { body: 'zip', input: { Bucket: baseInput.artifactBucket, Key: key, Metadata: { 'commit-sha': commit }, SSEKMSKeyId: KMS_KEY } });

describe('reconciler', () => {
  test('heads equal: nothing is queued (one GitLab GET and one HeadObject per branch)', async () => {
    putZip('software/acme/main.zip', sha('a'));
    const r = reconciler();
    const summary = await r.run();
    expect(summary.counts['up-to-date']).toBe(1);
    expect(aws.sent).toHaveLength(0);
    expect(state.requests).toEqual(['/api/v4/projects/acme%2Fweb-shop/repository/branches/main']);
    const metrics = JSON.parse(r.logs.find((l) => l.includes('"reconcile run"'))!);
    expect(metrics).toMatchObject({ Environment: 'dev', ReconcileUpToDate: 1, ReconcileQueued: 0, ReconcileBranchMissing: 0 });
  });

  test('a head moved without a delivery: one delivery queued, one build; later runs queue nothing new', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    const first = await reconciler().run();
    expect(first.counts.queued).toBe(1);
    expect(aws.sent).toHaveLength(1);
    const config = JSON.parse(aws.sent[0]!.MessageBody!);
    expect(config).toMatchObject({ event: 'Reconcile', ref: 'refs/heads/main', before: sha('a'), after: sha('b'), commit: { sha: sha('b'), authorName: 'Bob Builder' }, project: { id: 4711, path: 'acme/web-shop', httpUrl: 'https://gitlab.example.com/acme/web-shop.git' }, targetKey: 'software/acme/main.zip' });
    // The worker builds it (the same path as a webhook delivery).
    const worker = testWorker();
    expect((await worker(sqsEvent([{ id: 'r1', body: aws.sent[0]!.MessageBody!, receiveCount: 1 }]))).batchItemFailures).toEqual([]);
    expect(aws.builds).toHaveLength(1);
    // The build is running (zip not replaced yet): the next run sees the head marker and queues nothing.
    const second = await reconciler().run();
    expect(second.counts['build-started']).toBe(1);
    expect(aws.sent).toHaveLength(1);
    // Even a second queued copy would not start a second build.
    await worker(sqsEvent([{ id: 'r2', body: aws.sent[0]!.MessageBody!, receiveCount: 1 }]));
    expect(aws.builds).toHaveLength(1);
  });

  test('a build that failed: within the retry window build-started, after it one retry (new delivery key, warn, metric), once per marker generation', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    const marker = `webhook/dev/heads/software/acme/main/${sha('b')}`;
    const worker = testWorker();
    const workAll = async (from: number) => {
      for (let i = from; i < aws.sent.length; i++) expect((await worker(sqsEvent([{ id: `m${i}`, body: aws.sent[i]!.MessageBody!, receiveCount: 1 }]))).batchItemFailures).toEqual([]);
    };
    // T0: queued and built; the build then fails (the zip stays at a).
    expect((await reconciler().run()).counts.queued).toBe(1);
    const firstKey = JSON.parse(aws.sent[0]!.MessageBody!).deliveryKey as string;
    await workAll(0);
    expect(aws.builds).toHaveLength(1);
    const firstMarkerAt = aws.object(marker)!.lastModified!;
    expect(firstMarkerAt).toBe(NOW_MS);
    // One second before the window ends: still build-started, nothing queued, no warning.
    const inside = reconciler({}, NOW_MS + (RETRY_AFTER - 1) * 1000);
    expect((await inside.run()).counts['build-started']).toBe(1);
    expect(aws.sent).toHaveLength(1);
    expect(inside.logs.some((l) => JSON.parse(l).level === 'warn')).toBe(false);
    // At the end of the window: the same delivery again, with a new key, reported as build-retried.
    const at = NOW_MS + RETRY_AFTER * 1000;
    const retry = reconciler({}, at);
    const retried = await retry.run();
    expect(retried.counts['build-retried']).toBe(1);
    expect(retried.counts['build-started']).toBe(0);
    expect(retried.results[0]).toMatchObject({ outcome: 'build-retried', head: sha('b'), built: sha('a') });
    expect(aws.sent).toHaveLength(2);
    const again = JSON.parse(aws.sent[1]!.MessageBody!);
    expect(again).toMatchObject({ event: 'ReconcileRetry', after: sha('b'), before: sha('a'), targetKey: 'software/acme/main.zip' });
    expect(again.deliveryKey).not.toBe(firstKey);
    const warn = retry.logs.map((l) => JSON.parse(l)).find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ project: 'acme/web-shop', branch: 'main', head: sha('b'), built: sha('a'), markerAgeSeconds: RETRY_AFTER, deliveryKey: again.deliveryKey });
    expect(JSON.parse(retry.logs.find((l) => l.includes('"reconcile run"'))!)).toMatchObject({ ReconcileBuildRetried: 1, ReconcileBuildStarted: 0 });
    // Another run before the worker got to it sees the same marker: the same key again (one retry per marker).
    await reconciler({}, at + 60_000).run();
    expect(aws.sent).toHaveLength(3);
    expect(JSON.parse(aws.sent[2]!.MessageBody!).deliveryKey).toBe(again.deliveryKey);
    // The worker: both copies start exactly one new build, and the marker is rewritten (refreshed).
    aws.clock = at + 120_000;
    await workAll(1);
    expect(aws.builds).toHaveLength(2);
    expect(aws.object(marker)!.lastModified).toBe(at + 120_000);
    // A redelivery of the retry later, beyond CodeBuild's token window, still starts nothing; like
    // every delivery of the head it rewrites the marker (the window counts from the last delivery).
    aws.clock = at + 3600_000;
    await worker(sqsEvent([{ id: 'late', body: aws.sent[1]!.MessageBody!, receiveCount: 2 }]));
    expect(aws.builds).toHaveLength(2);
    expect(aws.object(marker)!.lastModified).toBe(at + 3600_000);
    // The window counts from the refreshed marker.
    const refreshed = aws.object(marker)!.lastModified!;
    expect((await reconciler({}, refreshed + (RETRY_AFTER - 1) * 1000).run()).counts['build-started']).toBe(1);
    expect(aws.sent).toHaveLength(3);
    // The retry failed too: one more retry after the next window, with yet another key.
    expect((await reconciler({}, refreshed + RETRY_AFTER * 1000).run()).counts['build-retried']).toBe(1);
    expect(aws.sent).toHaveLength(4);
    expect(new Set(aws.sent.map((m) => JSON.parse(m.MessageBody!).deliveryKey)).size).toBe(3);
    // A build finally uploads the head: up to date, nothing more.
    putZip('software/acme/main.zip', sha('b'));
    expect((await reconciler({}, refreshed + 10 * RETRY_AFTER * 1000).run()).counts['up-to-date']).toBe(1);
    expect(aws.sent).toHaveLength(4);
  });

  test('no zip yet: the branch is built', async () => {
    const summary = await reconciler().run();
    expect(summary.counts.queued).toBe(1);
    expect(JSON.parse(aws.sent[0]!.MessageBody!).before).toBe('0'.repeat(40));
  });

  test('a deleted branch is reported (log and metric), not built', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.delete('main');
    const r = reconciler();
    const summary = await r.run();
    expect(summary.counts['branch-missing']).toBe(1);
    expect(aws.sent).toHaveLength(0);
    expect(r.logs.some((l) => l.includes('routed branch not found in GitLab') && l.includes('404 Branch Not Found'))).toBe(true);
    expect(JSON.parse(r.logs.find((l) => l.includes('"reconcile run"'))!)).toMatchObject({ ReconcileBranchMissing: 1 });
  });

  test('pages through many repositories, at most `concurrency` requests at a time', async () => {
    const routes: Route[] = [];
    for (let i = 0; i < 25; i++) {
      const path = `acme/repo-${i}`;
      state.projects.set(path, { id: 100 + i, branches: new Map([['main', sha('c')]]) });
      routes.push({ path, kind: 'software', customer: 'acme', branches: ['main'] });
      if (i % 5 !== 0) putZip(`software/acme/main.zip`, sha('c'));
    }
    const summary = await reconciler({ routes, concurrency: 4 }).run();
    expect(summary.results).toHaveLength(25);
    expect(summary.counts['not-checked']).toBe(0);
    expect(state.maxInFlight).toBeLessThanOrEqual(4);
    expect(state.requests.filter((u) => u.includes('/repository/branches/'))).toHaveLength(25);
  });

  test('the retry window comes from the settings', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    const key = `webhook/dev/heads/software/acme/main/${sha('b')}`;
    aws.objects.set(`${baseInput.artifactBucket}/${key}`, { body: '{}', input: { Bucket: baseInput.artifactBucket, Key: key }, lastModified: NOW_MS - 600_000 });
    expect((await reconciler({ buildRetryAfterSeconds: 601 }).run()).counts['build-started']).toBe(1);
    expect((await reconciler({ buildRetryAfterSeconds: 600 }).run()).counts['build-retried']).toBe(1);
    expect(aws.sent).toHaveLength(1);
  });

  test('429 with Retry-After: waits as told, then goes on', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.rateLimit = { remaining: 2, retryAfter: '7' };
    const r = reconciler();
    const summary = await r.run();
    expect(r.sleeps).toEqual([7000, 7000]);
    expect(summary.counts['up-to-date']).toBe(1);
  });

  test('the run line is CloudWatch Embedded Metric Format: `_aws` is an object and every metric is a top-level number', async () => {
    putZip('software/acme/main.zip', sha('a'));
    const r = reconciler();
    await r.run();
    const line = JSON.parse(r.logs.find((l) => l.includes('"reconcile run"'))!) as Record<string, unknown>;
    const aws_ = line._aws as { Timestamp: unknown; CloudWatchMetrics: Array<{ Namespace: unknown; Dimensions: unknown; Metrics: Array<{ Name: unknown; Unit: unknown }> }> };
    expect(typeof aws_).toBe('object');
    expect(aws_).not.toBeNull();
    expect(typeof aws_.Timestamp).toBe('number');
    expect(aws_.Timestamp).toBe(NOW_MS);
    expect(aws_.CloudWatchMetrics).toHaveLength(1);
    const directive = aws_.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('GitlabIngestion');
    expect(directive.Dimensions).toEqual([['Environment']]);
    for (const dimension of (directive.Dimensions as string[][]).flat()) expect(typeof line[dimension]).toBe('string');
    expect(line.Environment).toBe('dev');
    const names = directive.Metrics.map((m) => m.Name as string);
    expect(names).toEqual(expect.arrayContaining(['ReconcileUpToDate', 'ReconcileQueued', 'ReconcileBuildStarted', 'ReconcileBranchMissing', 'ReconcileError', 'ReconcileNotChecked']));
    for (const name of names) expect(typeof line[name]).toBe('number');
    for (const m of directive.Metrics) expect(m.Unit).toBe('Count');
  });

  test('a Retry-After beyond the run budget ends the run; the rest waits for the next run', async () => {
    state.rateLimit = { remaining: 100, retryAfter: '3600' };
    const r = reconciler();
    const summary = await r.run();
    expect(r.sleeps).toEqual([]);
    expect(summary.counts['not-checked']).toBe(1);
    expect(aws.sent).toHaveLength(0);
  });
});

describe('reconciler settings', () => {
  const env = (buildRetryAfterSeconds?: number) =>
    reconcilerEnvironmentVariables({ artifactBucket: baseInput.artifactBucket, environment: 'dev', gitlabUrl: 'https://gitlab.example.com', apiTokenParameter: API_PARAM, deliveryQueueUrl: QUEUE_URL, routes: ROUTES, buildRetryAfterSeconds });

  test('BUILD_RETRY_AFTER_SECONDS: passed through, 2400 s by default, at least 600', () => {
    expect(env(3000).BUILD_RETRY_AFTER_SECONDS).toBe('3000');
    expect(parseReconcilerSettings(env(3000)).buildRetryAfterSeconds).toBe(3000);
    expect(env().BUILD_RETRY_AFTER_SECONDS).toBeUndefined();
    expect(DEFAULT_BUILD_RETRY_AFTER_SECONDS).toBe(2400);
    expect(parseReconcilerSettings(env()).buildRetryAfterSeconds).toBe(2400);
    expect(() => parseReconcilerSettings(env(60))).toThrow(/BUILD_RETRY_AFTER_SECONDS="60" must be an integer from 600 to 604800/);
  });
});

/** Log lines without their wall-clock `time`. */
const lines = (logs: string[]) =>
  logs.map((l) => {
    const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
const OUTCOME_METRICS = ['ReconcileUpToDate', 'ReconcileQueued', 'ReconcileBuildStarted', 'ReconcileBuildRetried', 'ReconcileBranchMissing', 'ReconcileError', 'ReconcileNotChecked'] as const;
type Counts = Partial<Record<(typeof OUTCOME_METRICS)[number], number>>;
/** The `reconcile run` line: EMF directive, the environment dimension, every count, the duration. */
const runLine = (counts: Counts, durationMs = 0, timestamp = NOW_MS + durationMs) => ({
  level: 'info',
  msg: 'reconcile run',
  _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: 'GitlabIngestion', Dimensions: [['Environment']], Metrics: OUTCOME_METRICS.map((Name) => ({ Name, Unit: 'Count' })) }] },
  Environment: 'dev',
  ...Object.fromEntries(OUTCOME_METRICS.map((m) => [m, counts[m] ?? 0])),
  durationMs,
});
const allCounts = (c: Partial<Record<string, number>>) => ({ 'up-to-date': 0, queued: 0, 'build-started': 0, 'build-retried': 0, 'branch-missing': 0, error: 0, 'not-checked': 0, ...c });
/** The delivery key as documented: sha256 of environment, lower-cased path, ref and head (and the marker generation for a retry), one a line. */
const expectedKey = (parts: string[], retryMarkerMs?: number) =>
  retryMarkerMs === undefined
    ? `reconcile-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}`
    : `reconcile-retry-${createHash('sha256').update([...parts, `marker-last-modified:${retryMarkerMs}`].join('\n')).digest('hex').slice(0, 40)}`;
type Answer = { status: number; text: string; headers?: Record<string, string> };
const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({ status, text: JSON.stringify(body), ...(headers ? { headers } : {}) });
const BRANCH_URL = '/api/v4/projects/acme%2Fweb-shop/repository/branches/main';
const PROJECT_URL = '/api/v4/projects/acme%2Fweb-shop';
const MARKER_B = `webhook/dev/heads/software/acme/main/${sha('b')}`;
const setMarker = (key: string, lastModified: number) => aws.objects.set(`${baseInput.artifactBucket}/${key}`, { body: '{}', input: { Bucket: baseInput.artifactBucket, Key: key }, lastModified });

describe('reconcileDeliveryKey', () => {
  test('sha256 of environment, lower-cased path, ref and head: stable across runs and versions', () => {
    const key = reconcileDeliveryKey('dev', 'Acme/Web-Shop', 'refs/heads/main', sha('b'));
    expect(key).toBe(expectedKey(['dev', 'acme/web-shop', 'refs/heads/main', sha('b')]));
    expect(key).toMatch(/^reconcile-[0-9a-f]{40}$/);
    expect(reconcileDeliveryKey('dev', 'acme/web-shop', 'refs/heads/main', sha('b'))).toBe(key);
  });
  test('a retry: a key of its own per marker generation', () => {
    const key = reconcileDeliveryKey('dev', 'ACME/web-shop', 'refs/heads/main', sha('b'), NOW_MS);
    expect(key).toBe(expectedKey(['dev', 'acme/web-shop', 'refs/heads/main', sha('b')], NOW_MS));
    expect(key).toMatch(/^reconcile-retry-[0-9a-f]{40}$/);
    expect(reconcileDeliveryKey('dev', 'acme/web-shop', 'refs/heads/main', sha('b'), 0)).toBe(expectedKey(['dev', 'acme/web-shop', 'refs/heads/main', sha('b')], 0));
  });
});

describe('retryAfterSeconds', () => {
  test.each<[string | null, number]>([
    [null, 60],
    ['', 60],
    ['   ', 60],
    ['0', 0],
    ['7', 7],
    [' 30 ', 30],
    ['120', 120],
    ['soon', 60],
    ['in a minute', 60],
    ['v7', 60],
    ['7x', 60],
    ['Sat, 01 Mar 2025 10:30:10 GMT', 10],
    ['Sat, 01 Mar 2025 10:30:00 GMT', 0],
    ['Sat, 01 Mar 2025 10:29:00 GMT', 0],
  ])('Retry-After %j at 10:30:00 → %d s', (header, seconds) => {
    expect(retryAfterSeconds(header, NOW_MS)).toBe(seconds);
  });
  test('an HTTP date rounds up to whole seconds', () => {
    expect(retryAfterSeconds('Sat, 01 Mar 2025 10:30:10 GMT', NOW_MS + 500)).toBe(10);
    expect(retryAfterSeconds('Sat, 01 Mar 2025 10:30:10 GMT', NOW_MS + 1)).toBe(10);
    expect(retryAfterSeconds('Sat, 01 Mar 2025 10:30:10 GMT', NOW_MS - 1)).toBe(11);
  });
});

describe('reconciler: what is queued and logged', () => {
  test('a moved head: the exact delivery (SQS message and attributes), one info line, the run line', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    const r = reconciler();
    const summary = await r.run();
    const deliveryKey = expectedKey(['dev', 'acme/web-shop', 'refs/heads/main', sha('b')]);
    expect(summary).toEqual({ counts: allCounts({ queued: 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'queued', head: sha('b'), built: sha('a') }] });
    expect(state.requests).toEqual([BRANCH_URL, PROJECT_URL]);
    expect(aws.sent).toHaveLength(1);
    const { MessageBody, ...message } = aws.sent[0]!;
    expect(message).toEqual({ QueueUrl: QUEUE_URL, MessageAttributes: { deliveryKey: { DataType: 'String', StringValue: deliveryKey } } });
    expect(JSON.parse(MessageBody!)).toEqual({
      version: 1,
      environment: 'dev',
      deliveryKey,
      eventUuid: null,
      event: 'Reconcile',
      receivedAt: '2025-03-01T10:30:00.000Z',
      project: { id: 4711, path: 'acme/web-shop', httpUrl: 'https://gitlab.example.com/acme/web-shop.git', sshUrl: 'git@gitlab.example.com:acme/web-shop.git' },
      ref: 'refs/heads/main',
      refType: 'branch',
      branch: 'main',
      before: sha('a'),
      after: sha('b'),
      commit: { sha: sha('b'), message: 'Fix checkout total\n', authorName: 'Bob Builder', authorEmail: 'bob@example.com', timestamp: '2025-03-01T11:20:30.000+01:00' },
      customer: 'acme',
      kind: 'software',
      targetKey: 'software/acme/main.zip',
    });
    expect(lines(r.logs)).toEqual([
      { level: 'info', msg: 'head not built; delivery queued', project: 'acme/web-shop', branch: 'main', head: sha('b'), built: sha('a'), deliveryKey },
      runLine({ ReconcileQueued: 1 }),
    ]);
  });

  test('up to date: one info line (the run line), the result carries head and built', async () => {
    putZip('software/acme/main.zip', sha('a'));
    const r = reconciler();
    expect(await r.run()).toEqual({ counts: allCounts({ 'up-to-date': 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'up-to-date', head: sha('a'), built: sha('a') }] });
    expect(lines(r.logs)).toEqual([runLine({ ReconcileUpToDate: 1 })]);
  });

  test('GitLab is asked with the trimmed read-only token, for JSON', async () => {
    aws = (aws.restore(), new FakeAws({ [API_PARAM]: ` ${API_TOKEN}\n` }));
    putZip('software/acme/main.zip', sha('a'));
    expect((await reconciler().run()).counts['up-to-date']).toBe(1);
    expect(state.headers[0]).toMatchObject({ 'private-token': API_TOKEN, accept: 'application/json' });
  });

  test('a project with the route\'s path encoded as one segment, every branch of every route', async () => {
    state.projects.set('acme/platform', { id: 12, branches: new Map([['main', sha('c')], ['release/2025', sha('d')]]) });
    putZip('software/acme/main.zip', sha('a'));
    putZip('infrastructure/acme/main.zip', sha('c'));
    putZip('infrastructure/acme/release/2025.zip', sha('d'));
    const routes: Route[] = [...ROUTES, { path: 'acme/platform', kind: 'infrastructure', customer: 'acme', branches: ['main', 'release/2025'] }];
    const summary = await reconciler({ routes }).run();
    expect(summary.results.map((x) => [x.path, x.branch, x.outcome])).toEqual([
      ['acme/web-shop', 'main', 'up-to-date'],
      ['acme/platform', 'main', 'up-to-date'],
      ['acme/platform', 'release/2025', 'up-to-date'],
    ]);
    expect(state.requests).toContain('/api/v4/projects/acme%2Fplatform/repository/branches/release%2F2025');
  });

  test('no zip: before is zeros (40 for a SHA-1 head, 64 for a SHA-256 head)', async () => {
    const head64 = 'e'.repeat(64);
    state.projects.get('acme/web-shop')!.branches.set('main', head64);
    const summary = await reconciler().run();
    expect(summary.results).toEqual([{ path: 'acme/web-shop', branch: 'main', outcome: 'queued', head: head64, built: null }]);
    const config = JSON.parse(aws.sent[0]!.MessageBody!);
    expect(config.before).toBe('0'.repeat(64));
    expect(config.after).toBe(head64);
  });

  test.each<[string, Record<string, string>, string | null]>([
    ['a zip without commit-sha metadata', {}, null],
    ['a zip whose commit-sha is not a commit id', { 'commit-sha': 'unknown' }, 'unknown'],
  ])('%s counts as not built (before is zeros)', async (_, metadata, built) => {
    aws.objects.set(`${baseInput.artifactBucket}/software/acme/main.zip`, { body: 'zip', input: { Bucket: baseInput.artifactBucket, Key: 'software/acme/main.zip', Metadata: metadata } });
    const summary = await reconciler().run();
    expect(summary.results).toEqual([{ path: 'acme/web-shop', branch: 'main', outcome: 'queued', head: sha('a'), built }]);
    expect(JSON.parse(aws.sent[0]!.MessageBody!).before).toBe('0'.repeat(40));
  });

  test('a zip HeadObject answered without any metadata counts as not built', async () => {
    aws.s3.on(HeadObjectCommand, { Key: 'software/acme/main.zip' }).resolves({});
    const summary = await reconciler().run();
    expect(summary.results).toEqual([{ path: 'acme/web-shop', branch: 'main', outcome: 'queued', head: sha('a'), built: null }]);
  });

  test('project fields GitLab leaves out: the routed path, empty clone URLs; commit fields it leaves out: null', async () => {
    state.override = (url) => {
      if (url === PROJECT_URL) return json(200, { id: 4711 });
      if (url === BRANCH_URL) return json(200, { name: 'main', commit: { id: sha('b'), message: 7, author_name: null } });
      return undefined;
    };
    await reconciler().run();
    const config = JSON.parse(aws.sent[0]!.MessageBody!);
    expect(config.project).toEqual({ id: 4711, path: 'acme/web-shop', httpUrl: '', sshUrl: '' });
    expect(config.commit).toEqual({ sha: sha('b'), message: null, authorName: null, authorEmail: null, timestamp: null });
  });

  test('the project path as GitLab spells it', async () => {
    state.override = (url) => (url === PROJECT_URL ? json(200, { id: 4711, path_with_namespace: 'Acme/Web-Shop', http_url_to_repo: 'https://gitlab.example.com/Acme/Web-Shop.git', ssh_url_to_repo: 'git@gitlab.example.com:Acme/Web-Shop.git' }) : undefined);
    await reconciler().run();
    expect(JSON.parse(aws.sent[0]!.MessageBody!).project).toEqual({ id: 4711, path: 'Acme/Web-Shop', httpUrl: 'https://gitlab.example.com/Acme/Web-Shop.git', sshUrl: 'git@gitlab.example.com:Acme/Web-Shop.git' });
  });
});

describe('reconciler: head markers and the retry window', () => {
  test('a marker S3 sent without LastModified: the build may still run', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    aws.s3.on(HeadObjectCommand, { Key: MARKER_B }).resolves({ Metadata: {} });
    const r = reconciler({}, NOW_MS + 365 * 24 * 3600_000);
    expect(await r.run()).toEqual({ counts: allCounts({ 'build-started': 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'build-started', head: sha('b'), built: sha('a') }] });
    expect(aws.sent).toHaveLength(0);
  });

  test('a marker 1 ms short of the window: build-started; at the window: the retry, with its exact warning and delivery', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    const markerAt = NOW_MS - RETRY_AFTER * 1000 + 1;
    setMarker(MARKER_B, markerAt);
    const inside = reconciler();
    expect((await inside.run()).counts).toEqual(allCounts({ 'build-started': 1 }));
    expect(lines(inside.logs)).toEqual([runLine({ ReconcileBuildStarted: 1 })]);
    expect(aws.sent).toHaveLength(0);

    // 0.5 s later the marker is 2400.499 s old: retried, and the warning gives whole seconds.
    const at = NOW_MS + 500;
    const retry = reconciler({}, at);
    expect(await retry.run()).toEqual({ counts: allCounts({ 'build-retried': 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'build-retried', head: sha('b'), built: sha('a') }] });
    const deliveryKey = expectedKey(['dev', 'acme/web-shop', 'refs/heads/main', sha('b')], markerAt);
    expect(lines(retry.logs)).toEqual([
      {
        level: 'warn',
        msg: 'build of the head did not produce its zip within the retry window; delivery queued again',
        project: 'acme/web-shop',
        branch: 'main',
        head: sha('b'),
        built: sha('a'),
        markerAgeSeconds: RETRY_AFTER,
        markerLastModified: new Date(markerAt).toISOString(),
        buildRetryAfterSeconds: RETRY_AFTER,
        deliveryKey,
      },
      runLine({ ReconcileBuildRetried: 1 }, 0, at),
    ]);
    expect(JSON.parse(aws.sent[0]!.MessageBody!)).toMatchObject({ deliveryKey, event: 'ReconcileRetry', receivedAt: new Date(at).toISOString(), before: sha('a'), after: sha('b') });
  });

  test('a zip without a commit id and an old marker: retried with before zeros, built null', async () => {
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    setMarker(MARKER_B, NOW_MS - RETRY_AFTER * 1000);
    const summary = await reconciler().run();
    expect(summary.results).toEqual([{ path: 'acme/web-shop', branch: 'main', outcome: 'build-retried', head: sha('b'), built: null }]);
    expect(JSON.parse(aws.sent[0]!.MessageBody!)).toMatchObject({ before: '0'.repeat(40), event: 'ReconcileRetry' });
  });
});

describe('reconciler: failures', () => {
  const errorLine = (errorMessage: string, extra: Record<string, unknown> = {}) => ({ level: 'error', msg: 'reconciling a branch failed', project: 'acme/web-shop', branch: 'main', errorName: 'Error', errorMessage, ...extra });

  test.each<[string, (url: string) => Answer | undefined, string]>([
    ['GitLab 500 on the branch', (u) => (u === BRANCH_URL ? json(500, { message: '500 Internal Server Error' }) : undefined), 'GitLab answered 500 for acme/web-shop main'],
    ['GitLab 401 on the branch', (u) => (u === BRANCH_URL ? json(401, { message: '401 Unauthorized' }) : undefined), 'GitLab answered 401 for acme/web-shop main'],
    ['a branch without a commit', (u) => (u === BRANCH_URL ? json(200, { name: 'main' }) : undefined), "GitLab's branch main of acme/web-shop has no commit id"],
    ['a branch whose commit id is short', (u) => (u === BRANCH_URL ? json(200, { name: 'main', commit: { id: 'abc1234' } }) : undefined), "GitLab's branch main of acme/web-shop has no commit id"],
    ['a branch whose commit id is not a string', (u) => (u === BRANCH_URL ? json(200, { name: 'main', commit: { id: [sha('b')] } }) : undefined), "GitLab's branch main of acme/web-shop has no commit id"],
    ['a branch answer that is not JSON', (u) => (u === BRANCH_URL ? { status: 200, text: '<html>proxy</html>' } : undefined), "GitLab's branch main of acme/web-shop has no commit id"],
    ['an empty branch answer', (u) => (u === BRANCH_URL ? { status: 200, text: '' } : undefined), "GitLab's branch main of acme/web-shop has no commit id"],
    ['GitLab 403 on the project', (u) => (u === PROJECT_URL ? json(403, { message: '403 Forbidden' }) : undefined), 'GitLab answered 403 for project acme/web-shop'],
    ['GitLab 202 on the project, even with an id', (u) => (u === PROJECT_URL ? json(202, { id: 4711, path_with_namespace: 'acme/web-shop' }) : undefined), 'GitLab answered 202 for project acme/web-shop'],
    ['a project without a numeric id', (u) => (u === PROJECT_URL ? json(200, { id: '4711' }) : undefined), 'GitLab answered 200 for project acme/web-shop'],
    ['a project answer that is not JSON', (u) => (u === PROJECT_URL ? { status: 200, text: 'nope' } : undefined), 'GitLab answered 200 for project acme/web-shop'],
  ])('%s: error outcome, the error logged, nothing queued', async (_, override, message) => {
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    state.override = override;
    const r = reconciler();
    expect(await r.run()).toEqual({ counts: allCounts({ error: 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'error' }] });
    expect(lines(r.logs)).toEqual([errorLine(message), runLine({ ReconcileError: 1 })]);
    expect(aws.sent).toHaveLength(0);
  });

  test.each([
    ['the zip', 'software/acme/main.zip'],
    ['the head marker', MARKER_B],
  ])('S3 refusing the HeadObject of %s: error outcome with the AWS status', async (_, key) => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    aws.s3.on(HeadObjectCommand, { Key: key }).rejects(Object.assign(new Error('Forbidden'), { name: 'Forbidden', $metadata: { httpStatusCode: 403 } }));
    const r = reconciler();
    expect((await r.run()).counts).toEqual(allCounts({ error: 1 }));
    expect(lines(r.logs)[0]).toEqual(errorLine('Forbidden', { errorName: 'Forbidden', awsStatus: 403 }));
    expect(aws.sent).toHaveLength(0);
  });

  test('a failing branch does not stop the others, in its page or later ones', async () => {
    state.projects.set('acme/platform', { id: 12, branches: new Map([['main', sha('c')]]) });
    putZip('infrastructure/acme/main.zip', sha('c'));
    putZip('software/acme/main.zip', sha('a'));
    state.override = (u) => (u === BRANCH_URL ? json(502, {}) : undefined);
    const routes: Route[] = [...ROUTES, { path: 'acme/platform', kind: 'infrastructure', customer: 'acme', branches: ['main'] }];
    const summary = await reconciler({ routes, concurrency: 1 }).run();
    expect(summary.results.map((x) => x.outcome)).toEqual(['error', 'up-to-date']);
  });

  test.each<[string, string, string]>([
    ['with GitLab\'s message, cut to 100 characters', JSON.stringify({ message: `404 Branch Not Found ${'x'.repeat(200)}` }), `404 Branch Not Found ${'x'.repeat(79)}`],
    ['without a message', JSON.stringify({ error: 'not found' }), ''],
    ['with a body that is not JSON', 'Not Found', ''],
  ])('a missing branch %s: one warning, branch-missing', async (_, text, gitlabMessage) => {
    state.override = (u) => (u === BRANCH_URL ? { status: 404, text } : undefined);
    const r = reconciler();
    expect(await r.run()).toEqual({ counts: allCounts({ 'branch-missing': 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'branch-missing' }] });
    expect(lines(r.logs)).toEqual([{ level: 'warn', msg: 'routed branch not found in GitLab; not built', project: 'acme/web-shop', branch: 'main', gitlabMessage }, runLine({ ReconcileBranchMissing: 1 })]);
  });
});

describe('reconciler: GitLab rate limits and the time budget', () => {
  test('each wait is logged (Retry-After and attempt); at most 3 retries of one request', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.rateLimit = { remaining: 3, retryAfter: '7' };
    const ok = reconciler();
    expect((await ok.run()).counts['up-to-date']).toBe(1);
    expect(ok.sleeps).toEqual([7000, 7000, 7000]);
    expect(lines(ok.logs)).toEqual([
      { level: 'warn', msg: 'GitLab rate limit; waiting', retryAfterSeconds: 7, attempt: 1 },
      { level: 'warn', msg: 'GitLab rate limit; waiting', retryAfterSeconds: 7, attempt: 2 },
      { level: 'warn', msg: 'GitLab rate limit; waiting', retryAfterSeconds: 7, attempt: 3 },
      runLine({ ReconcileUpToDate: 1 }, 21_000),
    ]);

    state.rateLimit = { remaining: 4, retryAfter: '7' };
    const tooMany = reconciler();
    expect(await tooMany.run()).toEqual({ counts: allCounts({ 'not-checked': 1 }), results: [{ path: 'acme/web-shop', branch: 'main', outcome: 'not-checked' }] });
    expect(tooMany.sleeps).toEqual([7000, 7000, 7000]);
    expect(lines(tooMany.logs).slice(3)).toEqual([
      { level: 'error', msg: 'reconciling a branch failed', project: 'acme/web-shop', branch: 'main', errorName: 'RateLimitedError', errorMessage: 'GitLab rate limit: retry after 7 s' },
      runLine({ ReconcileNotChecked: 1 }, 21_000),
    ]);
  });

  test.each<[string, number, Partial<ReconcilerSettings>, number[], string]>([
    ['120 s (the most a run waits)', 120, { timeBudgetSeconds: 900 }, [120_000], 'up-to-date'],
    ['121 s', 121, { timeBudgetSeconds: 900 }, [], 'not-checked'],
    ['exactly the rest of the budget', 10, { timeBudgetSeconds: 10 }, [10_000], 'up-to-date'],
    ['1 s beyond the budget', 11, { timeBudgetSeconds: 10 }, [], 'not-checked'],
  ])('Retry-After %s', async (_, seconds, over, sleeps, outcome) => {
    putZip('software/acme/main.zip', sha('a'));
    state.rateLimit = { remaining: 1, retryAfter: String(seconds) };
    const r = reconciler(over);
    const summary = await r.run();
    expect(r.sleeps).toEqual(sleeps);
    expect(summary.results.map((x) => x.outcome)).toEqual([outcome]);
  });

  test('a 429 without Retry-After waits 60 s', async () => {
    putZip('software/acme/main.zip', sha('a'));
    let limited = true;
    state.override = (u) => {
      if (u !== BRANCH_URL || !limited) return undefined;
      limited = false;
      return { status: 429, text: 'Retry later' };
    };
    const r = reconciler();
    expect((await r.run()).counts['up-to-date']).toBe(1);
    expect(r.sleeps).toEqual([60_000]);
  });

  test('a rate limit that ends the run: the rest of the routes is not checked (no GitLab request)', async () => {
    state.projects.set('acme/platform', { id: 12, branches: new Map([['main', sha('c')]]) });
    state.rateLimit = { remaining: 100, retryAfter: '3600' };
    const routes: Route[] = [...ROUTES, { path: 'acme/platform', kind: 'infrastructure', customer: 'acme', branches: ['main', 'develop'] }];
    const r = reconciler({ routes, concurrency: 1 });
    expect(await r.run()).toEqual({
      counts: allCounts({ 'not-checked': 3 }),
      results: [
        { path: 'acme/web-shop', branch: 'main', outcome: 'not-checked' },
        { path: 'acme/platform', branch: 'main', outcome: 'not-checked' },
        { path: 'acme/platform', branch: 'develop', outcome: 'not-checked' },
      ],
    });
    expect(state.requests).toEqual([BRANCH_URL]);
  });

  test('pages that start at or after the deadline are not checked; the run line has the duration', async () => {
    state.projects.set('acme/platform', { id: 12, branches: new Map([['main', sha('c')]]) });
    putZip('software/acme/main.zip', sha('a'));
    putZip('infrastructure/acme/main.zip', sha('c'));
    const routes: Route[] = [...ROUTES, { path: 'acme/platform', kind: 'infrastructure', customer: 'acme', branches: ['main', 'develop'] }];
    const r = reconciler({ routes, concurrency: 1, timeBudgetSeconds: 10 });
    // The first check takes 9.999 s: the second page starts just inside the budget; it takes 1 ms more.
    state.override = (u) => {
      r.time.ms += u === BRANCH_URL ? 9_999 : 1;
      return undefined;
    };
    const summary = await r.run();
    expect(summary.results).toEqual([
      { path: 'acme/web-shop', branch: 'main', outcome: 'up-to-date', head: sha('a'), built: sha('a') },
      { path: 'acme/platform', branch: 'main', outcome: 'up-to-date', head: sha('c'), built: sha('c') },
      { path: 'acme/platform', branch: 'develop', outcome: 'not-checked' },
    ]);
    expect(lines(r.logs)).toEqual([runLine({ ReconcileUpToDate: 2, ReconcileNotChecked: 1 }, 10_000)]);
  });
});

describe('reconciler settings (parseReconcilerSettings)', () => {
  const valid = () =>
    reconcilerEnvironmentVariables({ artifactBucket: baseInput.artifactBucket, environment: 'dev', gitlabUrl: 'https://gitlab.example.com/gitlab/', apiTokenParameter: API_PARAM, deliveryQueueUrl: QUEUE_URL, routes: ROUTES });
  const problems = (env: Record<string, string | undefined>): readonly string[] => {
    try {
      parseReconcilerSettings(env);
    } catch (e) {
      expect(e).toBeInstanceOf(SettingsError);
      return (e as SettingsError).problems;
    }
    throw new Error('the settings were accepted');
  };

  test('the defaults: 240 s budget, 4 at once, 2400 s retry window, info; the GitLab URL without its trailing slash', () => {
    expect(parseReconcilerSettings(valid())).toEqual({
      artifactBucket: baseInput.artifactBucket,
      environment: 'dev',
      apiTokenParameter: API_PARAM,
      queueUrl: QUEUE_URL,
      gitlabUrl: 'https://gitlab.example.com/gitlab',
      routes: ROUTES,
      timeBudgetSeconds: 240,
      concurrency: 4,
      buildRetryAfterSeconds: 2400,
      logLevel: 'info',
    });
  });

  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    ['the lowest bounds', { TIME_BUDGET_SECONDS: '10', CONCURRENCY: '1', BUILD_RETRY_AFTER_SECONDS: '600', LOG_LEVEL: 'debug' }, { timeBudgetSeconds: 10, concurrency: 1, buildRetryAfterSeconds: 600, logLevel: 'debug' }],
    ['the highest bounds', { TIME_BUDGET_SECONDS: '900', CONCURRENCY: '20', BUILD_RETRY_AFTER_SECONDS: '604800', LOG_LEVEL: 'error' }, { timeBudgetSeconds: 900, concurrency: 20, buildRetryAfterSeconds: 604800, logLevel: 'error' }],
    ['empty values (defaults)', { TIME_BUDGET_SECONDS: '', CONCURRENCY: '', BUILD_RETRY_AFTER_SECONDS: '', LOG_LEVEL: '' }, { timeBudgetSeconds: 240, concurrency: 4, buildRetryAfterSeconds: 2400, logLevel: 'info' }],
  ])('%s are accepted', (_, over, expected) => {
    expect(parseReconcilerSettings({ ...valid(), ...over })).toMatchObject(expected);
  });

  test('nothing set: every required variable is reported, in order', () => {
    expect(problems({})).toEqual([
      'ARTIFACT_BUCKET is required (an S3 bucket name)',
      'ENVIRONMENT is required (an environment name)',
      'GITLAB_API_TOKEN_PARAMETER is required (an SSM parameter name)',
      'DELIVERY_QUEUE_URL is required (an SQS queue URL)',
      'GITLAB_URL is required (the GitLab base URL)',
      'ROUTES is required (a JSON array of {path, kind, customer, branches}; "[]" routes nothing)',
    ]);
  });

  test('every bad value is reported with the variable, the value and what is allowed', () => {
    expect(
      problems({
        ...valid(),
        ARTIFACT_BUCKET: 'Artifacts_Bucket',
        ENVIRONMENT: 'Dev-1',
        GITLAB_API_TOKEN_PARAMETER: 'not a name',
        DELIVERY_QUEUE_URL: 'https://example.com/queue',
        GITLAB_URL: 'gitlab.example.com',
        ROUTES: '{}',
        TIME_BUDGET_SECONDS: '9',
        CONCURRENCY: '21',
        BUILD_RETRY_AFTER_SECONDS: '604801',
        LOG_LEVEL: 'verbose',
      }),
    ).toEqual([
      'ARTIFACT_BUCKET="Artifacts_Bucket" is not an S3 bucket name',
      'ENVIRONMENT="Dev-1" is not an environment name',
      'GITLAB_API_TOKEN_PARAMETER="not a name" is not an SSM parameter name',
      'DELIVERY_QUEUE_URL="https://example.com/queue" is not an SQS queue URL',
      'GITLAB_URL="gitlab.example.com" is not a URL',
      'ROUTES must be a JSON array',
      'TIME_BUDGET_SECONDS="9" must be an integer from 10 to 900',
      'CONCURRENCY="21" must be an integer from 1 to 20',
      'BUILD_RETRY_AFTER_SECONDS="604801" must be an integer from 600 to 604800',
      'LOG_LEVEL="verbose" must be one of debug, info, warn, error',
    ]);
  });

  test.each([
    ['TIME_BUDGET_SECONDS', '901', 'TIME_BUDGET_SECONDS="901" must be an integer from 10 to 900'],
    ['CONCURRENCY', '0', 'CONCURRENCY="0" must be an integer from 1 to 20'],
    ['BUILD_RETRY_AFTER_SECONDS', '599', 'BUILD_RETRY_AFTER_SECONDS="599" must be an integer from 600 to 604800'],
    ['GITLAB_URL', 'ftp://gitlab.example.com', 'GITLAB_URL="ftp://gitlab.example.com" must be an http(s) URL'],
  ])('%s=%s is out of bounds', (name, value, message) => {
    expect(problems({ ...valid(), [name]: value })).toEqual([message]);
  });
});

describe('reconciler Lambda handler (reconciler-index.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  test('settings from the environment, parsed once per container; a real wait on 429; deliveries queued; the API token cached for 300 s', async () => {
    putZip('software/acme/main.zip', sha('a'));
    state.projects.get('acme/web-shop')!.branches.set('main', sha('b'));
    process.env = { ...saved, ...reconcilerEnvironmentVariables({ artifactBucket: baseInput.artifactBucket, environment: 'dev', gitlabUrl, apiTokenParameter: API_PARAM, deliveryQueueUrl: QUEUE_URL, routes: ROUTES, logLevel: 'error' }) };
    // The first GitLab request is rate limited for 1 s: the function really waits (no injected sleep here).
    const at: number[] = [];
    state.override = (u) => {
      at.push(performance.now());
      return u === BRANCH_URL && at.length === 1 ? { status: 429, text: '{}', headers: { 'retry-after': '1' } } : undefined;
    };
    const clock = jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    expect(await handler()).toEqual({ counts: allCounts({ queued: 1 }) });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(990);
    expect(aws.sent.map((m) => JSON.parse(m.MessageBody!).after)).toEqual([sha('b')]);
    expect(aws.calls('GetParameter')).toBe(1);
    // The container keeps its settings (a later change of the environment does not apply) and the token.
    state.override = undefined;
    putZip('software/acme/main.zip', sha('b'));
    delete process.env.GITLAB_URL;
    clock.mockReturnValue(NOW_MS + 299_999);
    expect(await handler()).toEqual({ counts: allCounts({ 'up-to-date': 1 }) });
    expect(aws.calls('GetParameter')).toBe(1);
    clock.mockReturnValue(NOW_MS + 300_000);
    expect(await handler()).toEqual({ counts: allCounts({ 'up-to-date': 1 }) });
    expect(aws.calls('GetParameter')).toBe(2);
    expect(state.requests).toEqual([BRANCH_URL, BRANCH_URL, PROJECT_URL, BRANCH_URL, BRANCH_URL]);
  });
});
