/**
 * The reconciler against a local HTTP server that speaks GitLab's branches and projects API, and
 * aws-sdk-client-mock fakes of S3 (HeadObject of zips and head markers) and SQS. No real sleeps:
 * Retry-After waits go through an injected sleep.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Route } from '../../lambdas/gitlab-webhook/contract';
import { createLogger } from '../../lambdas/gitlab-webhook/log';
import { createReconciler, ReconcilerSettings } from '../../lambdas/gitlab-webhook/reconciler';
import { parseReconcilerSettings } from '../../lambdas/gitlab-webhook/reconciler-index';
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
}

let server: http.Server;
let gitlabUrl: string;
const state: GitlabState = { projects: new Map(), requests: [], rateLimit: { remaining: 0, retryAfter: '0' }, inFlight: 0, maxInFlight: 0 };

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
});
afterEach(() => aws.restore());

const RETRY_AFTER = 2400;
const ROUTES: Route[] = [{ path: 'acme/web-shop', kind: 'software', customer: 'acme', branches: ['main'] }];

function reconciler(over: Partial<ReconcilerSettings> = {}, startMs = NOW_MS) {
  const logs: string[] = [];
  const sleeps: number[] = [];
  let clock = startMs;
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const s3 = new S3Client({ region: 'eu-west-1' });
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const run = createReconciler({
    settings: { environment: 'dev', artifactBucket: baseInput.artifactBucket, gitlabUrl, apiTokenParameter: API_PARAM, queueUrl: QUEUE_URL, routes: ROUTES, timeBudgetSeconds: 240, concurrency: 4, buildRetryAfterSeconds: RETRY_AFTER, ...over },
    clients: { s3: () => s3, sqs: () => sqs },
    secrets: { get: async (name) => (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value ?? '' },
    log: createLogger('debug', (l) => logs.push(l)),
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  });
  return { run, logs, sleeps };
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
