import { parseSettings } from '../../lambdas/gitlab-webhook/settings';
import { DEFAULTS, webhookEnvironmentVariables } from '../../lambdas/gitlab-webhook/contract';
import { baseInput, envOf, parseBody, pushEvent, settingsProblemsOf, webhookEntry } from './helpers/webhook';


describe('parseSettings', () => {
  test('the env-var contract round-trips through webhookEnvironmentVariables', () => {
    const s = parseSettings(webhookEnvironmentVariables({ ...baseInput, gitlabUrl: 'https://gitlab.example.com/' }));
    expect(s).toEqual({
      artifactBucket: baseInput.artifactBucket,
      artifactKmsKeyArn: baseInput.artifactKmsKeyArn,
      codebuildProjects: baseInput.codebuildProjects,
      deliveryQueueUrl: baseInput.deliveryQueueUrl,
      environment: 'dev',
      authMode: 'token',
      webhookTokenParameter: baseInput.webhookTokenParameter,
      webhookSigningSecretParameter: baseInput.webhookSigningSecretParameter,
      routes: baseInput.routes,
      tagPushes: false,
      gitlabUrl: 'https://gitlab.example.com',
      secretCacheTtlSeconds: DEFAULTS.secretCacheTtlSeconds,
      maxBodyBytes: DEFAULTS.maxBodyBytes,
      signatureToleranceSeconds: DEFAULTS.signatureToleranceSeconds,
      logLevel: 'info',
    });
  });

  test('every problem is reported at once, naming the variable', () => {
    const problems = settingsProblemsOf({ TAG_PUSHES: 'yes', MAX_BODY_BYTES: '10', ROUTES: '{"path":1}', AUTH_MODE: 'hmac' });
    expect(problems).toEqual([
      'ARTIFACT_BUCKET is required (an S3 bucket name)',
      'ARTIFACT_KMS_KEY_ARN is required (a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>))',
      'CODEBUILD_PROJECT_SOFTWARE is required (a CodeBuild project name)',
      'CODEBUILD_PROJECT_INFRASTRUCTURE is required (a CodeBuild project name)',
      'ENVIRONMENT is required (an environment name (2-10 of a-z, 0-9, starting with a letter))',
      'AUTH_MODE="hmac" must be one of token, signature, token-and-signature',
      'WEBHOOK_TOKEN_PARAMETER is required when AUTH_MODE is token (an SSM parameter name)',
      'ROUTES must be a JSON array',
      'TAG_PUSHES="yes" must be "true" or "false"',
      'MAX_BODY_BYTES="10" must be an integer from 1024 to 6291456',
      'DELIVERY_QUEUE_URL is required (an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>))',
    ]);
  });

  test('the secret parameters needed depend on AUTH_MODE', () => {
    const base = envOf();
    const without = (mode: string, drop: string) => settingsProblemsOf({ ...base, AUTH_MODE: mode, [drop]: undefined });
    expect(without('signature', 'WEBHOOK_TOKEN_PARAMETER')).toEqual([]);
    expect(without('signature', 'WEBHOOK_SIGNING_SECRET_PARAMETER')).toEqual(['WEBHOOK_SIGNING_SECRET_PARAMETER is required when AUTH_MODE is signature (an SSM parameter name)']);
    expect(without('token', 'WEBHOOK_SIGNING_SECRET_PARAMETER')).toEqual([]);
    expect(without('token-and-signature', 'WEBHOOK_TOKEN_PARAMETER')).toHaveLength(1);
  });

  test('route entries are checked field by field', () => {
    const routes = JSON.stringify([
      { path: 'acme/shop', kind: 'software', customer: 'acme', branches: ['main'] },
      { path: 'noslash', kind: 'app', customer: 'ACME', branches: [], extra: 1 },
      { path: 'ACME/shop', kind: 'software', customer: 'acme', branches: ['dev'] },
    ]);
    expect(settingsProblemsOf({ ...envOf(), ROUTES: routes })).toEqual([
      'ROUTES[1] has unknown field(s) extra',
      'ROUTES[1].path must be a GitLab project path such as group/project',
      'ROUTES[1].kind must be "software" or "infrastructure"',
      'ROUTES[1].customer must be a customer name (2-20 characters of a-z, 0-9 and single "-")',
      'ROUTES[1].branches must be a non-empty array of branch names',
      'ROUTES[2].path "ACME/shop" is listed twice',
    ]);
    expect(settingsProblemsOf({ ...envOf(), ROUTES: 'not json' })[0]).toMatch(/^ROUTES is not valid JSON/);
    expect(parseSettings({ ...envOf(), ROUTES: '[]' }).routes).toEqual([]);
  });

  test('tunables are bounded', () => {
    expect(settingsProblemsOf({ ...envOf(), SECRET_CACHE_TTL_SECONDS: '-1', SIGNATURE_TOLERANCE_SECONDS: '0', LOG_LEVEL: 'trace', GITLAB_URL: 'ftp://x' })).toEqual([
      'GITLAB_URL="ftp://x" must be an http(s) URL',
      'SECRET_CACHE_TTL_SECONDS="-1" must be an integer from 0 to 3600',
      'SIGNATURE_TOLERANCE_SECONDS="0" must be an integer from 1 to 3600',
      'LOG_LEVEL="trace" must be one of debug, info, warn, error',
    ]);
  });
});

describe('index.handler (settings from process.env, once per container)', () => {
  const entry = webhookEntry();

  test('a configured container accepts a push through the real SDK client classes', async () => {
    const handler = entry.load(envOf()).handler;
    const res = await handler(pushEvent());
    expect(res.statusCode).toBe(202);
    expect(entry.aws.calls('SendMessage')).toBe(1);
    expect(entry.aws.calls('StartBuild')).toBe(0);
    expect(entry.out.filter((l) => l.includes('"webhook handled"'))).toHaveLength(1);
  });

  test('settings are read once, on the first invocation: later env changes do not apply to a warm container', async () => {
    const handler = entry.load(envOf()).handler;
    expect((await handler(pushEvent())).statusCode).toBe(202);
    process.env.ROUTES = '[]';
    const next = await handler(pushEvent({ headers: { 'Idempotency-Key': 'second-delivery' } }));
    expect(next.statusCode).toBe(202);
  });

  test('invalid settings answer 500 and log every problem', async () => {
    const env = envOf();
    delete env.CODEBUILD_PROJECT_INFRASTRUCTURE;
    const handler = entry.load({ ...env, ROUTES: '[{}]' }).handler;
    const res = await handler(pushEvent());
    expect(res.statusCode).toBe(500);
    expect(parseBody(res)).toEqual({ error: 'server misconfigured' });
    const line = JSON.parse(entry.out.join('')) as { level: string; problems: string[] };
    expect(line.level).toBe('error');
    expect(line.problems).toContain('CODEBUILD_PROJECT_INFRASTRUCTURE is required (a CodeBuild project name)');
    expect(line.problems.some((p) => p.startsWith('ROUTES[0].path'))).toBe(true);
    expect(entry.aws.calls('GetParameter')).toBe(0);
  });
});
