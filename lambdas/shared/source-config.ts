/**
 * The source config file: the contract between the webhook Lambda (which writes it to
 * `webhook/<env>/<delivery-key>.json` in the artifact bucket) and the CodeBuild clone-and-upload
 * program (which reads it through CONFIG_BUCKET/CONFIG_KEY). No AWS SDK and no env access here:
 * both bundles include this module.
 */

import { CUSTOMER_NAME, REPOSITORY_KINDS, RepositoryKind } from './names';

export type { RepositoryKind };

export const SOURCE_CONFIG_VERSION = 1;
export type RefType = 'branch' | 'tag';

export interface SourceCommit {
  /** The commit to build: `after` for branches, `checkout_sha` (the tagged commit) for tags. */
  readonly sha: string;
  /** From `commits[]` when GitLab listed the commit (it lists at most the newest 20), else null. */
  readonly message: string | null;
  readonly authorName: string | null;
  readonly authorEmail: string | null;
  readonly timestamp: string | null;
}

export interface SourceConfig {
  readonly version: typeof SOURCE_CONFIG_VERSION;
  /** Environment that received the push. */
  readonly environment: string;
  /** Idempotency-Key of the delivery, or the sha256 fallback (see the webhook README). */
  readonly deliveryKey: string;
  /** X-Gitlab-Event-UUID, or null when GitLab did not send it. */
  readonly eventUuid: string | null;
  /** `Push Hook` or `Tag Push Hook`. */
  readonly event: string;
  readonly receivedAt: string;
  readonly project: {
    readonly id: number;
    /** path_with_namespace, as GitLab sent it. */
    readonly path: string;
    readonly httpUrl: string;
    readonly sshUrl: string;
  };
  /** Full ref, `refs/heads/<branch>` or `refs/tags/<tag>`. */
  readonly ref: string;
  readonly refType: RefType;
  /** The branch (or, for tag pushes, the tag) name: the ref without its prefix. */
  readonly branch: string;
  readonly before: string;
  readonly after: string;
  readonly commit: SourceCommit;
  readonly customer: string;
  readonly kind: RepositoryKind;
  /** Artifact key the zip goes to: `<kind>/<customer>/<branch>.zip`. */
  readonly targetKey: string;
}

/** 40 hex digits (SHA-1 repositories) or 64 (SHA-256 repositories), lower case as GitLab sends them. */
export const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** `<kind>/<customer>/<branch>.zip` for a route target. */
export function targetKeyOf(kind: RepositoryKind, customer: string, branch: string): string {
  return `${kind}/${customer}/${branch}.zip`;
}

/**
 * `webhook/<env>/heads/<kind>/<customer>/<branch>/<sha>`: written by the worker before it starts
 * the build of a commit; the reconciler's HeadObject on it means "a build of this head was started".
 */
export function headMarkerKeyOf(environment: string, kind: RepositoryKind, customer: string, branch: string, sha: string): string {
  return `webhook/${environment}/heads/${kind}/${customer}/${branch}/${sha}`;
}

export class SourceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceConfigError';
  }
}

/**
 * Parses and checks a source config file. Everything the clone program passes to git or uses as an
 * S3 key is checked here, so that a tampered file cannot inject git options or escape the key layout.
 */
export function parseSourceConfig(text: string): SourceConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SourceConfigError(`the config file is not JSON: ${(e as Error).message}`);
  }
  const o = record(doc, '(root)');
  if (o.version !== SOURCE_CONFIG_VERSION) throw new SourceConfigError(`unsupported config version ${JSON.stringify(o.version)}; expected ${SOURCE_CONFIG_VERSION}`);
  const project = record(o.project, 'project');
  const commit = record(o.commit, 'commit');
  const refType = oneOf(o.refType, 'refType', ['branch', 'tag'] as const);
  const kind = oneOf(o.kind, 'kind', REPOSITORY_KINDS);
  const ref = str(o.ref, 'ref');
  const branch = str(o.branch, 'branch');
  const prefix = refType === 'branch' ? 'refs/heads/' : 'refs/tags/';
  if (ref !== prefix + branch) throw new SourceConfigError(`ref ${JSON.stringify(ref)} does not match refType ${refType} and branch ${JSON.stringify(branch)}`);
  if (!/^[^\s\\:~^?*[]+$/.test(branch) || branch.startsWith('-') || branch.includes('..')) {
    throw new SourceConfigError(`branch ${JSON.stringify(branch)} is not a safe git ref name`);
  }
  const customer = str(o.customer, 'customer');
  if (!CUSTOMER_NAME.test(customer)) throw new SourceConfigError(`customer ${JSON.stringify(customer)} is not a valid customer name`);
  const targetKey = str(o.targetKey, 'targetKey');
  if (targetKey !== targetKeyOf(kind, customer, branch)) {
    throw new SourceConfigError(`targetKey ${JSON.stringify(targetKey)} is not ${JSON.stringify(targetKeyOf(kind, customer, branch))}`);
  }
  const id = project.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new SourceConfigError(`project.id must be a non-negative integer, got ${JSON.stringify(id)}`);
  return {
    version: SOURCE_CONFIG_VERSION,
    environment: str(o.environment, 'environment'),
    deliveryKey: str(o.deliveryKey, 'deliveryKey'),
    eventUuid: strOrNull(o.eventUuid, 'eventUuid'),
    event: str(o.event, 'event'),
    receivedAt: str(o.receivedAt, 'receivedAt'),
    project: { id, path: str(project.path, 'project.path'), httpUrl: httpUrl(project.httpUrl, 'project.httpUrl'), sshUrl: str(project.sshUrl, 'project.sshUrl') },
    ref,
    refType,
    branch,
    before: sha(o.before, 'before'),
    after: sha(o.after, 'after'),
    commit: {
      sha: sha(commit.sha, 'commit.sha'),
      message: strOrNull(commit.message, 'commit.message'),
      authorName: strOrNull(commit.authorName, 'commit.authorName'),
      authorEmail: strOrNull(commit.authorEmail, 'commit.authorEmail'),
      timestamp: strOrNull(commit.timestamp, 'commit.timestamp'),
    },
    customer,
    kind,
    targetKey,
  };
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SourceConfigError(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new SourceConfigError(`${where} must be a non-empty string`);
  return v;
}

function strOrNull(v: unknown, where: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new SourceConfigError(`${where} must be a string or null`);
  return v;
}

function sha(v: unknown, where: string): string {
  const s = str(v, where);
  if (!COMMIT_SHA.test(s)) throw new SourceConfigError(`${where} must be a 40 or 64 hex digit commit id, got ${JSON.stringify(s)}`);
  return s;
}

function httpUrl(v: unknown, where: string): string {
  const s = str(v, where);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new SourceConfigError(`${where} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new SourceConfigError(`${where} must be an http(s) URL`);
  if (u.username || u.password) throw new SourceConfigError(`${where} must not carry credentials`);
  return s;
}

function oneOf<T extends string>(v: unknown, where: string, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(v)) {
    throw new SourceConfigError(`${where} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}
