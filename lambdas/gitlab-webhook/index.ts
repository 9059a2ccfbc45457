/**
 * Lambda entry point (bundled to index.js; handler `index.handler`). Settings and the secret cache
 * are created once per container on the first invocation; each SDK client on its first use.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createHandler, InvocationContext, WebhookHandler } from './handler';
import { reply } from './http';
import { createLogger, errorFields } from './log';
import { once, sdk } from './sdk';
import { ssmSecretSource } from './secrets';
import { containerSettings, SettingsError } from './settings';

export { createHandler } from './handler';
export type { HandlerDeps, WebhookHandler } from './handler';

/** GitLab waits 10 s for an answer: keep SDK calls short (SSM and one SQS SendMessage). */
const clientConfig = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 2500 } } as const;

let instance: WebhookHandler | undefined;

function containerHandler(): WebhookHandler {
  if (instance === undefined) {
    const settings = containerSettings();
    instance = createHandler({
      settings,
      clients: { sqs: once(() => new (sdk.sqs().SQSClient)(clientConfig)) },
      secrets: ssmSecretSource(once(() => new (sdk.ssm().SSMClient)(clientConfig)), settings.secretCacheTtlSeconds),
      log: createLogger(settings.logLevel),
    });
  }
  return instance;
}

export async function handler(event: APIGatewayProxyEventV2, context?: InvocationContext): Promise<APIGatewayProxyStructuredResultV2> {
  let h: WebhookHandler;
  try {
    h = containerHandler();
  } catch (e) {
    const fields = e instanceof SettingsError ? { problems: e.problems } : errorFields(e);
    createLogger('error').error('invalid settings; every request fails until the function configuration is fixed', { requestId: context?.awsRequestId ?? null, ...fields });
    return reply(500, { error: 'server misconfigured' });
  }
  return h(event, context);
}
