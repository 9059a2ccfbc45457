/**
 * What to do with an authenticated delivery: ignore it (2xx with a reason), reject it (400 with a
 * precise message) or build it. Fields are checked only as far as the decision needs them, so an
 * event this environment does not care about is acknowledged rather than failed (GitLab disables
 * hooks that keep failing).
 */
import type { Route } from './contract';
import { COMMIT_SHA, SourceCommit, SourceConfig } from '../shared/source-config';
import { httpCloneUrlProblem, sshCloneUrlProblem } from '../shared/clone-url';

/** A push this environment builds: the push fields of the config file, plus the matching route. */
export interface RoutedPush extends Pick<SourceConfig, 'event' | 'ref' | 'refType' | 'branch' | 'before' | 'after' | 'commit' | 'project'> {
  readonly route: Route;
}

export type Decision =
  | { readonly action: 'ignore'; readonly reason: string }
  | { readonly action: 'reject'; readonly message: string }
  | { readonly action: 'build'; readonly push: RoutedPush };

export interface RoutingConfig {
  readonly environment: string;
  readonly routes: readonly Route[];
  readonly tagPushes: boolean;
  readonly gitlabUrl: string | undefined;
}

const PUSH = { event: 'Push Hook', objectKind: 'push', prefix: 'refs/heads/', refType: 'branch' } as const;
const TAG_PUSH = { event: 'Tag Push Hook', objectKind: 'tag_push', prefix: 'refs/tags/', refType: 'tag' } as const;

const ignore = (reason: string): Decision => ({ action: 'ignore', reason });
const reject = (message: string): Decision => ({ action: 'reject', message });

export function decide(eventHeader: string | undefined, body: Buffer, cfg: RoutingConfig): Decision {
  if (eventHeader === undefined || eventHeader === '') return reject('missing X-Gitlab-Event header');
  if (eventHeader === 'System Hook') return ignore('system hooks are not used; configure a project or group webhook');
  let kind: typeof PUSH | typeof TAG_PUSH;
  if (eventHeader === PUSH.event) kind = PUSH;
  else if (eventHeader === TAG_PUSH.event) {
    if (!cfg.tagPushes) return ignore('tag pushes are not built (TAG_PUSHES=false)');
    kind = TAG_PUSH;
  } else return ignore(`event "${eventHeader.slice(0, 60)}" needs no build`);

  if (body.length === 0) return reject('the body is empty; expected a JSON push event');
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return reject(`the body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!isObject(doc)) return reject('the body must be a JSON object');

  if (doc.object_kind !== kind.objectKind) {
    return reject(`object_kind must be "${kind.objectKind}" for ${kind.event}, got ${show(doc.object_kind)}`);
  }
  const ref = doc.ref;
  if (typeof ref !== 'string' || !ref.startsWith(kind.prefix) || ref.length === kind.prefix.length) {
    return reject(`ref must be a string starting with "${kind.prefix}", got ${show(ref)}`);
  }
  const after = doc.after;
  if (typeof after !== 'string' || !COMMIT_SHA.test(after)) return reject(`after must be a 40 or 64 hex digit commit id, got ${show(after)}`);
  const branch = ref.slice(kind.prefix.length);
  if (/^0+$/.test(after)) return ignore(`${kind.refType} ${branch} was deleted`);

  const project = isObject(doc.project) ? doc.project : undefined;
  const path = project?.path_with_namespace;
  if (typeof path !== 'string' || path === '') return reject('project.path_with_namespace is missing or not a string');

  const route = cfg.routes.find((r) => r.path.toLowerCase() === path.toLowerCase());
  if (route === undefined) return ignore(`repository ${path} is not routed to environment ${cfg.environment}`);
  if (!route.branches.includes(branch)) return ignore(`${kind.refType} ${branch} of ${path} is not routed to environment ${cfg.environment}`);

  const id = project?.id ?? doc.project_id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return reject(`project.id is missing or not an integer, got ${show(id)}`);
  const repository = isObject(doc.repository) ? doc.repository : {};
  const httpUrl = firstString(project?.git_http_url, project?.http_url, repository.git_http_url);
  const sshUrl = firstString(project?.git_ssh_url, project?.ssh_url, repository.git_ssh_url);
  if (httpUrl === undefined) return reject('project.git_http_url (or repository.git_http_url) is missing');
  if (sshUrl === undefined) return reject('project.git_ssh_url (or repository.git_ssh_url) is missing');
  // The clone URLs must be the routed project itself: otherwise a delivery routed as this project
  // could have another project's code (same GitLab, same deploy token scope) built into its zip.
  const httpProblem = httpCloneUrlProblem(httpUrl, route.path, cfg.gitlabUrl);
  if (httpProblem !== undefined) return reject(`project.git_http_url ${show(httpUrl)} ${httpProblem}`);
  const sshProblem = sshCloneUrlProblem(sshUrl, route.path);
  if (sshProblem !== undefined) return reject(`project.git_ssh_url ${show(sshUrl)} ${sshProblem}`);

  const before = doc.before;
  if (typeof before !== 'string' || !COMMIT_SHA.test(before)) return reject(`before must be a 40 or 64 hex digit commit id, got ${show(before)}`);

  // For an annotated tag, `after` is the tag object; checkout_sha is the commit it points to.
  let sha = after;
  if (kind === TAG_PUSH) {
    const checkout = doc.checkout_sha;
    if (typeof checkout !== 'string' || !COMMIT_SHA.test(checkout)) return reject(`checkout_sha must be the tagged commit id, got ${show(checkout)}`);
    sha = checkout;
  }

  return {
    action: 'build',
    push: {
      event: kind.event,
      ref,
      refType: kind.refType,
      branch,
      before,
      after,
      commit: commitInfo(doc.commits, sha),
      project: { id, path, httpUrl, sshUrl },
      route,
    },
  };
}

function commitInfo(commits: unknown, sha: string): SourceCommit {
  const found = Array.isArray(commits) ? commits.find((c): c is Record<string, unknown> => isObject(c) && c.id === sha) : undefined;
  const author = isObject(found?.author) ? found.author : {};
  return {
    sha,
    message: stringOrNull(found?.message),
    authorName: stringOrNull(author.name),
    authorEmail: stringOrNull(author.email),
    timestamp: stringOrNull(found?.timestamp),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function show(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
