/**
 * Settings of the worker Lambda, from environment variables (names in `contract.ts`, WORKER_ENV).
 * Reports every problem at once, like the webhook's settings.
 */
import { LogLevel, WORKER_ENV } from './contract';
import { CODEBUILD_PROJECT, Env, KMS_KEY_ARN, S3_BUCKET, SQS_QUEUE_URL, envReader } from './env-reader';
import { SettingsError } from './settings';
import { ENV_NAME } from '../shared/names';
import type { DeliveryTarget } from './delivery';

export interface WorkerSettings extends DeliveryTarget {
  readonly queueUrl: string;
  readonly logLevel: LogLevel;
}

export function parseWorkerSettings(env: Env): WorkerSettings {
  const problems: string[] = [];
  const read = envReader(env, problems);
  const required = read.required;
  const project = CODEBUILD_PROJECT;
  const settings = {
    artifactBucket: required(WORKER_ENV.artifactBucket, S3_BUCKET, 'an S3 bucket name'),
    artifactKmsKeyArn: required(WORKER_ENV.artifactKmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN'),
    codebuildProjects: {
      software: required(WORKER_ENV.codebuildProjectSoftware, project, 'a CodeBuild project name'),
      infrastructure: required(WORKER_ENV.codebuildProjectInfrastructure, project, 'a CodeBuild project name'),
    },
    environment: required(WORKER_ENV.environment, ENV_NAME, 'an environment name'),
    queueUrl: required(WORKER_ENV.deliveryQueueUrl, SQS_QUEUE_URL, 'an SQS queue URL'),
    logLevel: read.logLevel(WORKER_ENV.logLevel),
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}
