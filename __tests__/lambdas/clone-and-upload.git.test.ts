/**
 * lambdas/source-fetch/git.ts in-process, with a fake `git` (a shell script) first on the PATH it
 * is given: the arguments and working directory git gets, its environment (the deploy token only
 * there, the GIT_CONFIG_* settings, the credential helper), the spawn options (timeout, buffer),
 * what run/tryRun return and throw, and the redaction of the token from everything git prints.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createGit, GitCredentials, GitError } from '../../lambdas/source-fetch/git';

// Every spawnSync runs for real; the mock only records the options git.ts passes.
jest.mock('child_process', () => {
  const actual = jest.requireActual('child_process');
  return { ...actual, spawnSync: jest.fn(actual.spawnSync) };
});
const spawned = spawnSync as unknown as jest.Mock;

const TOKEN = 'gldt-Zq8xY2wV4uT6sR1pO3nM';
const USER = 'gitlab+deploy-token-7';
const CREDS: GitCredentials = { gitlabUrl: 'https://gitlab.example.com/gitlab', username: USER, token: TOKEN };

let tmp: string;
let bin: string;
let cwd: string;

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'git-unit-')));
  bin = path.join(tmp, 'bin');
  cwd = path.join(tmp, 'cwd');
  fs.mkdirSync(bin);
  fs.mkdirSync(cwd);
  fs.writeFileSync(
    path.join(bin, 'git'),
    [
      '#!/bin/sh',
      'case "$1" in',
      // The working directory, the arguments and the environment, one per line.
      '  dump) printf "cwd=%s\\n" "$(pwd)"; for a in "$@"; do printf "arg=%s\\n" "$a"; done; env | sed "s/^/env=/" ;;',
      // say STDOUT STDERR CODE
      '  say) printf "%s" "$2"; printf "%s" "$3" >&2; exit "$4" ;;',
      '  sleep) printf "partial" >&2; exec sleep "$2" ;;',
      '  *) exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => spawned.mockClear());

const baseEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, HOME: tmp, ...extra });

function dump(out: string) {
  const lines = out.split('\n').filter(Boolean);
  const env: Record<string, string> = {};
  for (const l of lines.filter((x) => x.startsWith('env='))) {
    const kv = l.slice('env='.length);
    env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  }
  return { cwd: lines.find((l) => l.startsWith('cwd='))?.slice(4), args: lines.filter((l) => l.startsWith('arg=')).map((l) => l.slice(4)), env };
}

test('git gets the arguments as given, the working directory, and an environment with the token only in GITLAB_DEPLOY_TOKEN', () => {
  const base = baseEnv({ GIT_ASKPASS: '/usr/bin/askpass', SSH_ASKPASS: '/usr/bin/ssh-askpass', GIT_TERMINAL_PROMPT: '1', LC_ALL: 'de_DE.UTF-8', GIT_CONFIG_COUNT: '9', KEEP_ME: 'yes' });
  const before = { ...base };
  const git = createGit(CREDS, 30, base);
  const { cwd: dir, args, env } = dump(git.run(cwd, ['dump', '--upload-pack=x y', '']));
  expect(dir).toBe(cwd);
  expect(args).toEqual(['dump', '--upload-pack=x y', '']);
  const relevant = Object.fromEntries(Object.entries(env).filter(([k]) => /^(GIT|SSH|LC_|KEEP_ME|HOME|PATH)/.test(k)));
  expect(relevant).toEqual({
    PATH: base.PATH,
    HOME: tmp,
    KEEP_ME: 'yes',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    GITLAB_DEPLOY_TOKEN_USER: USER,
    // The token is there (see the helper test below), but git's output is redacted.
    GITLAB_DEPLOY_TOKEN: '***',
    GIT_CONFIG_COUNT: '5',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: 'credential.https://gitlab.example.com/gitlab.helper',
    GIT_CONFIG_VALUE_1: expect.stringMatching(/^!f\(\) \{.*\}; f$/),
    GIT_CONFIG_KEY_2: 'protocol.version',
    GIT_CONFIG_VALUE_2: '2',
    GIT_CONFIG_KEY_3: 'advice.detachedHead',
    GIT_CONFIG_VALUE_3: 'false',
    GIT_CONFIG_KEY_4: 'init.defaultBranch',
    GIT_CONFIG_VALUE_4: 'main',
  });
  expect(JSON.stringify(spawned.mock.calls[0]?.[1])).not.toContain(TOKEN);
  // The caller's environment is left as it was.
  expect(base).toEqual(before);
  // The spawned environment holds the token itself.
  expect((spawned.mock.calls[0]?.[2] as { env: NodeJS.ProcessEnv }).env.GITLAB_DEPLOY_TOKEN).toBe(TOKEN);
});

test('the credential helper prints the deploy token from the environment only when git asks for it ("get")', () => {
  const { env } = dump(createGit(CREDS, 30, baseEnv()).run(cwd, ['dump']));
  const helper = env.GIT_CONFIG_VALUE_1 as string;
  expect(helper).not.toContain(TOKEN);
  // git runs a "!command" helper through the shell with the operation appended.
  const runHelper = (op: string) =>
    spawnSync('sh', ['-c', `${helper.slice(1)} "$@"`, 'helper', op], { encoding: 'utf8', env: { PATH: process.env.PATH, GITLAB_DEPLOY_TOKEN_USER: USER, GITLAB_DEPLOY_TOKEN: TOKEN } });
  expect(runHelper('get')).toMatchObject({ status: 0, stdout: `username=${USER}\npassword=${TOKEN}\n` });
  expect(runHelper('store')).toMatchObject({ status: 0, stdout: '' });
  expect(runHelper('erase')).toMatchObject({ status: 0, stdout: '' });
});

test('spawn options: git from the PATH, the timeout in milliseconds, stdin closed, 64 MiB of output', () => {
  const base = baseEnv();
  createGit(CREDS, 42, base).run(cwd, ['say', 'x', '', '0']);
  expect(spawned.mock.calls).toHaveLength(1);
  const [file, args, options] = spawned.mock.calls[0] as [string, string[], Record<string, unknown>];
  expect(file).toBe('git');
  expect(args).toEqual(['say', 'x', '', '0']);
  expect({ ...options, env: undefined }).toEqual({ cwd, env: undefined, encoding: 'utf8', timeout: 42_000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
});

test('run returns stdout as it is; tryRun returns stderr trimmed', () => {
  const git = createGit(CREDS, 30, baseEnv());
  expect(git.run(cwd, ['say', ' out \n', 'ignored', '0'])).toBe(' out \n');
  expect(git.tryRun(cwd, ['say', 'out\n', '  warning: x \n\n', '0'])).toEqual({ ok: true, stdout: 'out\n', stderr: 'warning: x' });
  expect(git.tryRun(cwd, ['say', 'partial out', 'fatal: no\n', '128'])).toEqual({ ok: false, stdout: 'partial out', stderr: 'fatal: no' });
  expect(git.tryRun(cwd, ['say', '', '', '1'])).toEqual({ ok: false, stdout: '', stderr: '' });
});

test.each([
  ['the command and its stderr', ['say', '', 'fatal: repository not found\n', '128'], 'git say failed: fatal: repository not found'],
  ['"(no output)" without stderr', ['say', 'only stdout', '', '1'], 'git say failed: (no output)'],
  ['no command name without arguments', [], 'git  failed: (no output)'],
  ['only the last 2000 characters of stderr', ['say', '', `${'a'.repeat(500)}${'b'.repeat(2000)}`, '1'], `git say failed: ${'b'.repeat(2000)}`],
])('run throws a GitError naming %s', (_what, args, message) => {
  const git = createGit(CREDS, 30, baseEnv());
  let error: unknown;
  try {
    git.run(cwd, args);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GitError);
  expect(error).toMatchObject({ name: 'GitError', message });
});

test('a git that runs longer than the timeout is killed: not ok, its stderr and the timeout error', () => {
  const started = Date.now();
  const r = createGit(CREDS, 0.3, baseEnv()).tryRun(cwd, ['sleep', '5']);
  expect(Date.now() - started).toBeLessThan(4000);
  expect(r).toEqual({ ok: false, stdout: '', stderr: 'partial\nspawnSync git ETIMEDOUT' });
});

test('no git on the PATH: not ok, the spawn error as stderr; run throws it', () => {
  const git = createGit(CREDS, 30, { PATH: cwd });
  expect(git.tryRun(cwd, ['init'])).toEqual({ ok: false, stdout: '', stderr: 'spawnSync git ENOENT' });
  expect(() => git.run(cwd, ['init'])).toThrow(new GitError('git init failed: spawnSync git ENOENT'));
});

describe('redaction: the token, user:token in base64 and the URL-encoded token never leave git.ts', () => {
  const b64 = (token: string) => Buffer.from(`${USER}:${token}`).toString('base64');
  test.each([
    ['a deploy token', 'gldt-Ab/cd+ef=', 't=*** b=*** u=***'],
    ['a token of 4 characters', 'wxyz', 't=*** b=*** u=***'],
    ['not a token of 3 characters (only the base64 form is long enough)', 'xyz', 't=xyz b=*** u=xyz'],
    ['the URL-encoded form of a short token when it is long enough', 'a/b', 't=a/b b=*** u=***'],
  ])('%s', (_what, token, redacted) => {
    const git = createGit({ ...CREDS, token }, 30, baseEnv());
    const text = `t=${token} b=${b64(token)} u=${encodeURIComponent(token)}`;
    expect(git.redact(text)).toBe(redacted);
    expect(git.tryRun(cwd, ['say', text, text, '0'])).toEqual({ ok: true, stdout: redacted, stderr: redacted });
    expect(() => git.run(cwd, ['say', text, text, '1'])).toThrow(`git say failed: ${redacted}`);
  });

  test('every occurrence', () => {
    const git = createGit(CREDS, 30, baseEnv());
    expect(git.redact(`${TOKEN}${TOKEN} and ${TOKEN}`)).toBe('****** and ***');
  });
});
