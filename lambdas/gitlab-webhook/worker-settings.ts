/**
 * Settings of the worker Lambda, from environment variables (names in `contract.ts`, WORKER_ENV).
 * Reports every problem at once, like the webhook's settings.
 */
import { DEFAULTS, LOG_LEVELS, LogLevel, WORKER_ENV } from './contract';
import { SettingsError, SQS_QUEUE_URL } from './settings';
import type { DeliveryTarget } from './delivery';

export interface WorkerSettings extends DeliveryTarget {
  readonly queueUrl: string;
  readonly logLevel: LogLevel;
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseWorkerSettings(env: Env): WorkerSettings {
  const problems: string[] = [];
  const required = (name: string, pattern: RegExp, what: string): string => {
    const v = env[name];
    if (v === undefined || v === '') problems.push(`${name} is required (${what})`);
    else if (!pattern.test(v)) problems.push(`${name}=${JSON.stringify(v)} is not ${what}`);
    return v ?? '';
  };
  const project = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
  const settings = {
    artifactBucket: required(WORKER_ENV.artifactBucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
    artifactKmsKeyArn: required(WORKER_ENV.artifactKmsKeyArn, /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_+=,.@-]+$/, 'a KMS key ARN'),
    codebuildProjects: {
      software: required(WORKER_ENV.codebuildProjectSoftware, project, 'a CodeBuild project name'),
      infrastructure: required(WORKER_ENV.codebuildProjectInfrastructure, project, 'a CodeBuild project name'),
    },
    environment: required(WORKER_ENV.environment, /^[a-z][a-z0-9]{1,9}$/, 'an environment name'),
    queueUrl: required(WORKER_ENV.deliveryQueueUrl, SQS_QUEUE_URL, 'an SQS queue URL'),
    logLevel: DEFAULTS.logLevel,
  };
  const level = env[WORKER_ENV.logLevel];
  if (level !== undefined && level !== '') {
    if ((LOG_LEVELS as readonly string[]).includes(level)) settings.logLevel = level as LogLevel;
    else problems.push(`${WORKER_ENV.logLevel}=${JSON.stringify(level)} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}
