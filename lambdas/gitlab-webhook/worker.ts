/**
 * The delivery worker: an SQS event source (batch, ReportBatchItemFailures). For each message it
 * runs `deliver` (config write, StartBuild, build record), which is idempotent per delivery key.
 * A failed message is reported as a batch item failure and made visible again after an
 * exponential backoff (ChangeMessageVisibility); after the queue's maxReceiveCount receives SQS
 * moves it to the dead-letter queue, whose alarm tells a person.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { deliver, DeliveryClients, DeliveryTarget } from './delivery';
import { errorFields, Logger } from './log';
import { parseDeliveryMessage } from './queue';
import { sdk } from './sdk';

/** First retry after this many seconds (well inside CodeBuild's 5-minute token window). */
export const BACKOFF_BASE_SECONDS = 30;
/** Longest wait between two attempts. */
export const BACKOFF_MAX_SECONDS = 900;

/** Seconds until the next attempt after the `receiveCount`-th failed one: 30, 60, 120, … capped at 900. */
export function backoffSeconds(receiveCount: number): number {
  const n = Math.max(1, Math.floor(receiveCount));
  return Math.min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.min(n - 1, 20));
}

/** Total time a message is retried before it is dead-lettered, for `maxReceiveCount` receives. */
export function retryWindowSeconds(maxReceiveCount: number): number {
  let total = 0;
  for (let i = 1; i < maxReceiveCount; i++) total += backoffSeconds(i);
  return total;
}

export interface WorkerDeps {
  readonly target: DeliveryTarget;
  readonly clients: DeliveryClients & { readonly sqs: () => SQSClient };
  readonly queueUrl: string;
  readonly log: Logger;
  readonly now?: () => number;
}

export type WorkerHandler = (event: SQSEvent, context?: { readonly awsRequestId?: string }) => Promise<SQSBatchResponse>;

export function createWorker(deps: WorkerDeps): WorkerHandler {
  const now = deps.now ?? Date.now;
  return async (event, context) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    // One at a time: a batch is at most 10 messages, and CodeBuild's StartBuild rate is the limit.
    for (const record of event?.Records ?? []) {
      const ok = await work(deps, record, now, deps.log.child({ requestId: context?.awsRequestId ?? null, messageId: record.messageId }));
      if (!ok) failures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures: failures };
  };
}

async function work(deps: WorkerDeps, record: SQSRecord, now: () => number, log: Logger): Promise<boolean> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount) || 1;
  let fields: Record<string, string | number | boolean | null> = { receiveCount };
  try {
    const config = parseDeliveryMessage(record.body);
    fields = { ...fields, deliveryKey: config.deliveryKey, project: config.project.path, ref: config.ref, commit: config.commit.sha, targetKey: config.targetKey };
    const result = await deliver(deps.clients, deps.target, config, log, { now });
    log.info('delivery worked', { ...fields, status: result.status, buildId: result.buildId, restarted: result.status === 'duplicate' ? result.restarted : false });
    return true;
  } catch (e) {
    const delay = backoffSeconds(receiveCount);
    log.warn('delivery failed; retrying later', { ...fields, retryInSeconds: delay, ...errorFields(e) });
    try {
      const { ChangeMessageVisibilityCommand } = sdk.sqs();
      await deps.clients.sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delay }));
    } catch (e2) {
      // The message comes back after the queue's visibility timeout instead.
      log.warn('could not set the retry delay', errorFields(e2));
    }
    return false;
  }
}
