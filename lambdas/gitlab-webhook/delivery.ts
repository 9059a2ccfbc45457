/**
 * Delivery with exactly-one-build semantics (run by the worker, from the queue):
 * 1. the config file is written with `If-None-Match: *` (atomic create): S3 answers 412 when a
 *    delivery with the same key was already accepted;
 * 2. the first writer calls StartBuild with an idempotency token derived from the delivery key and
 *    records the build id in `<key>.build.json`;
 * 3. a duplicate answers with the recorded build id; if the record is not there yet (the first
 *    delivery is still starting, or failed after writing the config), it calls StartBuild with the
 *    same token and parameters, which CodeBuild answers with the same build for 5 minutes; past
 *    that window it first looks the build up by its CONFIG_KEY (ListBuildsForProject/BatchGetBuilds).
 */
import { createHash } from 'crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { sdk } from './sdk';
import { BUILD_ENV } from './contract';
import { isNotFound, isPreconditionFailed } from './aws-errors';
import type { Logger } from './log';
import { headMarkerKeyOf, SourceConfig } from '../shared/source-config';

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
  return createHash('sha256').update([push.projectPath.toLowerCase(), push.ref, push.before, push.after].join('\n')).digest('hex');
}

export const configKeyOf = (environment: string, deliveryKey: string) => `webhook/${environment}/${deliveryKey}.json`;
export const buildRecordKeyOf = (environment: string, deliveryKey: string) => `webhook/${environment}/${deliveryKey}.build.json`;
export const idempotencyTokenOf = (environment: string, deliveryKey: string) => createHash('sha256').update(`${environment}/${deliveryKey}`).digest('hex');

/** CodeBuild keeps an idempotency token for 5 minutes; within this age of the delivery the token alone dedupes. */
export const TOKEN_TRUST_MS = 4 * 60 * 1000;
/** Builds of a project looked at, newest first, when a build may have started beyond the token window. */
export const BUILD_LOOKUP_LIMIT = 300;

export interface DeliveryOptions {
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/**
 * Writes the config file (If-None-Match), starts the build and records its id: the worker's job.
 * Safe to repeat any number of times: the first call that gets past the conditional write starts
 * the build; every repeat (an SQS redelivery, a retry after a failure, a GitLab resend) finds the
 * build record, or the build itself, and starts nothing new. Throws on any AWS failure: the caller
 * retries later. The build record is required (not best effort): it is what makes a retry hours
 * later, beyond CodeBuild's 5-minute token window, find the build instead of starting a second one.
 */
export async function deliver(clients: DeliveryClients, target: DeliveryTarget, config: SourceConfig, log: Logger, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  const { PutObjectCommand } = sdk.s3();
  const configKey = configKeyOf(target.environment, config.deliveryKey);
  // First the head marker: the reconciler then does not queue this head again while its build may
  // run. Written unconditionally on purpose (no If-None-Match): every delivery of the head, the
  // reconciler's retry included, refreshes its LastModified, from which the reconciler's retry
  // window (BUILD_RETRY_AFTER_SECONDS) counts; a rewrite alone never starts a build.
  await clients.s3().send(
    new PutObjectCommand({
      Bucket: target.artifactBucket,
      Key: headMarkerKeyOf(target.environment, config.kind, config.customer, config.branch, config.commit.sha),
      Body: JSON.stringify({ deliveryKey: config.deliveryKey, targetKey: config.targetKey }),
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: target.artifactKmsKeyArn,
    }),
  );
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
    return duplicate(clients, target, config, configKey, log, opts.now ?? Date.now);
  }
  const buildId = await startBuild(clients, target, config.kind, config.deliveryKey, configKey);
  await recordBuild(clients, target, config.deliveryKey, buildId);
  return { status: 'started', buildId, configKey };
}

async function duplicate(clients: DeliveryClients, target: DeliveryTarget, config: SourceConfig, configKey: string, log: Logger, now: () => number): Promise<DeliveryResult> {
  const recorded = await readBuildRecord(clients, target, config.deliveryKey, log);
  if (recorded !== undefined) return { status: 'duplicate', buildId: recorded, configKey, restarted: false };
  // No record: the first attempt stopped between the config write and the record. Within the token
  // window StartBuild with the same token answers the first build; beyond it, look for the build.
  const receivedAt = Date.parse(config.receivedAt);
  if (!(now() - receivedAt < TOKEN_TRUST_MS)) {
    const found = await findBuildOf(clients, target.codebuildProjects[config.kind], configKey, Number.isNaN(receivedAt) ? 0 : receivedAt);
    if (found !== undefined) {
      log.warn('found the build of an unrecorded delivery', { deliveryKey: config.deliveryKey, buildId: found });
      await recordBuild(clients, target, config.deliveryKey, found);
      return { status: 'duplicate', buildId: found, configKey, restarted: false };
    }
  }
  const buildId = await startBuild(clients, target, config.kind, config.deliveryKey, configKey);
  await recordBuild(clients, target, config.deliveryKey, buildId);
  return { status: 'duplicate', buildId, configKey, restarted: true };
}

/**
 * The build of `configKey` (its CONFIG_KEY override), among the project's builds started since
 * `sinceMs` (newest first, at most BUILD_LOOKUP_LIMIT), or undefined.
 */
async function findBuildOf(clients: DeliveryClients, projectName: string, configKey: string, sinceMs: number): Promise<string | undefined> {
  const { ListBuildsForProjectCommand, BatchGetBuildsCommand } = sdk.codebuild();
  let nextToken: string | undefined;
  let seen = 0;
  do {
    const page = await clients.codebuild().send(new ListBuildsForProjectCommand({ projectName, sortOrder: 'DESCENDING', nextToken }));
    const ids = (page.ids ?? []).slice(0, 100);
    if (ids.length === 0) return undefined;
    const got = await clients.codebuild().send(new BatchGetBuildsCommand({ ids }));
    let older = false;
    for (const b of got.builds ?? []) {
      const vars = b.environment?.environmentVariables ?? [];
      if (vars.some((v) => v.name === BUILD_ENV.configKey && v.value === configKey) && b.id) return b.id;
      if (b.startTime !== undefined && b.startTime.getTime() < sinceMs - 60_000) older = true;
    }
    seen += ids.length;
    if (older) return undefined;
    nextToken = page.nextToken;
  } while (nextToken !== undefined && seen < BUILD_LOOKUP_LIMIT);
  return undefined;
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

/** Records the build id of a delivery; throws when S3 fails (the worker retries: see `deliver`). */
async function recordBuild(clients: DeliveryClients, target: DeliveryTarget, deliveryKey: string, buildId: string): Promise<void> {
  const { PutObjectCommand } = sdk.s3();
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
