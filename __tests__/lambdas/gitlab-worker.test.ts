/**
 * The delivery worker against aws-sdk-client-mock fakes, driven by a simulated SQS queue
 * (visibility timeouts, ChangeMessageVisibility backoff, at-least-once redelivery, maxReceiveCount
 * → dead-letter queue) on a simulated clock: no real sleeps.
 */
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { StartBuildCommand } from '@aws-sdk/client-codebuild';
import { configKeyOf } from '../../lambdas/gitlab-webhook/delivery';
import { deliveryMessageBody } from '../../lambdas/gitlab-webhook/queue';
import { backoffSeconds, retryWindowSeconds } from '../../lambdas/gitlab-webhook/worker';
import { DELIVERY_MAX_RECEIVE_COUNT, DELIVERY_VISIBILITY_TIMEOUT_SECONDS } from '../../stacks/constructs/ingestion/gitlab-ingestion';
import type { SourceConfig } from '../../lambdas/shared/source-config';
import { FakeAws, NOW_MS, s3SlowDown, sourceConfigOf, sqsEvent, testWorker, throttled } from './helpers/webhook';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

const config = (n: number): SourceConfig => {
  const sha = n.toString(16).padStart(40, 'a');
  return sourceConfigOf({ deliveryKey: `0f4b7d2e-6a1c-4e8f-9b3d-${String(n).padStart(12, '0')}`, after: sha, commit: { ...sourceConfigOf().commit, sha } });
};

interface Message {
  readonly id: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
}

/**
 * A standard SQS queue with a redrive policy, as the worker's event source sees it: batches of up
 * to 10 visible messages; a reported failure becomes visible again after the worker's
 * ChangeMessageVisibility delay (else the queue's visibility timeout); after maxReceiveCount
 * receives a message moves to the dead-letter queue. `duplicateEvery` delivers every n-th message
 * twice (at-least-once delivery).
 */
async function drain(messages: readonly string[], opts: { duplicateEvery?: number; maxRounds?: number } = {}): Promise<{ dlq: Message[]; rounds: number; elapsedSeconds: number }> {
  const worker = testWorker(() => undefined, () => aws.clock);
  const queue: Message[] = [];
  messages.forEach((body, i) => {
    queue.push({ id: `m${i}`, body, receiveCount: 0, visibleAt: aws.clock });
    if (opts.duplicateEvery && i % opts.duplicateEvery === 0) queue.push({ id: `m${i}-dup`, body, receiveCount: 0, visibleAt: aws.clock });
  });
  const dlq: Message[] = [];
  let rounds = 0;
  while (queue.length > 0) {
    if (++rounds > (opts.maxRounds ?? 10_000)) throw new Error('the queue never drained');
    aws.clock = Math.max(aws.clock, Math.min(...queue.map((m) => m.visibleAt)));
    const visible = queue.filter((m) => m.visibleAt <= aws.clock).slice(0, 10);
    for (const m of visible) m.receiveCount++;
    aws.sqs.resetHistory();
    const res = await worker(sqsEvent(visible.map((m) => ({ id: m.id, body: m.body, receiveCount: m.receiveCount }))));
    const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
    const delays = new Map(aws.sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => [c.args[0].input.ReceiptHandle, c.args[0].input.VisibilityTimeout ?? 0]));
    for (const m of visible) {
      const idx = queue.indexOf(m);
      if (!failed.has(m.id)) {
        queue.splice(idx, 1);
        continue;
      }
      if (m.receiveCount >= DELIVERY_MAX_RECEIVE_COUNT) {
        queue.splice(idx, 1);
        dlq.push(m);
        continue;
      }
      m.visibleAt = aws.clock + 1000 * (delays.get(`rh-${m.id}-${m.receiveCount}`) ?? DELIVERY_VISIBILITY_TIMEOUT_SECONDS);
    }
    aws.clock += 1000; // a batch takes about a second
  }
  return { dlq, rounds, elapsedSeconds: (aws.clock - NOW_MS) / 1000 };
}

describe('backoff', () => {
  test('30 s doubling to 15 min; 30 receives retry for hours', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 30].map(backoffSeconds)).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    expect(retryWindowSeconds(DELIVERY_MAX_RECEIVE_COUNT) / 3600).toBeGreaterThan(6);
  });
});

describe('transient failures, then success: exactly one build', () => {
  const key = configKeyOf('dev', config(1).deliveryKey);
  test.each([1, 3, 20])('S3 (config write) failing %i times', async (n) => {
    aws.failNext('PutObject', n, s3SlowDown);
    const { dlq } = await drain([deliveryMessageBody(config(1))]);
    expect(dlq).toEqual([]);
    expect(aws.buildsOf(key)).toHaveLength(1);
    expect(aws.object(`webhook/dev/${config(1).deliveryKey}.build.json`)).toBeDefined();
  });

  test.each([1, 3, 20])('CodeBuild StartBuild throttled %i times', async (n) => {
    aws.failNext('StartBuild', n, throttled);
    const { dlq } = await drain([deliveryMessageBody(config(1))]);
    expect(dlq).toEqual([]);
    expect(aws.buildsOf(key)).toHaveLength(1);
  });

  test.each([1, 3, 20])('S3 failing %i times on the build record, after the build started (past the 5-minute token window for 20)', async (n) => {
    const recordKey = `webhook/dev/${config(1).deliveryKey}.build.json`;
    let failures = n;
    aws.s3.on(PutObjectCommand, { Key: recordKey }).callsFake(async (input: any) => {
      if (failures-- > 0) throw s3SlowDown();
      aws.objects.set(`${input.Bucket}/${input.Key}`, { body: String(input.Body), input });
      return {};
    });
    const { dlq, elapsedSeconds } = await drain([deliveryMessageBody(config(1))]);
    expect(dlq).toEqual([]);
    if (n === 20) expect(elapsedSeconds).toBeGreaterThan(300);
    expect(aws.buildsOf(key)).toHaveLength(1);
    expect(aws.object(recordKey)).toBeDefined();
  });

  test('StartBuild succeeding while its answer is lost (timeout): the retry gets the same build', async () => {
    let lost = 1;
    const worker = testWorker(() => undefined, () => aws.clock);
    const body = deliveryMessageBody(config(1));
    // The first StartBuild starts the build, then its answer is lost.
    aws.codebuild.on(StartBuildCommand).callsFakeOnce(async (input: any) => {
      aws.buildInfo.set('wvm-dev-source-fetch:lost', { project: input.projectName, startTime: aws.clock, configKey: input.environmentVariablesOverride[1].value });
      aws.builds.push('wvm-dev-source-fetch:lost');
      lost--;
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    });
    expect((await worker(sqsEvent([{ id: 'a', body, receiveCount: 1 }]))).batchItemFailures).toHaveLength(1);
    expect(lost).toBe(0);
    // The retry comes after the token window (as if SQS had kept it for an hour).
    aws.clock += 3600_000;
    expect((await worker(sqsEvent([{ id: 'a', body, receiveCount: 2 }]))).batchItemFailures).toEqual([]);
    expect(aws.buildsOf(key)).toEqual(['wvm-dev-source-fetch:lost']);
  });
});

describe('a burst of 200 deliveries while CodeBuild throttles', () => {
  test('200 builds, 0 lost, 0 duplicated, with SQS redelivering every 5th message twice', async () => {
    // CodeBuild takes 4 StartBuild calls per simulated second (a batch of 10 takes one), throttles the rest.
    const perSecond = new Map<number, number>();
    aws.beforeStartBuild = () => {
      const s = Math.floor(aws.clock / 1000);
      const n = (perSecond.get(s) ?? 0) + 1;
      perSecond.set(s, n);
      if (n > 4) throw throttled();
    };
    const configs = Array.from({ length: 200 }, (_, i) => config(i + 1));
    const { dlq } = await drain(configs.map(deliveryMessageBody), { duplicateEvery: 5 });
    expect(dlq).toEqual([]);
    expect(aws.builds).toHaveLength(200);
    for (const c of configs) expect(aws.buildsOf(configKeyOf('dev', c.deliveryKey))).toHaveLength(1);
    expect([...perSecond.values()].some((n) => n > 4)).toBe(true); // throttling did happen
  });
});

describe('the dead-letter path', () => {
  test('work that keeps failing is retried with backoff for hours, then dead-lettered (the DLQ alarm fires on > 0 visible)', async () => {
    const denied = () => new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' });
    aws.failNext('PutObject', 1000, denied);
    const { dlq, elapsedSeconds } = await drain([deliveryMessageBody(config(1))]);
    expect(dlq.map((m) => m.receiveCount)).toEqual([DELIVERY_MAX_RECEIVE_COUNT]);
    expect(elapsedSeconds / 3600).toBeGreaterThan(6);
    expect(aws.builds).toHaveLength(0);
  });

  test('a message that is not a valid config fails (and so ends in the dead-letter queue), never builds', async () => {
    const worker = testWorker();
    const res = await worker(sqsEvent([{ id: 'bad', body: '{"version":1}', receiveCount: 1 }]));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(aws.builds).toHaveLength(0);
  });
});
