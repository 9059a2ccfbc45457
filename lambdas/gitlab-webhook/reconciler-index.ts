/**
 * Reconciler Lambda entry point (bundled to index.js; handler `index.handler`), run by EventBridge
 * Scheduler. Settings from environment variables (`RECONCILER_ENV` in contract.ts).
 */
import { BUILD_RETRY_AFTER_SECONDS_RANGE, DEFAULT_BUILD_RETRY_AFTER_SECONDS, DEFAULTS, LOG_LEVELS, LogLevel, RECONCILER_ENV } from './contract';
import { createLogger } from './log';
import { createReconciler, ReconcilerSettings, ReconcileSummary } from './reconciler';
import { once, sdk } from './sdk';
import { ssmSecretSource } from './secrets';
import { parseGitlabUrl, parseRoutes, SettingsError, SQS_QUEUE_URL } from './settings';

export { createReconciler } from './reconciler';

type Env = Readonly<Record<string, string | undefined>>;

export function parseReconcilerSettings(env: Env): ReconcilerSettings & { readonly logLevel: LogLevel } {
  const problems: string[] = [];
  const required = (name: string, pattern: RegExp, what: string): string => {
    const v = env[name];
    if (v === undefined || v === '') problems.push(`${name} is required (${what})`);
    else if (!pattern.test(v)) problems.push(`${name}=${JSON.stringify(v)} is not ${what}`);
    return v ?? '';
  };
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) problems.push(`${name}=${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
    return Number(v) || dflt;
  };
  const artifactBucket = required(RECONCILER_ENV.artifactBucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');
  const environment = required(RECONCILER_ENV.environment, /^[a-z][a-z0-9]{1,9}$/, 'an environment name');
  const apiTokenParameter = required(RECONCILER_ENV.apiTokenParameter, /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'an SSM parameter name');
  const queueUrl = required(RECONCILER_ENV.deliveryQueueUrl, SQS_QUEUE_URL, 'an SQS queue URL');
  const gitlabUrl = parseGitlabUrl(env[RECONCILER_ENV.gitlabUrl], problems);
  if (gitlabUrl === undefined && !problems.some((p) => p.startsWith(RECONCILER_ENV.gitlabUrl))) problems.push(`${RECONCILER_ENV.gitlabUrl} is required (the GitLab base URL)`);
  const routes = parseRoutes(env[RECONCILER_ENV.routes], problems);
  const timeBudgetSeconds = int(RECONCILER_ENV.timeBudgetSeconds, 240, 10, 900);
  const concurrency = int(RECONCILER_ENV.concurrency, 4, 1, 20);
  const buildRetryAfterSeconds = int(RECONCILER_ENV.buildRetryAfterSeconds, DEFAULT_BUILD_RETRY_AFTER_SECONDS, BUILD_RETRY_AFTER_SECONDS_RANGE.min, BUILD_RETRY_AFTER_SECONDS_RANGE.max);
  let logLevel: LogLevel = DEFAULTS.logLevel;
  const level = env[RECONCILER_ENV.logLevel];
  if (level !== undefined && level !== '') {
    if ((LOG_LEVELS as readonly string[]).includes(level)) logLevel = level as LogLevel;
    else problems.push(`${RECONCILER_ENV.logLevel}=${JSON.stringify(level)} must be one of ${LOG_LEVELS.join(', ')}`);
  }
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
