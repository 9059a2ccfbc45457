/**
 * The durable record of an accepted delivery: one SQS message whose body is the source config
 * (`lambdas/shared/source-config.ts`). The webhook and the reconciler send; the worker receives
 * (`worker.ts`). SQS stores the message redundantly before SendMessage answers, so a 2xx after
 * SendMessage means the push will be worked on (retried for hours, then dead-lettered and alarmed).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sdk } from './sdk';
import { parseSourceConfig, SourceConfig } from '../shared/source-config';

/** Commit messages are cut to this many characters in the message (SQS takes 256 KiB per message). */
export const MAX_COMMIT_MESSAGE_CHARS = 16 * 1024;

/** The message body of a delivery: the config file the worker writes, as JSON. */
export function deliveryMessageBody(config: SourceConfig): string {
  const message = config.commit.message;
  const commit = message !== null && message.length > MAX_COMMIT_MESSAGE_CHARS ? { ...config.commit, message: `${message.slice(0, MAX_COMMIT_MESSAGE_CHARS)}\n[…]` } : config.commit;
  return JSON.stringify({ ...config, commit });
}

/** Parses a message body back (throws SourceConfigError on anything the worker must not act on). */
export function parseDeliveryMessage(body: string): SourceConfig {
  return parseSourceConfig(body);
}

/** Sends one delivery; returns the SQS message id. Throws the SDK's error when SQS fails. */
export async function enqueueDelivery(sqs: SQSClient, queueUrl: string, config: SourceConfig): Promise<string> {
  const { SendMessageCommand } = sdk.sqs();
  const out = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: deliveryMessageBody(config),
      MessageAttributes: { deliveryKey: { DataType: 'String', StringValue: config.deliveryKey } },
    }),
  );
  return out.MessageId ?? '';
}
