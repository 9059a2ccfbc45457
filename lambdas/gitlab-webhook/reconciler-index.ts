/**
 * Reconciler Lambda entry point (bundled to index.js; handler `index.handler`), run by EventBridge
 * Scheduler. Settings from environment variables (`RECONCILER_ENV` in contract.ts).
 */
import { BUILD_RETRY_AFTER_SECONDS_RANGE, DEFAULT_BUILD_RETRY_AFTER_SECONDS, LogLevel, RECONCILER_ENV } from './contract';
import { createLogger } from './log';
import { createReconciler, ReconcilerSettings, ReconcileSummary } from './reconciler';
import { once, sdk } from './sdk';
import { ssmSecretSource } from './secrets';
import { parseGitlabUrl, parseRoutes, SettingsError } from './settings';
import { Env, S3_BUCKET, SQS_QUEUE_URL, SSM_NAME, envReader } from './env-reader';
import { ENV_NAME } from '../shared/names';

export { createReconciler } from './reconciler';

export function parseReconcilerSettings(env: Env): ReconcilerSettings & { readonly logLevel: LogLevel } {
  const problems: string[] = [];
  const { required, int, logLevel: readLogLevel } = envReader(env, problems);
  const artifactBucket = required(RECONCILER_ENV.artifactBucket, S3_BUCKET, 'an S3 bucket name');
  const environment = required(RECONCILER_ENV.environment, ENV_NAME, 'an environment name');
  const apiTokenParameter = required(RECONCILER_ENV.apiTokenParameter, SSM_NAME, 'an SSM parameter name');
  const queueUrl = required(RECONCILER_ENV.deliveryQueueUrl, SQS_QUEUE_URL, 'an SQS queue URL');
  const gitlabUrl = parseGitlabUrl(env[RECONCILER_ENV.gitlabUrl], problems);
  if (gitlabUrl === undefined && !problems.some((p) => p.startsWith(RECONCILER_ENV.gitlabUrl))) problems.push(`${RECONCILER_ENV.gitlabUrl} is required (the GitLab base URL)`);
  const routes = parseRoutes(env[RECONCILER_ENV.routes], problems);
  const timeBudgetSeconds = int(RECONCILER_ENV.timeBudgetSeconds, 240, 10, 900);
  const concurrency = int(RECONCILER_ENV.concurrency, 4, 1, 20);
  const buildRetryAfterSeconds = int(RECONCILER_ENV.buildRetryAfterSeconds, DEFAULT_BUILD_RETRY_AFTER_SECONDS, BUILD_RETRY_AFTER_SECONDS_RANGE.min, BUILD_RETRY_AFTER_SECONDS_RANGE.max);
  const logLevel = readLogLevel(RECONCILER_ENV.logLevel);
  if (problems.length > 0) throw new SettingsError(problems);
  return { artifactBucket, environment, apiTokenParameter, queueUrl, gitlabUrl: gitlabUrl as string, routes, timeBudgetSeconds, concurrency, buildRetryAfterSeconds, logLevel };
}

const clientConfig = { maxAttempts: 3, requestHandler: { connectionTimeout: 2000, requestTimeout: 10000 } } as const;
let run: (() => Promise<ReconcileSummary>) | undefined;

export async function handler(): Promise<{ readonly counts: ReconcileSummary['counts'] }> {
  if (run === undefined) {
    const settings = parseReconcilerSettings(process.env);
    run = createReconciler({
      settings,
      clients: { s3: once(() => new (sdk.s3().S3Client)(clientConfig)), sqs: once(() => new (sdk.sqs().SQSClient)(clientConfig)) },
      secrets: ssmSecretSource(once(() => new (sdk.ssm().SSMClient)(clientConfig)), 300),
      log: createLogger(settings.logLevel),
    });
  }
  const summary = await run();
  return { counts: summary.counts };
}
