/**
 * The environment-variable contract of the webhook, worker and reconciler Lambdas
 * (lambdas/gitlab-webhook/contract.ts): the exact variables the construct sets for a given input,
 * and the reconciler's metric names that its alarms use.
 */
import {
  BUILD_RETRY_AFTER_SECONDS_RANGE,
  DEFAULT_BUILD_RETRY_AFTER_SECONDS,
  RECONCILE_METRICS,
  reconcileMetricName,
  reconcilerEnvironmentVariables,
  webhookEnvironmentVariables,
  workerEnvironmentVariables,
} from '../../lambdas/gitlab-webhook/contract';
import { KMS_KEY, QUEUE_URL, baseInput } from './helpers/webhook';

const BUCKET = baseInput.artifactBucket;
const ROUTES_JSON = '[{"path":"acme/web-shop","kind":"software","customer":"acme","branches":["main","v1.2.0"]},{"path":"acme/platform","kind":"infrastructure","customer":"acme","branches":["main"]}]';

describe('webhookEnvironmentVariables', () => {
  test('the required variables, ROUTES as plain JSON, TAG_PUSHES as "false"; optional ones only when given', () => {
    const { webhookTokenParameter: _t, webhookSigningSecretParameter: _s, gitlabUrl: _g, ...required } = baseInput;
    expect(webhookEnvironmentVariables(required)).toStrictEqual({
      ARTIFACT_BUCKET: BUCKET,
      ARTIFACT_KMS_KEY_ARN: KMS_KEY,
      CODEBUILD_PROJECT_SOFTWARE: 'wvm-dev-source-fetch',
      CODEBUILD_PROJECT_INFRASTRUCTURE: 'wvm-dev-source-fetch-infrastructure',
      ENVIRONMENT: 'dev',
      AUTH_MODE: 'token',
      ROUTES: ROUTES_JSON,
      TAG_PUSHES: 'false',
      DELIVERY_QUEUE_URL: QUEUE_URL,
    });
  });

  test('every optional variable, numbers as decimal strings; only route fields are serialized', () => {
    const routes = [{ path: 'acme/web-shop', kind: 'software' as const, customer: 'acme', branches: ['main'], extra: 'not serialized' }];
    expect(
      webhookEnvironmentVariables({
        ...baseInput,
        authMode: 'token-and-signature',
        routes,
        tagPushes: true,
        secretCacheTtlSeconds: 0,
        maxBodyBytes: 1048576,
        signatureToleranceSeconds: 120,
        logLevel: 'debug',
      }),
    ).toEqual({
      ARTIFACT_BUCKET: BUCKET,
      ARTIFACT_KMS_KEY_ARN: KMS_KEY,
      CODEBUILD_PROJECT_SOFTWARE: 'wvm-dev-source-fetch',
      CODEBUILD_PROJECT_INFRASTRUCTURE: 'wvm-dev-source-fetch-infrastructure',
      ENVIRONMENT: 'dev',
      AUTH_MODE: 'token-and-signature',
      ROUTES: '[{"path":"acme/web-shop","kind":"software","customer":"acme","branches":["main"]}]',
      TAG_PUSHES: 'true',
      DELIVERY_QUEUE_URL: QUEUE_URL,
      WEBHOOK_TOKEN_PARAMETER: '/wvm/dev/gitlab-webhook-token',
      WEBHOOK_SIGNING_SECRET_PARAMETER: '/wvm/dev/gitlab-webhook-signing-secret',
      GITLAB_URL: 'https://gitlab.example.com',
      SECRET_CACHE_TTL_SECONDS: '0',
      MAX_BODY_BYTES: '1048576',
      SIGNATURE_TOLERANCE_SECONDS: '120',
      LOG_LEVEL: 'debug',
    });
  });
});

describe('workerEnvironmentVariables', () => {
  const input = { artifactBucket: BUCKET, artifactKmsKeyArn: KMS_KEY, codebuildProjects: baseInput.codebuildProjects, environment: 'dev', deliveryQueueUrl: QUEUE_URL };
  const expected = {
    ARTIFACT_BUCKET: BUCKET,
    ARTIFACT_KMS_KEY_ARN: KMS_KEY,
    CODEBUILD_PROJECT_SOFTWARE: 'wvm-dev-source-fetch',
    CODEBUILD_PROJECT_INFRASTRUCTURE: 'wvm-dev-source-fetch-infrastructure',
    ENVIRONMENT: 'dev',
    DELIVERY_QUEUE_URL: QUEUE_URL,
  };
  test('without a log level: no LOG_LEVEL', () => {
    expect(workerEnvironmentVariables(input)).toStrictEqual(expected);
    expect(Object.keys(workerEnvironmentVariables(input))).not.toContain('LOG_LEVEL');
  });
  test('with a log level: LOG_LEVEL', () => {
    expect(workerEnvironmentVariables({ ...input, logLevel: 'warn' })).toEqual({ ...expected, LOG_LEVEL: 'warn' });
  });
});

describe('reconcilerEnvironmentVariables', () => {
  const input = { artifactBucket: BUCKET, environment: 'dev', gitlabUrl: 'https://gitlab.example.com/gitlab', apiTokenParameter: '/wvm/dev/gitlab/api-token', deliveryQueueUrl: QUEUE_URL, routes: baseInput.routes };
  const required = {
    ARTIFACT_BUCKET: BUCKET,
    ENVIRONMENT: 'dev',
    GITLAB_URL: 'https://gitlab.example.com/gitlab',
    GITLAB_API_TOKEN_PARAMETER: '/wvm/dev/gitlab/api-token',
    DELIVERY_QUEUE_URL: QUEUE_URL,
    ROUTES: ROUTES_JSON,
  };
  test('the required variables only, when nothing optional is given', () => {
    expect(reconcilerEnvironmentVariables(input)).toStrictEqual(required);
  });
  test('every optional variable, numbers as decimal strings', () => {
    expect(reconcilerEnvironmentVariables({ ...input, timeBudgetSeconds: 300, concurrency: 8, buildRetryAfterSeconds: 3600, logLevel: 'error' })).toEqual({
      ...required,
      TIME_BUDGET_SECONDS: '300',
      CONCURRENCY: '8',
      BUILD_RETRY_AFTER_SECONDS: '3600',
      LOG_LEVEL: 'error',
    });
  });
  test('the retry window: 2 x the 15-minute build timeout + 10 minutes by default, 10 minutes to a week', () => {
    expect(DEFAULT_BUILD_RETRY_AFTER_SECONDS).toBe(2400);
    expect(BUILD_RETRY_AFTER_SECONDS_RANGE).toEqual({ min: 600, max: 604800 });
  });
});

describe('reconcile metrics', () => {
  test('namespace and dimension the alarms use', () => {
    expect(RECONCILE_METRICS).toEqual({ namespace: 'GitlabIngestion', dimension: 'Environment' });
  });
  test.each([
    ['up-to-date', 'ReconcileUpToDate'],
    ['queued', 'ReconcileQueued'],
    ['build-started', 'ReconcileBuildStarted'],
    ['build-retried', 'ReconcileBuildRetried'],
    ['branch-missing', 'ReconcileBranchMissing'],
    ['error', 'ReconcileError'],
    ['not-checked', 'ReconcileNotChecked'],
    ['a-b-c', 'ReconcileABC'],
  ])('%s → %s', (outcome, name) => {
    expect(reconcileMetricName(outcome)).toBe(name);
  });
});
