/**
 * The reconciler: for every routed repository and branch, GitLab's branch head
 * (`GET /api/v4/projects/:path/repository/branches/:branch`, read-only token) against the
 * `commit-sha` metadata of the branch's zip (HeadObject). When they differ and no build of that
 * head was started (the worker's head marker), it queues the same delivery the webhook would have
 * queued, with a delivery key derived from the head: repeated runs never start a second build.
 * When a build of the head was started (the marker exists) but the zip is still not at the head
 * after `buildRetryAfterSeconds` since the marker was last written, that build failed (or never
 * ran): the reconciler queues the delivery once more, with a key derived from the head and the
 * marker's LastModified (`build-retried`, a warning and the ReconcileBuildRetried metric, which
 * alarms). The worker rewrites the marker when it works that delivery, so each marker generation
 * is retried at most once, and a redelivery of the retry starts no second build.
 * A branch GitLab no longer has is reported (log and metric), never built. Costs: one GitLab GET
 * and one HeadObject per routed branch and run when everything is up to date; nothing else.
 */
import { createHash } from 'crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { RECONCILE_METRICS, reconcileMetricName, Route } from './contract';
import { isNotFound } from './aws-errors';
import { errorFields, Logger } from './log';
import { enqueueDelivery } from './queue';
import { sdk } from './sdk';
import type { SecretSource } from './secrets';
import { COMMIT_SHA, headMarkerKeyOf, SOURCE_CONFIG_VERSION, SourceConfig, targetKeyOf } from '../shared/source-config';

export interface ReconcilerSettings {
  readonly environment: string;
  readonly artifactBucket: string;
  /** GitLab base URL without a trailing slash (may include a relative URL root). */
  readonly gitlabUrl: string;
  readonly apiTokenParameter: string;
  readonly queueUrl: string;
  readonly routes: readonly Route[];
  /** A run stops starting new checks after this long (the rest waits for the next run). */
  readonly timeBudgetSeconds: number;
  /** Branches checked at once: one page of the routed branches. */
  readonly concurrency: number;
  /**
   * A head whose marker is at least this old while the zip is still not at the head is queued
   * again (`build-retried`): longer than a build can take (CodeBuild timeout, queueing, worker).
   */
  readonly buildRetryAfterSeconds: number;
}

export interface ReconcilerDeps {
  readonly settings: ReconcilerSettings;
  readonly clients: { readonly s3: () => S3Client; readonly sqs: () => SQSClient };
  readonly secrets: SecretSource;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Waits (GitLab's Retry-After); injectable so that tests need no real sleeps. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type BranchOutcome = 'up-to-date' | 'queued' | 'build-started' | 'build-retried' | 'branch-missing' | 'error' | 'not-checked';

export interface ReconcileSummary {
  readonly counts: Readonly<Record<BranchOutcome, number>>;
  readonly results: ReadonlyArray<{ readonly path: string; readonly branch: string; readonly outcome: BranchOutcome; readonly head?: string; readonly built?: string | null }>;
}

/** Retries of one GitLab request after 429 (each after its Retry-After). */
export const MAX_RATE_LIMIT_RETRIES = 3;
/** Retry-After above this many seconds ends the run (the next run goes on). */
export const MAX_RETRY_AFTER_SECONDS = 120;
const ZERO_SHA = '0'.repeat(40);

class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`GitLab rate limit: retry after ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}

/**
 * Delivery key of a reconciler delivery: the same for the same repository, ref and head. A retry
 * (`markerLastModifiedMs` given) gets a key of its own per marker generation: a new build once,
 * however often it is queued, until the worker rewrites the marker.
 */
export function reconcileDeliveryKey(environment: string, path: string, ref: string, head: string, markerLastModifiedMs?: number): string {
  const parts = [environment, path.toLowerCase(), ref, head];
  if (markerLastModifiedMs === undefined) return `reconcile-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}`;
  return `reconcile-retry-${createHash('sha256').update([...parts, `marker-last-modified:${markerLastModifiedMs}`].join('\n')).digest('hex').slice(0, 40)}`;
}

export function createReconciler(deps: ReconcilerDeps): () => Promise<ReconcileSummary> {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const s = deps.settings;

  return async () => {
    const started = now();
    const deadline = started + s.timeBudgetSeconds * 1000;
    const token = (await deps.secrets.get(s.apiTokenParameter)).trim();
    const items = s.routes.flatMap((route) => route.branches.map((branch) => ({ route, branch })));
    const results: Array<ReconcileSummary['results'][number]> = [];
    let stopped = false;

    const gitlab = async (apiPath: string): Promise<{ status: number; body: any }> => {
      for (let attempt = 0; ; attempt++) {
        const res = await doFetch(`${s.gitlabUrl}/api/v4${apiPath}`, { headers: { 'PRIVATE-TOKEN': token, accept: 'application/json' } });
        if (res.status === 429) {
          const retryAfter = retryAfterSeconds(res.headers.get('retry-after'), now());
          await res.text().catch(() => '');
          if (attempt >= MAX_RATE_LIMIT_RETRIES || retryAfter > MAX_RETRY_AFTER_SECONDS || now() + retryAfter * 1000 > deadline) throw new RateLimitedError(retryAfter);
          deps.log.warn('GitLab rate limit; waiting', { retryAfterSeconds: retryAfter, attempt: attempt + 1 });
          await sleep(retryAfter * 1000);
          continue;
        }
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON (or empty): no body.
        }
        return { status: res.status, body };
      }
    };

    const check = async (route: Route, branch: string): Promise<ReconcileSummary['results'][number]> => {
      const base = { path: route.path, branch };
      const project = encodeURIComponent(route.path);
      const got = await gitlab(`/projects/${project}/repository/branches/${encodeURIComponent(branch)}`);
      if (got.status === 404) {
        deps.log.warn('routed branch not found in GitLab; not built', { project: route.path, branch, gitlabMessage: String(got.body?.message ?? '').slice(0, 100) });
        return { ...base, outcome: 'branch-missing' };
      }
      if (got.status !== 200) throw new Error(`GitLab answered ${got.status} for ${route.path} ${branch}`);
      const head = got.body?.commit?.id;
      if (typeof head !== 'string' || !COMMIT_SHA.test(head)) throw new Error(`GitLab's branch ${branch} of ${route.path} has no commit id`);
      const targetKey = targetKeyOf(route.kind, route.customer, branch);
      const built = await zipCommit(deps.clients.s3(), s.artifactBucket, targetKey);
      if (built === head) return { ...base, outcome: 'up-to-date', head, built };
      const marker = await lastModified(deps.clients.s3(), s.artifactBucket, headMarkerKeyOf(s.environment, route.kind, route.customer, branch, head));
      let retryOf: number | undefined;
      if (marker !== null) {
        // Within the window (or a marker without LastModified, which S3 always sends): the build may still run.
        if (marker === undefined || now() - marker < s.buildRetryAfterSeconds * 1000) return { ...base, outcome: 'build-started', head, built };
        retryOf = marker;
      }
      const info = await gitlab(`/projects/${project}`);
      if (info.status !== 200 || typeof info.body?.id !== 'number') throw new Error(`GitLab answered ${info.status} for project ${route.path}`);
      const ref = `refs/heads/${branch}`;
      const commit = got.body.commit as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : null);
      const config: SourceConfig = {
        version: SOURCE_CONFIG_VERSION,
        environment: s.environment,
        deliveryKey: reconcileDeliveryKey(s.environment, route.path, ref, head, retryOf),
        eventUuid: null,
        event: retryOf === undefined ? 'Reconcile' : 'ReconcileRetry',
        receivedAt: new Date(now()).toISOString(),
        project: { id: info.body.id, path: String(info.body.path_with_namespace ?? route.path), httpUrl: String(info.body.http_url_to_repo ?? ''), sshUrl: String(info.body.ssh_url_to_repo ?? '') },
        ref,
        refType: 'branch',
        branch,
        before: built !== null && COMMIT_SHA.test(built) ? built : ZERO_SHA.padEnd(head.length, '0'),
        after: head,
        commit: { sha: head, message: str(commit.message), authorName: str(commit.author_name), authorEmail: str(commit.author_email), timestamp: str(commit.committed_date) },
        customer: route.customer,
        kind: route.kind,
        targetKey,
      };
      await enqueueDelivery(deps.clients.sqs(), s.queueUrl, config);
      if (retryOf !== undefined) {
        const markerAgeSeconds = Math.floor((now() - retryOf) / 1000);
        deps.log.warn('build of the head did not produce its zip within the retry window; delivery queued again', {
          project: route.path,
          branch,
          head,
          built,
          markerAgeSeconds,
          markerLastModified: new Date(retryOf).toISOString(),
          buildRetryAfterSeconds: s.buildRetryAfterSeconds,
          deliveryKey: config.deliveryKey,
        });
        return { ...base, outcome: 'build-retried', head, built };
      }
      deps.log.info('head not built; delivery queued', { project: route.path, branch, head, built, deliveryKey: config.deliveryKey });
      return { ...base, outcome: 'queued', head, built };
    };

    // Page through the routed branches, `concurrency` at a time, within the time budget.
    for (let i = 0; i < items.length; i += s.concurrency) {
      const page = items.slice(i, i + s.concurrency);
      if (stopped || now() >= deadline) {
        stopped = true;
        results.push(...page.map(({ route, branch }) => ({ path: route.path, branch, outcome: 'not-checked' as const })));
        continue;
      }
      const done = await Promise.all(
        page.map(async ({ route, branch }) => {
          try {
            return await check(route, branch);
          } catch (e) {
            if (e instanceof RateLimitedError) stopped = true;
            deps.log.error('reconciling a branch failed', { project: route.path, branch, ...errorFields(e) });
            return { path: route.path, branch, outcome: (e instanceof RateLimitedError ? 'not-checked' : 'error') as BranchOutcome };
          }
        }),
      );
      results.push(...done);
    }
    const counts = { 'up-to-date': 0, queued: 0, 'build-started': 0, 'build-retried': 0, 'branch-missing': 0, error: 0, 'not-checked': 0 } as Record<BranchOutcome, number>;
    for (const r of results) counts[r.outcome]++;
    // CloudWatch Embedded Metric Format: metrics from the log line, no PutMetricData permission
    // needed. `_aws` must be a JSON object in the line (not a string), every metric a top-level
    // number and every dimension a top-level string. The logger writes to stdout directly (not
    // console.log), so Lambda's JSON log format passes the line through unwrapped.
    deps.log.info('reconcile run', {
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [{ Namespace: RECONCILE_METRICS.namespace, Dimensions: [[RECONCILE_METRICS.dimension]], Metrics: Object.keys(counts).map((k) => ({ Name: reconcileMetricName(k), Unit: 'Count' })) }],
      },
      [RECONCILE_METRICS.dimension]: s.environment,
      ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [reconcileMetricName(k), v])),
      durationMs: now() - started,
    });
    return { counts, results };
  };
}


/** Seconds from a Retry-After header (delta seconds or an HTTP date); 60 when absent or unreadable. */
export function retryAfterSeconds(header: string | null, nowMs: number): number {
  if (header === null) return 60;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Anything else (empty, a date, garbage): a date or 60.
  const at = Date.parse(header);
  return Number.isNaN(at) ? 60 : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The commit-sha metadata of the zip, or null when there is no zip (or no metadata). */
async function zipCommit(s3: S3Client, bucket: string, key: string): Promise<string | null> {
  const { HeadObjectCommand } = sdk.s3();
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return out.Metadata?.['commit-sha'] ?? null;
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** LastModified (ms) of an object; null when there is none, undefined when S3 sent no date. */
async function lastModified(s3: S3Client, bucket: string, key: string): Promise<number | null | undefined> {
  const { HeadObjectCommand } = sdk.s3();
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return out.LastModified?.getTime();
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}
