/**
 * Binding a clone URL to the project it claims to be. A delivery names its project twice: as
 * `path_with_namespace` (which selects the route, hence the customer and the target zip) and as clone
 * URLs. Both the webhook Lambda and the clone-and-upload program require the clone URL's path to be
 * exactly that project, so a delivery cannot route as one project and have another one's code built
 * into the routed zip. No AWS SDK and no env access here: both bundles include this module.
 *
 * GitLab serves a project at `<base URL>/<path_with_namespace>.git` over HTTP(S), where the base URL
 * may carry a relative URL root (`https://host/gitlab`); SSH URLs never carry the relative root
 * (`git@host:<path>.git` or `ssh://git@host:port/<path>.git`). Paths are compared case-insensitively,
 * as GitLab routes them, and the `.git` suffix is optional.
 */

/**
 * Normalizes a GitLab base URL to `<origin><path>` without a trailing slash, or returns undefined
 * when it is not an http(s) URL without credentials, query or fragment.
 */
export function normalizeGitlabUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') return undefined;
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

/** True when `repoPath` (from a URL, after the base) names `projectPath`: case-insensitive, `.git` optional. */
export function isProjectPath(repoPath: string, projectPath: string): boolean {
  const p = projectPath.toLowerCase();
  const r = repoPath.toLowerCase();
  return p !== '' && (r === p || r === `${p}.git`);
}

/**
 * Why the HTTP(S) clone URL `url` is not the project `projectPath` on the GitLab at `gitlabUrl`
 * (normalized, see normalizeGitlabUrl), or undefined when it is. Without `gitlabUrl` any host is
 * accepted but the project must sit at the root of the host (no relative URL root).
 */
export function httpCloneUrlProblem(url: string, projectPath: string, gitlabUrl: string | undefined): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL';
  if (u.username !== '' || u.password !== '') return 'must not carry credentials';
  if (u.search !== '' || u.hash !== '') return 'must not have a query or fragment';
  // The parser has resolved dot segments (`/a/../b`) as git's HTTP client will; percent-escapes are
  // kept, and since project paths have no `%`, an escaped path never matches.
  const full = `${u.origin}${u.pathname}`;
  const base = gitlabUrl ?? u.origin;
  if (!full.startsWith(`${base}/`)) return `is not under the configured GitLab URL ${base}`;
  const repoPath = full.slice(base.length + 1);
  if (!isProjectPath(repoPath, projectPath)) {
    const hint = gitlabUrl === undefined ? '; if GitLab runs under a relative URL root, set GITLAB_URL to include it' : '';
    return `has the repository path ${JSON.stringify(repoPath)}, not the routed project ${projectPath} (expected ${base}/${projectPath}.git; compared case-insensitively, ".git" optional${hint})`;
  }
  return undefined;
}

/** scp-like `user@host:path` (no leading slash) or `ssh://user@host[:port]/path`. */
const SCP_LIKE = /^[^\s/@:]+@[^\s/:]+:(?!\/)(\S+)$/;
const SSH_SCHEME = /^ssh:\/\/[^\s/@]+@[^\s/]+\/(\S+)$/;

/** Why the SSH clone URL `url` is not the project `projectPath`, or undefined when it is. */
export function sshCloneUrlProblem(url: string, projectPath: string): string | undefined {
  const m = SCP_LIKE.exec(url) ?? SSH_SCHEME.exec(url);
  if (m === null) return 'must look like git@host:group/project.git or ssh://user@host[:port]/group/project.git';
  const repoPath = m[1] as string;
  if (!isProjectPath(repoPath, projectPath)) {
    return `has the repository path ${JSON.stringify(repoPath)}, not the routed project ${projectPath} (compared case-insensitively, ".git" optional)`;
  }
  return undefined;
}
