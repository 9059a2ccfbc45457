/**
 * Test helpers for the webhook Lambda: fixtures, API Gateway events, Standard Webhooks signing and
 * stateful fakes of S3 (conditional writes), CodeBuild (idempotency tokens) and SSM built on
 * aws-sdk-client-mock.
 */
import { createHmac } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, PutObjectCommandInput, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand, StartBuildCommandInput } from '@aws-sdk/client-codebuild';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createWorker, WorkerHandler } from '../../../lambdas/gitlab-webhook/worker';
import { createHandler, WebhookHandler } from '../../../lambdas/gitlab-webhook/handler';
import { createLogger } from '../../../lambdas/gitlab-webhook/log';
import { ssmSecretSource } from '../../../lambdas/gitlab-webhook/secrets';
import { parseSettings, SettingsError } from '../../../lambdas/gitlab-webhook/settings';
import { webhookEnvironmentVariables, WebhookEnvironmentInput } from '../../../lambdas/gitlab-webhook/contract';
import type { SourceConfig } from '../../../lambdas/shared/source-config';
import { coldLoad } from './cold-load';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'gitlab');
export const fixtureText = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
export const fixture = <T = Record<string, unknown>>(name: string): T => JSON.parse(fixtureText(name)) as T;
export const deliveryHeaders = (): Record<string, string> => ({ ...(fixture<Record<string, Record<string, string>>>('headers.json').push as Record<string, string>) });

export const TOKEN = 'tok-3b9f1c7e5a2d4f6b8c0e1a3c5e7f9b2d';
export const SIGNING_KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');
export const SIGNING_SECRET = `whsec_${SIGNING_KEY.toString('base64')}`;
export const TOKEN_PARAM = '/wvm/dev/gitlab-webhook-token';
export const SIGNING_PARAM = '/wvm/dev/gitlab-webhook-signing-secret';
export const KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
export const NOW_MS = Date.parse('2025-03-01T10:30:00Z');
export const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/wvm-dev-gitlab-deliveries';
/** CodeBuild keeps idempotency tokens this long. */
export const TOKEN_WINDOW_MS = 5 * 60 * 1000;

export type FakeOperation = 'PutObject' | 'GetObject' | 'HeadObject' | 'StartBuild' | 'SendMessage' | 'ListBuildsForProject' | 'BatchGetBuilds';

export const throttled = (what = 'Rate exceeded') => Object.assign(new Error(what), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
export const s3SlowDown = () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' });
export const serviceUnavailable = () => Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } });

export const baseInput: WebhookEnvironmentInput = {
  artifactBucket: 'wvm-dev-artifacts-111122223333-eu-west-1',
  artifactKmsKeyArn: KMS_KEY,
  codebuildProjects: { software: 'wvm-dev-source-fetch', infrastructure: 'wvm-dev-source-fetch-infrastructure' },
  environment: 'dev',
  authMode: 'token',
  webhookTokenParameter: TOKEN_PARAM,
  webhookSigningSecretParameter: SIGNING_PARAM,
  routes: [
    { path: 'acme/web-shop', kind: 'software', customer: 'acme', branches: ['main', 'v1.2.0'] },
    { path: 'acme/platform', kind: 'infrastructure', customer: 'acme', branches: ['main'] },
  ],
  tagPushes: false,
  gitlabUrl: 'https://gitlab.example.com',
  deliveryQueueUrl: QUEUE_URL,
};

export function envOf(overrides: Partial<WebhookEnvironmentInput> = {}): Record<string, string> {
  return webhookEnvironmentVariables({ ...baseInput, ...overrides });
}

export interface EventInit {
  readonly body?: string | undefined;
  readonly headers?: Record<string, string> | undefined;
  readonly isBase64Encoded?: boolean;
  readonly method?: string;
}

export function apiEvent(init: EventInit): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /gitlab',
    rawPath: '/gitlab',
    rawQueryString: '',
    headers: init.headers ?? {},
    body: init.body,
    isBase64Encoded: init.isBase64Encoded ?? false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'abc123',
      domainName: 'hooks.example.com',
      domainPrefix: 'hooks',
      http: { method: init.method ?? 'POST', path: '/gitlab', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'GitLab/17.6.1' },
      requestId: 'api-req-1',
      routeKey: 'POST /gitlab',
      stage: '$default',
      time: '01/Mar/2025:10:30:00 +0000',
      timeEpoch: NOW_MS,
    },
  };
}

/** A push delivery with a valid token: the fixture and headers as GitLab sends them. */
export function pushEvent(opts: { body?: string; headers?: Record<string, string>; event?: string } = {}): APIGatewayProxyEventV2 {
  const headers = { ...deliveryHeaders(), 'X-Gitlab-Token': TOKEN, ...(opts.event ? { 'X-Gitlab-Event': opts.event } : {}), ...opts.headers };
  return apiEvent({ body: opts.body ?? fixtureText('push.json'), headers });
}

export function sign(key: Buffer, id: string, timestamp: string, body: Buffer): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

export function signatureHeaders(body: Buffer, opts: { id?: string; timestampSeconds?: number; key?: Buffer } = {}): Record<string, string> {
  const id = opts.id ?? 'msg_0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40';
  const ts = String(opts.timestampSeconds ?? Math.floor(NOW_MS / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign(opts.key ?? SIGNING_KEY, id, ts, body) };
}

let currentFake: FakeAws | undefined;

/** In-memory AWS: S3 with If-None-Match semantics, CodeBuild honouring idempotency tokens, SSM. */
export class FakeAws {
  readonly s3 = mockClient(S3Client);
  readonly codebuild = mockClient(CodeBuildClient);
  readonly ssm = mockClient(SSMClient);
  readonly sqs = mockClient(SQSClient);
  /** Messages sent with SendMessage, in order. */
  readonly sent: SendMessageCommandInput[] = [];
  /** The clock CodeBuild's token window and build start times use (tests move it). */
  clock = NOW_MS;
  /** Builds with their start time and overrides (ListBuildsForProject/BatchGetBuilds answer from here). */
  readonly buildInfo = new Map<string, { readonly project: string; readonly startTime: number; readonly configKey: string }>();
  private readonly failures = new Map<FakeOperation, Array<() => Error>>();
  /** Optional hook run on every StartBuild before anything else (e.g. a throttling model); throw to fail the call. */
  beforeStartBuild: ((input: StartBuildCommandInput) => void) | undefined;
  /** Stored objects; `lastModified` (ms, S3's LastModified) is the fake clock at the write, or the clock at the read when absent. */
  readonly objects = new Map<string, { readonly body: string; readonly input: PutObjectCommandInput; readonly lastModified?: number }>();
  readonly builds: string[] = [];
  /** Keys whose next PutObject fails with this error (once). */
  readonly failNextPut = new Map<string, Error>();
  private readonly tokens = new Map<string, { readonly id: string; readonly input: string; readonly at: number }>();

  /** The next `times` calls of `operation` fail with `error()` (a fresh error each time). */
  failNext(operation: FakeOperation, times: number, error: () => Error): void {
    const list = this.failures.get(operation) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.failures.set(operation, list);
  }

  private maybeFail(operation: FakeOperation): void {
    const next = this.failures.get(operation)?.shift();
    if (next) throw next();
  }

  constructor(parameters: Record<string, string> = { [TOKEN_PARAM]: TOKEN, [SIGNING_PARAM]: SIGNING_SECRET }) {
    currentFake = this;
    this.sqs.on(SendMessageCommand).callsFake(async (input: SendMessageCommandInput) => {
      this.maybeFail('SendMessage');
      this.sent.push(input);
      return { MessageId: `msg-${this.sent.length}` };
    });
    this.sqs.on(ChangeMessageVisibilityCommand).resolves({});
    this.s3.on(HeadObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
      this.maybeFail('HeadObject');
      const hit = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!hit) throw new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
      return { Metadata: hit.input.Metadata ?? {}, LastModified: new Date(hit.lastModified ?? this.clock) };
    });
    this.codebuild.on(ListBuildsForProjectCommand).callsFake(async (input: { projectName: string; nextToken?: string }) => {
      this.maybeFail('ListBuildsForProject');
      const ids = [...this.buildInfo.entries()].filter(([, b]) => b.project === input.projectName).map(([id]) => id).reverse();
      const start = Number(input.nextToken ?? '0');
      const page = ids.slice(start, start + 100);
      return { ids: page, nextToken: start + 100 < ids.length ? String(start + 100) : undefined };
    });
    this.codebuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => {
      this.maybeFail('BatchGetBuilds');
      return {
        builds: input.ids.map((id) => {
          const b = this.buildInfo.get(id)!;
          return { id, startTime: new Date(b.startTime), environment: { environmentVariables: [{ name: 'CONFIG_KEY', value: b.configKey, type: 'PLAINTEXT' }] } };
        }),
      };
    });
    this.s3.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
      this.maybeFail('PutObject');
      const key = `${input.Bucket}/${input.Key}`;
      const failure = this.failNextPut.get(input.Key ?? '');
      if (failure) {
        this.failNextPut.delete(input.Key ?? '');
        throw failure;
      }
      if (input.IfNoneMatch === '*' && this.objects.has(key)) {
        throw new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' });
      }
      this.objects.set(key, { body: String(input.Body), input, lastModified: this.clock });
      return { ETag: '"etag"' };
    });
    this.s3.on(GetObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
      this.maybeFail('GetObject');
      const hit = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!hit) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
      return { Body: { transformToString: async () => hit.body } };
    });
    this.codebuild.on(StartBuildCommand).callsFake(async (input: StartBuildCommandInput) => {
      this.maybeFail('StartBuild');
      this.beforeStartBuild?.(input);
      const token = input.idempotencyToken ?? `none-${this.builds.length}`;
      const seen = this.tokens.get(token);
      const same = seen !== undefined && this.clock - seen.at < TOKEN_WINDOW_MS ? seen : undefined;
      const canonical = JSON.stringify(input);
      if (same) {
        if (same.input !== canonical) throw Object.assign(new Error('parameter mismatch'), { name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
        return { build: { id: same.id } };
      }
      const id = `${input.projectName}:${String(this.builds.length + 1).padStart(8, '0')}-build`;
      this.builds.push(id);
      this.tokens.set(token, { id, input: canonical, at: this.clock });
      const configKey = input.environmentVariablesOverride?.find((v) => v.name === 'CONFIG_KEY')?.value ?? '';
      this.buildInfo.set(id, { project: input.projectName ?? '', startTime: this.clock, configKey });
      return { build: { id } };
    });
    this.ssm.on(GetParameterCommand).callsFake(async (input: { Name: string; WithDecryption?: boolean }) => {
      const value = parameters[input.Name];
      if (value === undefined) throw Object.assign(new Error(`parameter ${input.Name} not found`), { name: 'ParameterNotFound', $metadata: { httpStatusCode: 400 } });
      return { Parameter: { Name: input.Name, Type: 'SecureString', Value: value } };
    });
  }

  object(key: string): { readonly body: string; readonly input: PutObjectCommandInput; readonly lastModified?: number } | undefined {
    return this.objects.get(`${baseInput.artifactBucket}/${key}`);
  }

  calls(command: 'PutObject' | 'GetObject' | 'StartBuild' | 'GetParameter' | 'SendMessage'): number {
    switch (command) {
      case 'SendMessage':
        return this.sqs.commandCalls(SendMessageCommand).length;
      case 'PutObject':
        return this.s3.commandCalls(PutObjectCommand).length;
      case 'GetObject':
        return this.s3.commandCalls(GetObjectCommand).length;
      case 'StartBuild':
        return this.codebuild.commandCalls(StartBuildCommand).length;
      case 'GetParameter':
        return this.ssm.commandCalls(GetParameterCommand).length;
    }
  }

  /** Forgets recorded calls (not the stored objects or builds). */
  resetHistory(): void {
    this.s3.resetHistory();
    this.codebuild.resetHistory();
    this.ssm.resetHistory();
    this.sqs.resetHistory();
  }

  /** Builds started for one config key (0 or 1 is right; 2 is a duplicate). */
  buildsOf(configKey: string): string[] {
    return [...this.buildInfo.entries()].filter(([, b]) => b.configKey === configKey).map(([id]) => id);
  }

  restore(): void {
    this.s3.restore();
    this.codebuild.restore();
    this.ssm.restore();
    this.sqs.restore();
  }
}

export interface TestHandler {
  handle: WebhookHandler;
  readonly logs: string[];
  clock: number;
  /** Runs the worker over every message the handler queued so far (one batch each, in order); returns the batch failures. */
  work(): Promise<string[]>;
}

/** A handler wired like index.ts, with settings from the env-var contract and a fake clock. */
export function testHandler(overrides: Partial<WebhookEnvironmentInput> = {}): TestHandler {
  const settings = parseSettings(envOf(overrides));
  const t: TestHandler = { handle: undefined as unknown as WebhookHandler, logs: [], clock: NOW_MS, work: async () => [] };
  const now = () => t.clock;
  const ssm = new SSMClient({ region: 'eu-west-1' });
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const worker = testWorker((line) => t.logs.push(line), now);
  let worked = 0;
  t.work = async () => {
    const sent = sqsMessagesSent();
    const failed: string[] = [];
    for (; worked < sent.length; worked++) {
      const res = await worker(sqsEvent([{ id: `msg-${worked + 1}`, body: sent[worked]!, receiveCount: 1 }]));
      failed.push(...res.batchItemFailures.map((f) => f.itemIdentifier));
    }
    return failed;
  };
  t.handle = createHandler({
    settings,
    clients: { sqs: () => sqs },
    secrets: ssmSecretSource(() => ssm, settings.secretCacheTtlSeconds, now),
    log: createLogger('debug', (line) => t.logs.push(line)),
    now,
  });
  return t;
}

export const parseBody = (r: { body?: string }): Record<string, unknown> => JSON.parse(r.body ?? '{}') as Record<string, unknown>;

/** Bodies of every SendMessage the current SQS mock received (the mock is global per client class). */
function sqsMessagesSent(): string[] {
  return (currentFake?.sent ?? []).map((m) => m.MessageBody ?? '');
}

/** An SQS event as Lambda's event source mapping delivers it. */
export function sqsEvent(messages: ReadonlyArray<{ readonly id: string; readonly body: string; readonly receiveCount: number }>): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.id,
      receiptHandle: `rh-${m.id}-${m.receiveCount}`,
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(NOW_MS), SenderId: 'AROA', ApproximateFirstReceiveTimestamp: String(NOW_MS) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:wvm-dev-gitlab-deliveries',
      awsRegion: 'eu-west-1',
    })),
  };
}

/** A worker wired like worker-index.ts against the mocked clients, with an injected clock. */
export function testWorker(write: (line: string) => void = () => undefined, now: () => number = () => NOW_MS): WorkerHandler {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const sqs = new SQSClient({ region: 'eu-west-1' });
  return createWorker({
    target: { artifactBucket: baseInput.artifactBucket, artifactKmsKeyArn: KMS_KEY, codebuildProjects: baseInput.codebuildProjects, environment: 'dev' },
    clients: { s3: () => s3, codebuild: () => codebuild, sqs: () => sqs },
    queueUrl: QUEUE_URL,
    log: createLogger('debug', write),
    now,
  });
}

/** The problems parseSettings reports for `env` (a SettingsError's list), or [] when it accepts it. */
export function settingsProblemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    parseSettings(env);
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
  return [];
}

/**
 * A valid source config the webhook writes for a push of acme/web-shop's `main` (software,
 * customer acme, environment dev, received at NOW_MS), with `over` applied.
 */
export const sourceConfigOf = (over: Partial<SourceConfig> = {}): SourceConfig => ({
  version: 1,
  environment: 'dev',
  deliveryKey: '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
  eventUuid: null,
  event: 'Push Hook',
  receivedAt: new Date(NOW_MS).toISOString(),
  project: { id: 4711, path: 'acme/web-shop', httpUrl: 'https://gitlab.example.com/acme/web-shop.git', sshUrl: 'git@gitlab.example.com:acme/web-shop.git' },
  ref: 'refs/heads/main',
  refType: 'branch',
  branch: 'main',
  before: '1'.repeat(40),
  after: 'c5a7e9f1b40d2e6a1c4e8f9b3d2c5a7e9f1b40d2',
  commit: { sha: 'c5a7e9f1b40d2e6a1c4e8f9b3d2c5a7e9f1b40d2', message: 'Fix checkout total', authorName: 'Bob Builder', authorEmail: '[REDACTED]', timestamp: '2025-03-01T11:20:30+01:00' },
  customer: 'acme',
  kind: 'software',
  targetKey: 'software/acme/main.zip',
  ...over,
});

/**
 * The webhook Lambda's entry (`index.handler`) as a container runs it. Call it once in a describe:
 * each test gets a fresh FakeAws (`aws`) and stdout captured chunk by chunk (`out`), and
 * process.env is restored after it. `load(env)` loads `index` cold (helpers/cold-load.ts) with
 * process.env = the saved environment, AWS_REGION and `env`.
 */
export function webhookEntry() {
  const saved = process.env;
  let aws: FakeAws | undefined;
  let out: string[] = [];
  let stdout: jest.SpyInstance | undefined;
  beforeEach(() => {
    aws = new FakeAws();
    out = [];
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    stdout?.mockRestore();
    aws?.restore();
    process.env = saved;
  });
  return {
    /** process.env as it was before the tests. */
    saved,
    get aws(): FakeAws {
      return aws!;
    },
    get out(): string[] {
      return out;
    },
    load(env: Record<string, string>): typeof import('../../../lambdas/gitlab-webhook/index') {
      process.env = { ...saved, AWS_REGION: 'eu-west-1', ...env };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return coldLoad<typeof import('../../../lambdas/gitlab-webhook/index')>(() => require('../../../lambdas/gitlab-webhook/index'));
    },
  };
}
