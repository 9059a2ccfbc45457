/**
 * Worker Lambda entry point (bundled to worker.js; handler `worker.handler`). Invalid settings fail
 * every batch (the messages stay queued and are retried, then dead-lettered and alarmed).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from './log';
import { once, sdk } from './sdk';
import { createWorker, WorkerHandler } from './worker';
import { parseWorkerSettings } from './worker-settings';

export { createWorker } from './worker';

/** No caller is waiting: SDK calls may take their time; the queue retries whatever fails. */
const clientConfig = { maxAttempts: 3, requestHandler: { connectionTimeout: 2000, requestTimeout: 10000 } } as const;

let instance: WorkerHandler | undefined;

export async function handler(event: SQSEvent, context?: { readonly awsRequestId?: string }): Promise<SQSBatchResponse> {
  if (instance === undefined) {
    const settings = parseWorkerSettings(process.env);
    instance = createWorker({
      target: settings,
      queueUrl: settings.queueUrl,
      clients: {
        s3: once(() => new (sdk.s3().S3Client)(clientConfig)),
        codebuild: once(() => new (sdk.codebuild().CodeBuildClient)(clientConfig)),
        sqs: once(() => new (sdk.sqs().SQSClient)(clientConfig)),
      },
      log: createLogger(settings.logLevel),
    });
  }
  return instance(event, context);
}
