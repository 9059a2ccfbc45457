/**
 * The clone-and-upload program in-process (fast, and with per-test coverage for mutation testing):
 * settings, the config file, each git step with its exit code and message, the tip check and the
 * upload, with S3 mocked (aws-sdk-client-mock) and a fake git that answers each command from a
 * table. The same program against a real git server and S3 server: clone-and-upload.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { cloneAndUpload, EXIT, Failure, Io, main, readSettings, s3ClientConfig } from '../../lambdas/source-fetch/clone-and-upload';
import { Git, GitCredentials, GitError } from '../../lambdas/source-fetch/git';
import * as sourceConfigModule from '../../lambdas/shared/source-config';
import { SourceConfig, targetKeyOf } from '../../lambdas/shared/source-config';

const s3 = mockClient(S3Client);

const TOKEN = 'gldt-Zq8xY2wV4uT6sR1pO3nM';
const USER = 'gitlab+deploy-token-7';
const KMS = 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const GITLAB = 'https://gitlab.example.com';
const SHA = 'a'.repeat(40);
const NEWER = 'b'.repeat(40);
const TAG_OBJECT = 'c'.repeat(40);
const SHA256 = 'd'.repeat(64);
const ZIP = Buffer.from('PK\u0003\u0004 the zip of the tree');

let workRoot: string;
beforeEach(() => {
  s3.reset();
  workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'clone-unit-'));
});
afterEach(() => fs.rmSync(workRoot, { recursive: true, force: true }));

function env(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    CONFIG_BUCKET: 'config-bucket',
    CONFIG_KEY: 'webhook/dev/d1.json',
    ARTIFACT_BUCKET: 'artifact-bucket',
    ARTIFACT_KMS_KEY_ARN: KMS,
    GITLAB_URL: GITLAB,
    GITLAB_DEPLOY_TOKEN_USER: USER,
    GITLAB_DEPLOY_TOKEN: TOKEN,
    WORK_DIR: workRoot,
    ...overrides,
  };
}

/** A config of acme/web-shop: the branch main at SHA by default. */
function sourceConfig(o: { sha?: string; branch?: string; tag?: string; eventUuid?: string | null; httpUrl?: string } = {}): SourceConfig {
  const branch = o.tag ?? o.branch ?? 'main';
  const sha = o.sha ?? SHA;
  return {
    version: 1,
    environment: 'dev',
    deliveryKey: '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
    eventUuid: o.eventUuid === undefined ? 'c3a1e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c24' : o.eventUuid,
    event: o.tag === undefined ? 'Push Hook' : 'Tag Push Hook',
    receivedAt: '2025-03-01T12:00:05.000Z',
    project: { id: 4711, path: 'acme/web-shop', httpUrl: o.httpUrl ?? `${GITLAB}/acme/web-shop.git`, sshUrl: 'git@gitlab.example.com:acme/web-shop.git' },
    ref: o.tag === undefined ? `refs/heads/${branch}` : `refs/tags/${branch}`,
    refType: o.tag === undefined ? 'branch' : 'tag',
    branch,
    before: '0'.repeat(40),
    after: o.tag === undefined ? sha : TAG_OBJECT,
    commit: { sha, message: 'second', authorName: 'Test', authorEmail: 'test@example.com', timestamp: '2025-03-01T11:00:00Z' },
    customer: 'acme',
    kind: 'software',
    targetKey: targetKeyOf('software', 'acme', branch),
  };
}

/** The body of a GetObject answer; decodes like the SDK (an encoding Buffer does not know goes to TextDecoder). */
function body(text: string) {
  const bytes = Buffer.from(text, 'utf8');
  return { transformToString: async (encoding?: string) => new TextDecoder(encoding).decode(bytes) } as never;
}

function givenConfig(config: SourceConfig | string): void {
  s3.on(GetObjectCommand).resolves({ Body: body(typeof config === 'string' ? config : JSON.stringify(config)) });
}

interface Reply {
  readonly ok?: boolean;
  readonly stdout?: string;
  readonly stderr?: string;
}
type Handler = (args: readonly string[], cwd: string) => Reply;

/**
 * A git that answers each command (by its first argument) from `handlers`, else like a git that
 * finds `sha` as the tip of `ref`; `archive` writes ZIP to its --output. Records every call.
 */
function fakeGit(config: SourceConfig, handlers: Record<string, Handler> = {}) {
  const calls: Array<{ cwd: string; args: readonly string[] }> = [];
  const created: Array<{ creds: GitCredentials; timeoutSeconds: number }> = [];
  const defaults: Record<string, Handler> = {
    'rev-parse': () => ({ stdout: `${config.commit.sha}\n` }),
    archive: (args) => {
      fs.writeFileSync((args.find((a) => a.startsWith('--output=')) as string).slice('--output='.length), ZIP);
      return {};
    },
    'ls-remote': () => ({ stdout: `${config.commit.sha}\t${config.ref}\n` }),
  };
  const tryRun = (cwd: string, args: readonly string[]) => {
    calls.push({ cwd, args });
    const handler = handlers[args[0] as string] ?? defaults[args[0] as string];
    const r = handler ? handler(args, cwd) : {};
    return { ok: r.ok ?? true, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const git: Git = {
    tryRun,
    run(cwd, args) {
      const r = tryRun(cwd, args);
      if (!r.ok) throw new GitError(`git ${args[0]} failed: ${r.stderr}`);
      return r.stdout;
    },
    redact: (text) => text,
  };
  const createGit = (creds: GitCredentials, timeoutSeconds: number): Git => {
    created.push({ creds, timeoutSeconds });
    return git;
  };
  return { calls, created, createGit, commands: () => calls.map((c) => c.args[0]) };
}

async function runMain(e: NodeJS.ProcessEnv, git: ReturnType<typeof fakeGit>) {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), createGit: git.createGit };
  const code = await main(e, io);
  return { code, stdout, stderr, lines: stdout.split('\n').filter(Boolean) };
}

const puts = () => s3.commandCalls(PutObjectCommand);

describe('readSettings', () => {
  const required = ['CONFIG_BUCKET', 'CONFIG_KEY', 'ARTIFACT_BUCKET', 'ARTIFACT_KMS_KEY_ARN', 'GITLAB_URL', 'GITLAB_DEPLOY_TOKEN_USER', 'GITLAB_DEPLOY_TOKEN'];

  const settingsError = (e: NodeJS.ProcessEnv): Failure => {
    try {
      readSettings(e);
    } catch (err) {
      return err as Failure;
    }
    throw new Error('readSettings accepted the settings');
  };

  test('reads every variable; the optional ones default (AWS S3, the OS temp dir, 900 s)', () => {
    expect(readSettings(env({ WORK_DIR: undefined }))).toEqual({
      configBucket: 'config-bucket',
      configKey: 'webhook/dev/d1.json',
      artifactBucket: 'artifact-bucket',
      artifactKmsKeyArn: KMS,
      gitlabUrl: GITLAB,
      deployTokenUser: USER,
      deployToken: TOKEN,
      s3Endpoint: undefined,
      workDir: undefined,
      gitTimeoutSeconds: 900,
    });
  });

  test('empty optional variables count as unset', () => {
    expect(readSettings(env({ AWS_ENDPOINT_URL_S3: '', WORK_DIR: '', GIT_TIMEOUT_SECONDS: '' }))).toMatchObject({ s3Endpoint: undefined, workDir: undefined, gitTimeoutSeconds: 900 });
  });

  test('the optional variables when set; GITLAB_URL is normalized (no trailing slash)', () => {
    expect(readSettings(env({ GITLAB_URL: 'https://host.example/gitlab/', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', WORK_DIR: '/build/work', GIT_TIMEOUT_SECONDS: '60' }))).toMatchObject({
      gitlabUrl: 'https://host.example/gitlab',
      s3Endpoint: 'http://127.0.0.1:9000',
      workDir: '/build/work',
      gitTimeoutSeconds: 60,
    });
  });

  test.each(required.flatMap((name) => [[name, undefined] as const, [name, ''] as const]))('%s=%p: exit code 2, "is required"', (name, value) => {
    const e = settingsError(env({ [name]: value }));
    expect(e).toBeInstanceOf(Failure);
    expect(e.name).toBe('Failure');
    expect(e.exitCode).toBe(EXIT.settings);
    expect(e.message).toBe(`invalid settings:\n  - ${name} is required`);
  });

  test('every problem at once, in order', () => {
    const e = settingsError({ GIT_TIMEOUT_SECONDS: '5' });
    expect(e.message).toBe(['invalid settings:', ...required.map((n) => `${n} is required`), 'GIT_TIMEOUT_SECONDS="5" must be an integer of at least 10'].join('\n  - '));
  });

  test.each(['ftp://gitlab.example.com', 'not a url', 'https://user:pw@gitlab.example.com', 'https://gitlab.example.com/?a=1', 'https://gitlab.example.com/#top'])('GITLAB_URL=%s is refused', (url) => {
    expect(settingsError(env({ GITLAB_URL: url })).message).toBe(
      `invalid settings:\n  - GITLAB_URL=${JSON.stringify(url)} must be an http(s) URL without credentials, query or fragment (e.g. https://gitlab.example.com or https://host/gitlab)`,
    );
  });

  test.each([
    ['10', 10],
    ['11', 11],
    ['100', 100],
    ['010', 10],
    ['3600', 3600],
  ])('GIT_TIMEOUT_SECONDS=%s is %d seconds', (raw, seconds) => {
    expect(readSettings(env({ GIT_TIMEOUT_SECONDS: raw })).gitTimeoutSeconds).toBe(seconds);
  });

  test.each(['9', '0', '1', '-10', '10.5', '1e3', 'ten', '10s', 's10', ' 10', '10 '])('GIT_TIMEOUT_SECONDS=%p is refused', (raw) => {
    const e = settingsError(env({ GIT_TIMEOUT_SECONDS: raw }));
    expect(e.exitCode).toBe(EXIT.settings);
    expect(e.message).toBe(`invalid settings:\n  - GIT_TIMEOUT_SECONDS=${JSON.stringify(raw)} must be an integer of at least 10`);
  });
});

describe('s3ClientConfig', () => {
  test('AWS unless AWS_ENDPOINT_URL_S3 is set; then that endpoint, path-style', () => {
    expect(s3ClientConfig(readSettings(env()))).toEqual({});
    expect(s3ClientConfig(readSettings(env({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' })))).toEqual({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
  });
});

describe('main: an upload', () => {
  test('fetches exactly the commit, checks HEAD, archives, checks the tip, uploads with SSE-KMS and metadata; exit 0', async () => {
    const config = sourceConfig();
    givenConfig(config);
    s3.on(PutObjectCommand).resolves({});
    const destroy = jest.spyOn(S3Client.prototype, 'destroy');
    const git = fakeGit(config);
    const r = await runMain(env({ GIT_TIMEOUT_SECONDS: '120' }), git);

    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.lines).toEqual([
      `clone-and-upload: config s3://config-bucket/webhook/dev/d1.json: acme/web-shop refs/heads/main at ${SHA} -> s3://artifact-bucket/software/acme/main.zip`,
      `clone-and-upload: checked out acme/web-shop at ${SHA}`,
      `clone-and-upload: uploaded ${ZIP.length} bytes to s3://artifact-bucket/software/acme/main.zip`,
      JSON.stringify({ result: 'uploaded', bucket: 'artifact-bucket', key: 'software/acme/main.zip', commit: SHA, bytes: ZIP.length }),
    ]);
    expect(r.stdout.endsWith('\n')).toBe(true);

    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'config-bucket', Key: 'webhook/dev/d1.json' }]);
    expect(puts().map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'artifact-bucket',
        Key: 'software/acme/main.zip',
        Body: ZIP,
        ContentType: 'application/zip',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: KMS,
        Metadata: {
          'commit-sha': SHA,
          ref: 'refs/heads/main',
          'project-path': 'acme/web-shop',
          'delivery-key': '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
          'event-uuid': 'c3a1e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c24',
        },
      },
    ]);

    // git: the deploy token only through the credentials, the settings' timeout.
    expect(git.created).toEqual([{ creds: { gitlabUrl: GITLAB, username: USER, token: TOKEN }, timeoutSeconds: 120 }]);
    const work = git.calls[0]?.cwd as string;
    expect(path.dirname(work)).toBe(workRoot);
    expect(path.basename(work)).toMatch(/^clone-.{6}$/);
    const repo = path.join(work, 'repo');
    expect(git.calls).toEqual([
      { cwd: work, args: ['init', '--quiet', '--object-format=sha1', repo] },
      { cwd: repo, args: ['remote', 'add', 'origin', `${GITLAB}/acme/web-shop.git`] },
      { cwd: repo, args: ['fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', SHA] },
      { cwd: repo, args: ['checkout', '--quiet', '--detach', SHA] },
      { cwd: repo, args: ['rev-parse', 'HEAD'] },
      { cwd: repo, args: ['archive', '--format=zip', `--output=${path.join(work, 'source.zip')}`, 'HEAD'] },
      { cwd: repo, args: ['ls-remote', 'origin', 'refs/heads/main'] },
    ]);
    for (const { args } of git.calls) expect(args.join(' ')).not.toContain(TOKEN);
    // The work directory is gone, the S3 client closed.
    expect(fs.readdirSync(workRoot)).toEqual([]);
    expect(destroy).toHaveBeenCalledTimes(1);
    destroy.mockRestore();
  });

  test('a SHA-256 repository is initialized as one', async () => {
    const config = sourceConfig({ sha: SHA256 });
    givenConfig(config);
    const git = fakeGit(config);
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.ok);
    expect(git.calls[0]?.args[2]).toBe('--object-format=sha256');
    expect(git.calls[2]?.args).toEqual(['fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', SHA256]);
  });

  test('without WORK_DIR the work directory is made in the OS temp dir', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config);
    const r = await runMain(env({ WORK_DIR: undefined }), git);
    expect(r.code).toBe(EXIT.ok);
    const work = git.calls[0]?.cwd as string;
    expect(path.dirname(work)).toBe(os.tmpdir());
    expect(path.basename(work)).toMatch(/^clone-/);
    expect(fs.existsSync(work)).toBe(false);
  });

  test('metadata: no event-uuid when GitLab sent none', async () => {
    const config = sourceConfig({ eventUuid: null });
    givenConfig(config);
    await runMain(env(), fakeGit(config));
    expect(puts()[0]?.args[0].input.Metadata).toEqual({ 'commit-sha': SHA, ref: 'refs/heads/main', 'project-path': 'acme/web-shop', 'delivery-key': '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40' });
  });

  test.each([
    ['printable ASCII stays, space to tilde', ' plain ~ value !', ' plain ~ value !'],
    ['DEL is encoded', 'x\x7f', 'x%7F'],
    ['a control character is encoded', '\x1fx', '%1Fx'],
    ['non-ASCII at the start is encoded', 'é-1', '%C3%A9-1'],
    ['non-ASCII at the end is encoded', '1-é', '1-%C3%A9'],
  ])('metadata travels in headers: %s', async (_what, eventUuid, header) => {
    const config = sourceConfig({ eventUuid });
    givenConfig(config);
    await runMain(env(), fakeGit(config));
    expect(puts()[0]?.args[0].input.Metadata?.['event-uuid']).toBe(header);
  });

  test('metadata: a non-ASCII branch is percent-encoded in ref, the key keeps it', async () => {
    const config = sourceConfig({ branch: 'feature/grün' });
    givenConfig(config);
    await runMain(env(), fakeGit(config));
    const input = puts()[0]?.args[0].input;
    expect(input?.Key).toBe('software/acme/feature/grün.zip');
    expect(input?.Metadata?.ref).toBe('refs%2Fheads%2Ffeature%2Fgr%C3%BCn');
  });
});

describe('main: fetching by ref when the server refuses a fetch by commit id', () => {
  test.each([
    ['the last line of stderr', 'warning: first\nfatal: remote error: upload-pack: not our ref\n\n', 'fatal: remote error: upload-pack: not our ref'],
    ['"no output" without stderr', '', 'no output'],
  ])('logs %s, fetches the ref with its history and checks the commit is there', async (_what, stderr, shown) => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, { fetch: (args) => (args.includes('--depth') ? { ok: false, stderr } : {}) });
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.ok);
    expect(r.lines[1]).toBe(`clone-and-upload: fetching ${SHA} directly failed (${shown}); fetching refs/heads/main instead`);
    expect(git.calls.slice(2, 6).map((c) => c.args)).toEqual([
      ['fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', SHA],
      ['fetch', '--quiet', '--no-tags', 'origin', '+refs/heads/main:refs/remotes/origin/source'],
      ['cat-file', '-e', `${SHA}^{commit}`],
      ['checkout', '--quiet', '--detach', SHA],
    ]);
    expect(puts()).toHaveLength(1);
  });

  test('a commit not reachable from the ref: exit 4, nothing uploaded', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, { fetch: (args) => (args.includes('--depth') ? { ok: false } : {}), 'cat-file': () => ({ ok: false }) });
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.fetch);
    expect(r.stderr).toBe(`clone-and-upload: error: commit ${SHA} is not in acme/web-shop (not reachable from refs/heads/main; was it force-pushed away?)\n`);
    expect(git.commands()).toEqual(['init', 'remote', 'fetch', 'fetch', 'cat-file']);
    expect(puts()).toHaveLength(0);
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });

  test('the fetch of the ref fails: exit 4 with git\'s message', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, { fetch: () => ({ ok: false, stderr: 'fatal: Authentication failed' }) });
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.fetch);
    expect(r.stderr).toBe('clone-and-upload: error: git fetch failed: fatal: Authentication failed\n');
    expect(git.commands()).toEqual(['init', 'remote', 'fetch', 'fetch']);
  });
});

describe('main: each git step fails with its exit code, uploads nothing and removes the work directory', () => {
  test.each([
    ['init', EXIT.fetch, 4],
    ['remote', EXIT.fetch, 4],
    ['checkout', EXIT.verify, 5],
    ['rev-parse', EXIT.verify, 5],
    ['archive', EXIT.archive, 6],
    ['ls-remote', EXIT.fetch, 4],
  ])('git %s: exit %d', async (step, code, number) => {
    expect(code).toBe(number);
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, { [step]: () => ({ ok: false, stderr: `fatal: ${step} broke` }) });
    const r = await runMain(env(), git);
    expect(r.code).toBe(number);
    expect(r.stderr).toBe(`clone-and-upload: error: git ${step} failed: fatal: ${step} broke\n`);
    expect(git.commands().pop()).toBe(step);
    expect(puts()).toHaveLength(0);
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });

  test('HEAD is not the requested commit after checkout: exit 5', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, { 'rev-parse': () => ({ stdout: `${NEWER}\n` }) });
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.verify);
    expect(r.stderr).toBe(`clone-and-upload: error: HEAD is ${NEWER}, expected ${SHA}\n`);
    expect(git.commands()).not.toContain('archive');
    expect(puts()).toHaveLength(0);
  });

  test('exit codes are the documented ones', () => {
    expect(EXIT).toEqual({ ok: 0, unexpected: 1, settings: 2, config: 3, fetch: 4, verify: 5, archive: 6, upload: 7 });
  });
});

describe('main: the tip check (stale deliveries)', () => {
  const skipped = (config: SourceConfig, current: string | null) =>
    JSON.stringify({ result: 'skipped', reason: current === null ? 'ref deleted' : 'ref moved', ref: config.ref, commit: config.commit.sha, current, bucket: 'artifact-bucket', key: config.targetKey });

  test('the branch moved on: skipped, exit 0, nothing uploaded', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: `${NEWER}\trefs/heads/main\n` }) }));
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toBe('');
    expect(r.lines.slice(2)).toEqual([
      `clone-and-upload: skipped: branch main moved on from ${SHA} to ${NEWER}; not uploading the requested commit, s3://artifact-bucket/software/acme/main.zip is left as it is`,
      skipped(config, NEWER),
    ]);
    expect(puts()).toHaveLength(0);
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });

  test('the branch no longer exists: skipped as "ref deleted"', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: '' }) }));
    expect(r.code).toBe(EXIT.ok);
    expect(r.lines.slice(2)).toEqual([
      `clone-and-upload: skipped: branch main no longer exists in acme/web-shop (requested ${SHA}); not uploading the requested commit, s3://artifact-bucket/software/acme/main.zip is left as it is`,
      skipped(config, null),
    ]);
    expect(puts()).toHaveLength(0);
  });

  test('a tag is asked for with its peeled entry; an annotated tag on the commit is uploaded', async () => {
    const config = sourceConfig({ tag: 'v1' });
    givenConfig(config);
    const git = fakeGit(config, { 'ls-remote': () => ({ stdout: `${TAG_OBJECT}\trefs/tags/v1\n${SHA}\trefs/tags/v1^{}\n` }) });
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.ok);
    expect(git.calls.find((c) => c.args[0] === 'ls-remote')?.args).toEqual(['ls-remote', 'origin', 'refs/tags/v1', 'refs/tags/v1^{}']);
    expect(puts().map((c) => c.args[0].input.Key)).toEqual(['software/acme/v1.zip']);
  });

  test('the peeled entry counts even when listed first', async () => {
    const config = sourceConfig({ tag: 'v1' });
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: `${SHA}\trefs/tags/v1^{}\n${TAG_OBJECT}\trefs/tags/v1\n` }) }));
    expect(r.code).toBe(EXIT.ok);
    expect(puts()).toHaveLength(1);
  });

  test('a lightweight tag (no peeled entry) on the commit is uploaded', async () => {
    const config = sourceConfig({ tag: 'v1' });
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: `${SHA}\trefs/tags/v1\n` }) }));
    expect(r.code).toBe(EXIT.ok);
    expect(puts()).toHaveLength(1);
  });

  test('a tag that now points to another commit is skipped', async () => {
    const config = sourceConfig({ tag: 'v1' });
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: `${TAG_OBJECT}\trefs/tags/v1\n${NEWER}\trefs/tags/v1^{}\n` }) }));
    expect(r.code).toBe(EXIT.ok);
    expect(r.lines.slice(2)).toEqual([
      `clone-and-upload: skipped: tag v1 now points to ${NEWER}, not ${SHA}; not uploading the requested commit, s3://artifact-bucket/software/acme/v1.zip is left as it is`,
      skipped(config, NEWER),
    ]);
    expect(puts()).toHaveLength(0);
  });

  test('a deleted tag is skipped', async () => {
    const config = sourceConfig({ tag: 'v1' });
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: '' }) }));
    expect(r.lines[2]).toBe(`clone-and-upload: skipped: tag v1 no longer exists in acme/web-shop (requested ${SHA}); not uploading the requested commit, s3://artifact-bucket/software/acme/v1.zip is left as it is`);
    expect(puts()).toHaveLength(0);
  });

  test('only the entry of the ref counts, surrounding whitespace is ignored', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config, { 'ls-remote': () => ({ stdout: `${NEWER}\trefs/heads/main-old\n  ${SHA}\trefs/heads/main  \r\n\n` }) }));
    expect(r.code).toBe(EXIT.ok);
    expect(puts()).toHaveLength(1);
  });
});

describe('main: the config file', () => {
  test('unreadable: exit 3 with the S3 error, git is never made', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
    const git = fakeGit(sourceConfig());
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.config);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('clone-and-upload: error: cannot read s3://config-bucket/webhook/dev/d1.json: NoSuchKey: The specified key does not exist.\n');
    expect(git.created).toEqual([]);
  });

  test('an empty answer is not JSON: exit 3', async () => {
    s3.on(GetObjectCommand).resolves({});
    const r = await runMain(env(), fakeGit(sourceConfig()));
    expect(r.code).toBe(EXIT.config);
    expect(r.stderr).toBe('clone-and-upload: error: invalid config s3://config-bucket/webhook/dev/d1.json: the config file is not JSON: Unexpected end of JSON input\n');
  });

  test('invalid: exit 3 with the reason', async () => {
    givenConfig(JSON.stringify({ ...sourceConfig(), commit: { ...sourceConfig().commit, sha: '--upload-pack=touch /tmp/pwned' } }));
    const git = fakeGit(sourceConfig());
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.config);
    expect(r.stderr).toBe('clone-and-upload: error: invalid config s3://config-bucket/webhook/dev/d1.json: commit.sha must be a 40 or 64 hex digit commit id, got "--upload-pack=touch /tmp/pwned"\n');
    expect(git.created).toEqual([]);
  });

  test('read as UTF-8', async () => {
    const config = sourceConfig({ branch: 'grün' });
    givenConfig(config);
    const r = await runMain(env(), fakeGit(config));
    expect(r.code).toBe(EXIT.ok);
    expect(r.lines[0]).toContain('refs/heads/grün at');
  });

  test.each([
    ['another host', 'https://evil.example.com/acme/web-shop.git', 'is not under the configured GitLab URL https://gitlab.example.com'],
    ['another project', `${GITLAB}/acme/internal-tools.git`, 'has the repository path "acme/internal-tools.git", not the routed project acme/web-shop (expected https://gitlab.example.com/acme/web-shop.git; compared case-insensitively, ".git" optional)'],
  ])('a clone URL on %s: exit 3 before git is made', async (_what, httpUrl, problem) => {
    const config = sourceConfig({ httpUrl });
    givenConfig(config);
    const git = fakeGit(config);
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.config);
    expect(r.lines).toEqual([`clone-and-upload: config s3://config-bucket/webhook/dev/d1.json: acme/web-shop refs/heads/main at ${SHA} -> s3://artifact-bucket/software/acme/main.zip`]);
    expect(r.stderr).toBe(
      `clone-and-upload: error: the clone URL project.httpUrl ${JSON.stringify(httpUrl)} ${problem} (GITLAB_URL=${GITLAB}, project.path=acme/web-shop); refusing to fetch it\n`,
    );
    expect(git.created).toEqual([]);
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });
});

describe('main: errors', () => {
  test('invalid settings: exit 2, every problem, no S3 request', async () => {
    const r = await runMain(env({ GITLAB_DEPLOY_TOKEN: undefined, ARTIFACT_KMS_KEY_ARN: '' }), fakeGit(sourceConfig()));
    expect(r.code).toBe(EXIT.settings);
    expect(r.stderr).toBe('clone-and-upload: error: invalid settings:\n  - ARTIFACT_KMS_KEY_ARN is required\n  - GITLAB_DEPLOY_TOKEN is required\n');
    expect(s3.calls()).toHaveLength(0);
  });

  test('the upload fails: exit 7 with the S3 error', async () => {
    const config = sourceConfig();
    givenConfig(config);
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const r = await runMain(env(), fakeGit(config));
    expect(r.code).toBe(EXIT.upload);
    expect(r.stderr).toBe('clone-and-upload: error: upload to s3://artifact-bucket/software/acme/main.zip failed: AccessDenied: Access Denied\n');
    expect(r.lines).toHaveLength(2);
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });

  test.each([
    ['an unexpected error from git', () => new TypeError('spawn went wrong'), 'spawn went wrong'],
    ['a thrown non-error', () => 'a string', 'a string'],
  ])('%s: exit 1 with its message', async (_what, thrown, message) => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, {
      checkout: () => {
        throw thrown();
      },
    });
    const r = await runMain(env(), git);
    expect(r.code).toBe(EXIT.unexpected);
    expect(r.stderr).toBe(`clone-and-upload: error: ${message}\n`);
    expect(fs.readdirSync(workRoot)).toEqual([]);
  });

  test('an error of the config parser that is not a SourceConfigError (a bug) is unexpected: exit 1, not 3', async () => {
    givenConfig(sourceConfig());
    const parse = jest.spyOn(sourceConfigModule, 'parseSourceConfig').mockImplementation(() => {
      throw new TypeError('parser bug');
    });
    try {
      const r = await runMain(env(), fakeGit(sourceConfig()));
      expect(r.code).toBe(EXIT.unexpected);
      expect(r.stderr).toBe('clone-and-upload: error: parser bug\n');
    } finally {
      parse.mockRestore();
    }
  });

  test('a work directory that is already gone when the program cleans up does not turn the result into an error', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const git = fakeGit(config, {
      'ls-remote': (_args, cwd) => {
        fs.rmSync(path.dirname(cwd), { recursive: true });
        return { stdout: `${NEWER}\trefs/heads/main\n` };
      },
    });
    const r = await runMain(env(), git);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.lines.pop() as string)).toMatchObject({ result: 'skipped', current: NEWER });
  });

  test('an unexpected error in the direct fetch: exit 1', async () => {
    const config = sourceConfig();
    givenConfig(config);
    const r = await runMain(
      env(),
      fakeGit(config, {
        fetch: () => {
          throw new RangeError('out of range');
        },
      }),
    );
    expect(r.code).toBe(EXIT.unexpected);
    expect(r.stderr).toBe('clone-and-upload: error: out of range\n');
  });

  test.each([
    ['the token', TOKEN, 'cannot read s3://config-bucket/webhook/dev/d1.json: Error: denied for *** and ***'],
    ['a token of 4 characters', 'abcd', 'cannot read s3://config-bucket/webhook/dev/d1.json: Error: denied for *** and ***'],
    ['not a token of 3 characters', 'abc', 'cannot read s3://config-bucket/webhook/dev/d1.json: Error: denied for abc and abc'],
  ])('the error message shows %s as ***', async (_what, token, message) => {
    s3.on(GetObjectCommand).rejects(new Error(`denied for ${token} and ${token}`));
    const r = await runMain(env({ GITLAB_DEPLOY_TOKEN: token }), fakeGit(sourceConfig()));
    expect(r.stderr).toBe(`clone-and-upload: error: ${message}\n`);
  });

  test('without a token there is nothing to hide', async () => {
    const r = await runMain(env({ GITLAB_DEPLOY_TOKEN: undefined }), fakeGit(sourceConfig()));
    expect(r.stderr).toBe('clone-and-upload: error: invalid settings:\n  - GITLAB_DEPLOY_TOKEN is required\n');
  });
});

describe('main as the program runs it: process streams, createGit with the PATH of its env', () => {
  test('progress on stdout, the error on stderr, git from the env\'s PATH', async () => {
    const bin = path.join(workRoot, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'git'), '#!/bin/sh\necho "fatal: unable to access: Could not resolve host" >&2\nexit 128\n', { mode: 0o755 });
    givenConfig(sourceConfig());
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main(env({ PATH: bin, WORK_DIR: path.join(workRoot) }));
      expect(code).toBe(EXIT.fetch);
      expect(stdout.mock.calls).toEqual([[`clone-and-upload: config s3://config-bucket/webhook/dev/d1.json: acme/web-shop refs/heads/main at ${SHA} -> s3://artifact-bucket/software/acme/main.zip\n`]]);
      expect(stderr.mock.calls).toEqual([['clone-and-upload: error: git init failed: fatal: unable to access: Could not resolve host\n']]);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(fs.readdirSync(workRoot)).toEqual(['bin']);
  });
});

describe('cloneAndUpload', () => {
  test('throws a Failure with the exit code; does not destroy the caller\'s S3 client', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchBucket' }));
    const client = new S3Client({});
    const destroy = jest.spyOn(client, 'destroy');
    const failure = cloneAndUpload(readSettings(env()), () => undefined, { s3: client, createGit: fakeGit(sourceConfig()).createGit });
    await expect(failure).rejects.toBeInstanceOf(Failure);
    await expect(failure).rejects.toMatchObject({ name: 'Failure', exitCode: EXIT.config, message: 'cannot read s3://config-bucket/webhook/dev/d1.json: NoSuchBucket: gone' });
    expect(destroy).not.toHaveBeenCalled();
  });
});
