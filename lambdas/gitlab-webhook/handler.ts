/**
 * The request pipeline: size → authentication → event/payload decision → durable record (one SQS
 * message). The worker (`worker.ts`) writes the config, starts the build and records it, with
 * retries. Client errors answer 4xx or 2xx-with-reason and queue nothing; 502/503 only when the
 * message could not be sent (nothing durable was written). One summary log line per request.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authenticate, SigningSecretFormatError } from './auth';
import { upstreamStatus } from './aws-errors';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { deliveryKeyOf, IDEMPOTENCY_KEY } from './delivery';
import { normalizeHeaders, rawBody, Reply, reply } from './http';
import { errorFields, Logger } from './log';
import { decide } from './payload';
import { enqueueDelivery } from './queue';
import type { SecretSource } from './secrets';
import type { Settings } from './settings';
import { SOURCE_CONFIG_VERSION, SourceConfig, targetKeyOf } from '../shared/source-config';

export interface HandlerDeps {
  readonly settings: Settings;
  /** The SQS client (factory called on first use: lazy SDK loading). */
  readonly clients: { readonly sqs: () => SQSClient };
  readonly secrets: SecretSource;
  readonly log: Logger;
  /** Milliseconds since the epoch (injectable for tests of timestamp tolerance). */
  readonly now?: () => number;
}

export interface InvocationContext {
  readonly awsRequestId?: string;
}

export type WebhookHandler = (event: APIGatewayProxyEventV2, context?: InvocationContext) => Promise<APIGatewayProxyStructuredResultV2>;

export function createHandler(deps: HandlerDeps): WebhookHandler {
  const now = deps.now ?? Date.now;
  return async (event, context) => {
    const started = now();
    const headers = normalizeHeaders(event?.headers);
    const log = deps.log.child({
      requestId: context?.awsRequestId ?? null,
      apiRequestId: event?.requestContext?.requestId ?? null,
      gitlabEvent: headers.get('x-gitlab-event')?.slice(0, 60) ?? null,
      eventUuid: headers.get('x-gitlab-event-uuid')?.slice(0, 64) ?? null,
      webhookUuid: headers.get('x-gitlab-webhook-uuid')?.slice(0, 64) ?? null,
    });
    let outcome: Outcome;
    try {
      outcome = await handle(deps, event, headers, now, log);
    } catch (e) {
      log.error('unexpected error', errorFields(e));
      outcome = { reply: reply(500, { error: 'internal error' }), fields: { reason: 'unexpected' } };
    }
    log.info('webhook handled', { status: outcome.reply.statusCode, durationMs: now() - started, ...outcome.fields });
    return outcome.reply;
  };
}

interface Outcome {
  readonly reply: Reply;
  readonly fields?: Readonly<Record<string, string | number | boolean | null>>;
}

async function handle(deps: HandlerDeps, event: APIGatewayProxyEventV2, headers: ReturnType<typeof normalizeHeaders>, now: () => number, log: Logger): Promise<Outcome> {
  const { settings } = deps;
  const method = event?.requestContext?.http?.method;
  if (method !== undefined && method !== 'POST') return { reply: reply(405, { error: 'only POST is accepted' }, { allow: 'POST' }), fields: { reason: 'method' } };

  const body = rawBody(event ?? {});
  if (body.length > settings.maxBodyBytes) {
    return { reply: reply(413, { error: `the body is larger than ${settings.maxBodyBytes} bytes` }), fields: { bodyBytes: body.length } };
  }

  try {
    const auth = await authenticate(
      {
        mode: settings.authMode,
        tokenParameter: settings.webhookTokenParameter,
        signingSecretParameter: settings.webhookSigningSecretParameter,
        toleranceSeconds: settings.signatureToleranceSeconds,
      },
      headers,
      body,
      deps.secrets,
      Math.floor(now() / 1000),
    );
    if (!auth.ok) return { reply: reply(401, { error: 'unauthorized' }), fields: { reason: auth.reason } };
  } catch (e) {
    if (e instanceof SigningSecretFormatError) {
      log.error('webhook signing secret is unusable', errorFields(e));
      return { reply: reply(500, { error: 'server misconfigured' }), fields: { reason: 'signing secret format' } };
    }
    const status = upstreamStatus(e);
    log.error('reading the webhook secret failed', errorFields(e));
    return { reply: reply(status, { error: 'secret store unavailable; retry later' }), fields: { reason: 'ssm' } };
  }

  const idempotencyKey = headers.get('idempotency-key') || undefined; // an empty header counts as absent
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return { reply: reply(400, { error: 'Idempotency-Key must be 1-128 characters of A-Z, a-z, 0-9, "_" and "-"' }), fields: { reason: 'idempotency-key' } };
  }

  const decision = decide(headers.get('x-gitlab-event'), body, settings);
  if (decision.action === 'ignore') return { reply: reply(200, { status: 'ignored', reason: decision.reason }), fields: { reason: decision.reason } };
  if (decision.action === 'reject') return { reply: reply(400, { error: decision.message }), fields: { reason: decision.message } };

  const push = decision.push;
  const deliveryKey = deliveryKeyOf(idempotencyKey, { projectPath: push.project.path, ref: push.ref, before: push.before, after: push.after });
  const config: SourceConfig = {
    version: SOURCE_CONFIG_VERSION,
    environment: settings.environment,
    deliveryKey,
    eventUuid: headers.get('x-gitlab-event-uuid') ?? null,
    event: push.event,
    receivedAt: new Date(now()).toISOString(),
    project: push.project,
    ref: push.ref,
    refType: push.refType,
    branch: push.branch,
    before: push.before,
    after: push.after,
    commit: push.commit,
    customer: push.route.customer,
    kind: push.route.kind,
    targetKey: targetKeyOf(push.route.kind, push.route.customer, push.branch),
  };
  const fields = { deliveryKey, project: push.project.path, ref: push.ref, commit: push.commit.sha, targetKey: config.targetKey };
  try {
    const messageId = await enqueueDelivery(deps.clients.sqs(), settings.deliveryQueueUrl, config);
    return { reply: reply(202, { status: 'queued', deliveryKey }), fields: { ...fields, messageId } };
  } catch (e) {
    log.error('queueing the delivery failed', { ...fields, ...errorFields(e) });
    return { reply: reply(upstreamStatus(e), { error: 'could not record the delivery; retry later' }), fields: { ...fields, reason: 'sqs' } };
  }
}
