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
import { GetObjectCommand, NoSuchKey, PutObjectCommand, PutObjectCommandInput, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CodeBuildClient, StartBuildCommand, StartBuildCommandInput } from '@aws-sdk/client-codebuild';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createHandler, WebhookHandler } from '../../../lambdas/gitlab-webhook/handler';
import { createLogger } from '../../../lambdas/gitlab-webhook/log';
import { ssmSecretSource } from '../../../lambdas/gitlab-webhook/secrets';
import { parseSettings } from '../../../lambdas/gitlab-webhook/settings';
import { webhookEnvironmentVariables, WebhookEnvironmentInput } from '../../../lambdas/gitlab-webhook/contract';

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

/** In-memory AWS: S3 with If-None-Match semantics, CodeBuild honouring idempotency tokens, SSM. */
export class FakeAws {
  readonly s3 = mockClient(S3Client);
  readonly codebuild = mockClient(CodeBuildClient);
  readonly ssm = mockClient(SSMClient);
  readonly objects = new Map<string, { readonly body: string; readonly input: PutObjectCommandInput }>();
  readonly builds: string[] = [];
  /** Keys whose next PutObject fails with this error (once). */
  readonly failNextPut = new Map<string, Error>();
  private readonly tokens = new Map<string, { readonly id: string; readonly input: string }>();

  constructor(parameters: Record<string, string> = { [TOKEN_PARAM]: TOKEN, [SIGNING_PARAM]: SIGNING_SECRET }) {
    this.s3.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
      const key = `${input.Bucket}/${input.Key}`;
      const failure = this.failNextPut.get(input.Key ?? '');
      if (failure) {
        this.failNextPut.delete(input.Key ?? '');
        throw failure;
      }
      if (input.IfNoneMatch === '*' && this.objects.has(key)) {
        throw new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' });
      }
      this.objects.set(key, { body: String(input.Body), input });
      return { ETag: '"etag"' };
    });
    this.s3.on(GetObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
      const hit = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!hit) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
      return { Body: { transformToString: async () => hit.body } };
    });
    this.codebuild.on(StartBuildCommand).callsFake(async (input: StartBuildCommandInput) => {
      const token = input.idempotencyToken ?? `none-${this.builds.length}`;
      const same = this.tokens.get(token);
      const canonical = JSON.stringify(input);
      if (same) {
        if (same.input !== canonical) throw Object.assign(new Error('parameter mismatch'), { name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
        return { build: { id: same.id } };
      }
      const id = `${input.projectName}:${String(this.builds.length + 1).padStart(8, '0')}-build`;
      this.builds.push(id);
      this.tokens.set(token, { id, input: canonical });
      return { build: { id } };
    });
    this.ssm.on(GetParameterCommand).callsFake(async (input: { Name: string; WithDecryption?: boolean }) => {
      const value = parameters[input.Name];
      if (value === undefined) throw Object.assign(new Error(`parameter ${input.Name} not found`), { name: 'ParameterNotFound', $metadata: { httpStatusCode: 400 } });
      return { Parameter: { Name: input.Name, Type: 'SecureString', Value: value } };
    });
  }

  object(key: string): { readonly body: string; readonly input: PutObjectCommandInput } | undefined {
    return this.objects.get(`${baseInput.artifactBucket}/${key}`);
  }

  calls(command: 'PutObject' | 'GetObject' | 'StartBuild' | 'GetParameter'): number {
    switch (command) {
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
  }

  restore(): void {
    this.s3.restore();
    this.codebuild.restore();
    this.ssm.restore();
  }
}

export interface TestHandler {
  readonly handle: WebhookHandler;
  readonly logs: string[];
  clock: number;
}

/** A handler wired like index.ts, with settings from the env-var contract and a fake clock. */
export function testHandler(overrides: Partial<WebhookEnvironmentInput> = {}): TestHandler {
  const settings = parseSettings(envOf(overrides));
  const t: { handle: WebhookHandler; logs: string[]; clock: number } = { handle: undefined as unknown as WebhookHandler, logs: [], clock: NOW_MS };
  const now = () => t.clock;
  const s3 = new S3Client({ region: 'eu-west-1' });
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const ssm = new SSMClient({ region: 'eu-west-1' });
  t.handle = createHandler({
    settings,
    clients: { s3: () => s3, codebuild: () => codebuild },
    secrets: ssmSecretSource(() => ssm, settings.secretCacheTtlSeconds, now),
    log: createLogger('debug', (line) => t.logs.push(line)),
    now,
  });
  return t;
}

export const parseBody = (r: { body?: string }): Record<string, unknown> => JSON.parse(r.body ?? '{}') as Record<string, unknown>;
