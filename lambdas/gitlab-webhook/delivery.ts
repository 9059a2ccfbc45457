/**
 * Delivery with exactly-one-build semantics:
 * 1. the config file is written with `If-None-Match: *` (atomic create): S3 answers 412 when a
 *    delivery with the same key was already accepted;
 * 2. the first writer calls StartBuild with an idempotency token derived from the delivery key and
 *    records the build id in `<key>.build.json`;
 * 3. a duplicate answers with the recorded build id; if the record is not there yet (the first
 *    delivery is still starting, or failed after writing the config), it calls StartBuild with the
 *    same token and parameters, which CodeBuild answers with the same build for 5 minutes.
 */
import { createHash } from 'crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { sdk } from './sdk';
import { BUILD_ENV } from './contract';
import { isNotFound, isPreconditionFailed } from './aws-errors';
import { errorFields, Logger } from './log';
import type { SourceConfig } from '../shared/source-config';

export interface DeliveryTarget {
  readonly artifactBucket: string;
  readonly artifactKmsKeyArn: string;
  /** The source-fetch project of each repository kind. */
  readonly codebuildProjects: Readonly<Record<SourceConfig['kind'], string>>;
  readonly environment: string;
}

/** Client factories, called when first needed (lazy SDK loading); they should return one client per container. */
export interface DeliveryClients {
  readonly s3: () => S3Client;
  readonly codebuild: () => CodeBuildClient;
}

export type DeliveryResult =
  | { readonly status: 'started'; readonly buildId: string; readonly configKey: string }
  | { readonly status: 'duplicate'; readonly buildId: string; readonly configKey: string; readonly restarted: boolean };

/** GitLab sends a UUID; anything else that is safe in an S3 key is accepted, the rest is refused. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The Idempotency-Key header (stable across GitLab's retries and resends, 17.4+), else sha256 of
 * project path (lower case), ref, before and after: identical for a redelivery of the same push,
 * different for a later push that moves the branch back to an earlier commit.
 */
export function deliveryKeyOf(idempotencyKey: string | undefined, push: { readonly projectPath: string; readonly ref: string; readonly before: string; readonly after: string }): string {
  if (idempotencyKey !== undefined) return idempotencyKey;
  return createHash('sha256').update([push.projectPath.toLowerCase(), push.ref, push.before, push.after].join('\n'), 'utf8').digest('hex');
}

export const configKeyOf = (environment: string, deliveryKey: string) => `webhook/${environment}/${deliveryKey}.json`;
export const buildRecordKeyOf = (environment: string, deliveryKey: string) => `webhook/${environment}/${deliveryKey}.build.json`;
export const idempotencyTokenOf = (environment: string, deliveryKey: string) => createHash('sha256').update(`${environment}/${deliveryKey}`, 'utf8').digest('hex');

export async function deliver(clients: DeliveryClients, target: DeliveryTarget, config: SourceConfig, log: Logger): Promise<DeliveryResult> {
  const { PutObjectCommand } = sdk.s3();
  const configKey = configKeyOf(target.environment, config.deliveryKey);
  try {
    await clients.s3().send(
      new PutObjectCommand({
        Bucket: target.artifactBucket,
        Key: configKey,
        Body: `${JSON.stringify(config, null, 2)}\n`,
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: target.artifactKmsKeyArn,
        IfNoneMatch: '*',
      }),
    );
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
    return duplicate(clients, target, config.kind, config.deliveryKey, configKey, log);
  }
  const buildId = await startBuild(clients, target, config.kind, config.deliveryKey, configKey);
  await recordBuild(clients, target, config.deliveryKey, buildId, log);
  return { status: 'started', buildId, configKey };
}

async function duplicate(clients: DeliveryClients, target: DeliveryTarget, kind: SourceConfig['kind'], deliveryKey: string, configKey: string, log: Logger): Promise<DeliveryResult> {
  const recorded = await readBuildRecord(clients, target, deliveryKey, log);
  if (recorded !== undefined) return { status: 'duplicate', buildId: recorded, configKey, restarted: false };
  const buildId = await startBuild(clients, target, kind, deliveryKey, configKey);
  await recordBuild(clients, target, deliveryKey, buildId, log);
  return { status: 'duplicate', buildId, configKey, restarted: true };
}

async function startBuild(clients: DeliveryClients, target: DeliveryTarget, kind: SourceConfig['kind'], deliveryKey: string, configKey: string): Promise<string> {
  const { StartBuildCommand } = sdk.codebuild();
  const out = await clients.codebuild().send(
    new StartBuildCommand({
      projectName: target.codebuildProjects[kind],
      idempotencyToken: idempotencyTokenOf(target.environment, deliveryKey),
      environmentVariablesOverride: [
        { name: BUILD_ENV.configBucket, value: target.artifactBucket, type: 'PLAINTEXT' },
        { name: BUILD_ENV.configKey, value: configKey, type: 'PLAINTEXT' },
      ],
    }),
  );
  const id = out.build?.id;
  if (id === undefined || id === '') throw new MissingBuildIdError();
  return id;
}

export class MissingBuildIdError extends Error {
  constructor() {
    super('StartBuild returned no build id');
    this.name = 'MissingBuildIdError';
  }
}

/**
 * Best effort: the build is running whatever happens here. Without the record, a duplicate falls
 * back to StartBuild with the same token (same build within CodeBuild's 5-minute token window).
 */
async function recordBuild(clients: DeliveryClients, target: DeliveryTarget, deliveryKey: string, buildId: string, log: Logger): Promise<void> {
  const { PutObjectCommand } = sdk.s3();
  try {
    await clients.s3().send(
      new PutObjectCommand({
        Bucket: target.artifactBucket,
        Key: buildRecordKeyOf(target.environment, deliveryKey),
        Body: JSON.stringify({ buildId, deliveryKey, recordedAt: new Date().toISOString() }),
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: target.artifactKmsKeyArn,
      }),
    );
  } catch (e) {
    log.error('could not record the build id', { buildId, deliveryKey, ...errorFields(e) });
  }
}

async function readBuildRecord(clients: DeliveryClients, target: DeliveryTarget, deliveryKey: string, log: Logger): Promise<string | undefined> {
  const { GetObjectCommand } = sdk.s3();
  let text: string | undefined;
  try {
    const out = await clients.s3().send(new GetObjectCommand({ Bucket: target.artifactBucket, Key: buildRecordKeyOf(target.environment, deliveryKey) }));
    text = await out.Body?.transformToString('utf8');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  try {
    const id = (JSON.parse(text ?? '') as { buildId?: unknown }).buildId;
    if (typeof id === 'string' && id !== '') return id;
  } catch {
    // fall through
  }
  log.warn('unreadable build record; starting the build again with the same idempotency token', { deliveryKey });
  return undefined;
}
