/**
 * Running git with the deploy token kept out of URLs, argv, config files and output: git asks a
 * credential helper, scoped by git to the GitLab URL and configured through GIT_CONFIG_* variables,
 * which prints the token from the environment. Every text git prints is passed through redact()
 * before it reaches a log or an error message. git is the first `git` on the PATH of `baseEnv` (tests
 * put a wrapper there).
 */
import { spawnSync } from 'child_process';

export interface GitCredentials {
  /** GitLab base URL (origin and optional path); credentials are only offered to URLs under it. */
  readonly gitlabUrl: string;
  readonly username: string;
  readonly token: string;
}

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

export interface Git {
  /** Runs git in `cwd`; returns stdout. Throws GitError with the (redacted) stderr on failure. */
  run(cwd: string, args: readonly string[]): string;
  /** Runs git; returns whether it succeeded (stderr is redacted and returned for messages). */
  tryRun(cwd: string, args: readonly string[]): { readonly ok: boolean; readonly stdout: string; readonly stderr: string };
  redact(text: string): string;
}

// Prints the credentials only when git asks for them ("get"), from variables git inherits.
const HELPER = '!f() { test "$1" = get || exit 0; echo "username=${GITLAB_DEPLOY_TOKEN_USER}"; echo "password=${GITLAB_DEPLOY_TOKEN}"; }; f';

export function createGit(creds: GitCredentials, timeoutSeconds: number, baseEnv: NodeJS.ProcessEnv): Git {
  const config: ReadonlyArray<readonly [string, string]> = [
    ['credential.helper', ''], // forget helpers from system/global config
    [`credential.${creds.gitlabUrl}.helper`, HELPER],
    ['protocol.version', '2'],
    ['advice.detachedHead', 'false'],
    ['init.defaultBranch', 'main'],
  ];
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  delete env.GIT_ASKPASS;
  delete env.SSH_ASKPASS;
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    GITLAB_DEPLOY_TOKEN_USER: creds.username,
    GITLAB_DEPLOY_TOKEN: creds.token,
    GIT_CONFIG_COUNT: String(config.length),
    LC_ALL: 'C',
  });
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });

  const secrets = [creds.token, Buffer.from(`${creds.username}:${creds.token}`).toString('base64'), encodeURIComponent(creds.token)].filter((s) => s.length >= 4);
  const redact = (text: string): string => secrets.reduce((t, s) => t.split(s).join('***'), text);

  const tryRun = (cwd: string, args: readonly string[]) => {
    const r = spawnSync('git', args, { cwd, env, encoding: 'utf8', timeout: timeoutSeconds * 1000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const stderr = redact(`${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`).trim();
    return { ok: r.status === 0, stdout: redact(r.stdout ?? ''), stderr };
  };
  return {
    redact,
    tryRun,
    run(cwd, args) {
      const r = tryRun(cwd, args);
      if (!r.ok) throw new GitError(`git ${args[0] ?? ''} failed: ${r.stderr.slice(-2000) || '(no output)'}`);
      return r.stdout;
    },
  };
}
