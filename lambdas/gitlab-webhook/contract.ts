/**
 * The webhook Lambda's environment-variable contract, for whoever wires the function (cdktf).
 * Pure data: no AWS SDK, no process.env. settings.ts parses exactly these names.
 */

import type { RepositoryKind } from '../shared/names';

export const AUTH_MODES = ['token', 'signature', 'token-and-signature'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One repository routed to the function's environment: the ROUTES entries. */
export interface Route {
  /** GitLab path_with_namespace (matched case-insensitively, like GitLab). */
  readonly path: string;
  readonly kind: RepositoryKind;
  readonly customer: string;
  /** Branch names (and tag names, when TAG_PUSHES is true) that deploy to this environment. */
  readonly branches: readonly string[];
}

export const ENV = {
  artifactBucket: 'ARTIFACT_BUCKET',
  artifactKmsKeyArn: 'ARTIFACT_KMS_KEY_ARN',
  codebuildProjectSoftware: 'CODEBUILD_PROJECT_SOFTWARE',
  codebuildProjectInfrastructure: 'CODEBUILD_PROJECT_INFRASTRUCTURE',
  environment: 'ENVIRONMENT',
  authMode: 'AUTH_MODE',
  webhookTokenParameter: 'WEBHOOK_TOKEN_PARAMETER',
  webhookSigningSecretParameter: 'WEBHOOK_SIGNING_SECRET_PARAMETER',
  routes: 'ROUTES',
  tagPushes: 'TAG_PUSHES',
  gitlabUrl: 'GITLAB_URL',
  secretCacheTtlSeconds: 'SECRET_CACHE_TTL_SECONDS',
  maxBodyBytes: 'MAX_BODY_BYTES',
  signatureToleranceSeconds: 'SIGNATURE_TOLERANCE_SECONDS',
  logLevel: 'LOG_LEVEL',
  deliveryQueueUrl: 'DELIVERY_QUEUE_URL',
} as const;

export const DEFAULTS = {
  secretCacheTtlSeconds: 60,
  maxBodyBytes: 4 * 1024 * 1024,
  signatureToleranceSeconds: 300,
  logLevel: 'info' as LogLevel,
} as const;

/** Upper bound for MAX_BODY_BYTES: a synchronous Lambda invocation carries at most 6 MB. */
export const MAX_BODY_BYTES_LIMIT = 6 * 1024 * 1024;

/** Environment variables the CodeBuild project receives per build (StartBuild override). */
export const BUILD_ENV = { configBucket: 'CONFIG_BUCKET', configKey: 'CONFIG_KEY' } as const;

export interface WebhookEnvironmentInput {
  readonly artifactBucket: string;
  readonly artifactKmsKeyArn: string;
  /** The source-fetch CodeBuild project of each repository kind (each may write only its own prefix). */
  readonly codebuildProjects: Readonly<Record<Route['kind'], string>>;
  readonly environment: string;
  readonly authMode: AuthMode;
  /** Required for `token` and `token-and-signature`. */
  readonly webhookTokenParameter?: string;
  /** Required for `signature` and `token-and-signature`. */
  readonly webhookSigningSecretParameter?: string;
  readonly routes: readonly Route[];
  readonly tagPushes: boolean;
  /** GitLab base URL (with its relative URL root, if any); when given, clone URLs in payloads must be `<gitlabUrl>/<routed path>[.git]` (recommended). */
  readonly gitlabUrl?: string;
  readonly secretCacheTtlSeconds?: number;
  readonly maxBodyBytes?: number;
  readonly signatureToleranceSeconds?: number;
  readonly logLevel?: LogLevel;
  /** URL of the SQS queue accepted deliveries are recorded in (the worker does the rest). */
  readonly deliveryQueueUrl: string;
}

/**
 * The Lambda's `environment.variables` map. Values may be Terraform tokens (bucket names, ARNs);
 * only ROUTES is serialized here, so it must be plain data.
 */
export function webhookEnvironmentVariables(input: WebhookEnvironmentInput): Record<string, string> {
  const vars: Record<string, string> = {
    [ENV.artifactBucket]: input.artifactBucket,
    [ENV.artifactKmsKeyArn]: input.artifactKmsKeyArn,
    [ENV.codebuildProjectSoftware]: input.codebuildProjects.software,
    [ENV.codebuildProjectInfrastructure]: input.codebuildProjects.infrastructure,
    [ENV.environment]: input.environment,
    [ENV.authMode]: input.authMode,
    [ENV.routes]: JSON.stringify(input.routes.map((r) => ({ path: r.path, kind: r.kind, customer: r.customer, branches: [...r.branches] }))),
    [ENV.tagPushes]: input.tagPushes ? 'true' : 'false',
    [ENV.deliveryQueueUrl]: input.deliveryQueueUrl,
  };
  const optional: ReadonlyArray<[string, string | number | undefined]> = [
    [ENV.webhookTokenParameter, input.webhookTokenParameter],
    [ENV.webhookSigningSecretParameter, input.webhookSigningSecretParameter],
    [ENV.gitlabUrl, input.gitlabUrl],
    [ENV.secretCacheTtlSeconds, input.secretCacheTtlSeconds],
    [ENV.maxBodyBytes, input.maxBodyBytes],
    [ENV.signatureToleranceSeconds, input.signatureToleranceSeconds],
    [ENV.logLevel, input.logLevel],
  ];
  for (const [name, value] of optional) if (value !== undefined) vars[name] = String(value);
  return vars;
}

/** The worker Lambda's environment variables (`worker-settings.ts`). */
export const WORKER_ENV = {
  artifactBucket: 'ARTIFACT_BUCKET',
  artifactKmsKeyArn: 'ARTIFACT_KMS_KEY_ARN',
  codebuildProjectSoftware: 'CODEBUILD_PROJECT_SOFTWARE',
  codebuildProjectInfrastructure: 'CODEBUILD_PROJECT_INFRASTRUCTURE',
  environment: 'ENVIRONMENT',
  deliveryQueueUrl: 'DELIVERY_QUEUE_URL',
  logLevel: 'LOG_LEVEL',
} as const;

export interface WorkerEnvironmentInput {
  readonly artifactBucket: string;
  readonly artifactKmsKeyArn: string;
  readonly codebuildProjects: Readonly<Record<Route['kind'], string>>;
  readonly environment: string;
  readonly deliveryQueueUrl: string;
  readonly logLevel?: LogLevel;
}

export function workerEnvironmentVariables(input: WorkerEnvironmentInput): Record<string, string> {
  return {
    [WORKER_ENV.artifactBucket]: input.artifactBucket,
    [WORKER_ENV.artifactKmsKeyArn]: input.artifactKmsKeyArn,
    [WORKER_ENV.codebuildProjectSoftware]: input.codebuildProjects.software,
    [WORKER_ENV.codebuildProjectInfrastructure]: input.codebuildProjects.infrastructure,
    [WORKER_ENV.environment]: input.environment,
    [WORKER_ENV.deliveryQueueUrl]: input.deliveryQueueUrl,
    ...(input.logLevel !== undefined ? { [WORKER_ENV.logLevel]: input.logLevel } : {}),
  };
}

/**
 * The reconciler's CloudWatch metrics (Embedded Metric Format in its `reconcile run` log line):
 * one count per branch outcome, named `Reconcile<Outcome>` (`build-retried` → ReconcileBuildRetried),
 * in this namespace with the one dimension `Environment` (the environment name). Alarms on them
 * (the construct) use exactly these names.
 */
export const RECONCILE_METRICS = { namespace: 'GitlabIngestion', dimension: 'Environment' } as const;

/** `up-to-date` → `ReconcileUpToDate`. */
export const reconcileMetricName = (outcome: string): string => `Reconcile${outcome.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`;

/** The reconciler Lambda's environment variables (`reconciler-index.ts`). */
export const RECONCILER_ENV = {
  artifactBucket: 'ARTIFACT_BUCKET',
  environment: 'ENVIRONMENT',
  gitlabUrl: 'GITLAB_URL',
  apiTokenParameter: 'GITLAB_API_TOKEN_PARAMETER',
  deliveryQueueUrl: 'DELIVERY_QUEUE_URL',
  routes: 'ROUTES',
  timeBudgetSeconds: 'TIME_BUDGET_SECONDS',
  concurrency: 'CONCURRENCY',
  buildRetryAfterSeconds: 'BUILD_RETRY_AFTER_SECONDS',
  logLevel: 'LOG_LEVEL',
} as const;

/**
 * Default of BUILD_RETRY_AFTER_SECONDS: 2 × the source fetch's 15-minute CodeBuild timeout plus
 * 10 minutes of queue slack (SQS, worker backoff, CodeBuild queueing). The construct passes its own
 * value, derived from its build-timeout constant; this is what a function without the variable uses.
 */
export const DEFAULT_BUILD_RETRY_AFTER_SECONDS = 2 * 15 * 60 + 600;
/** Bounds of BUILD_RETRY_AFTER_SECONDS: never shorter than a build may run, at most a week. */
export const BUILD_RETRY_AFTER_SECONDS_RANGE = { min: 600, max: 7 * 24 * 3600 } as const;

export interface ReconcilerEnvironmentInput {
  readonly artifactBucket: string;
  readonly environment: string;
  readonly gitlabUrl: string;
  /** SSM SecureString name of a read-only GitLab API token (read_api). */
  readonly apiTokenParameter: string;
  readonly deliveryQueueUrl: string;
  readonly routes: readonly Route[];
  /** Seconds a run may take before it stops checking (the rest waits for the next run). */
  readonly timeBudgetSeconds?: number;
  /** Branches checked at once (a page). */
  readonly concurrency?: number;
  /** Seconds after its head marker was written that an unfinished build is retried once. @default DEFAULT_BUILD_RETRY_AFTER_SECONDS */
  readonly buildRetryAfterSeconds?: number;
  readonly logLevel?: LogLevel;
}

export function reconcilerEnvironmentVariables(input: ReconcilerEnvironmentInput): Record<string, string> {
  const vars: Record<string, string> = {
    [RECONCILER_ENV.artifactBucket]: input.artifactBucket,
    [RECONCILER_ENV.environment]: input.environment,
    [RECONCILER_ENV.gitlabUrl]: input.gitlabUrl,
    [RECONCILER_ENV.apiTokenParameter]: input.apiTokenParameter,
    [RECONCILER_ENV.deliveryQueueUrl]: input.deliveryQueueUrl,
    [RECONCILER_ENV.routes]: JSON.stringify(input.routes.map((r) => ({ path: r.path, kind: r.kind, customer: r.customer, branches: [...r.branches] }))),
  };
  if (input.timeBudgetSeconds !== undefined) vars[RECONCILER_ENV.timeBudgetSeconds] = String(input.timeBudgetSeconds);
  if (input.concurrency !== undefined) vars[RECONCILER_ENV.concurrency] = String(input.concurrency);
  if (input.buildRetryAfterSeconds !== undefined) vars[RECONCILER_ENV.buildRetryAfterSeconds] = String(input.buildRetryAfterSeconds);
  if (input.logLevel !== undefined) vars[RECONCILER_ENV.logLevel] = input.logLevel;
  return vars;
}
