/**
 * The bundled clone-and-upload program for real: a local git repository served over smart HTTP
 * behind a deploy token, a local S3 server (s3rver), and the bundle run in a child process.
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { unzipSync, strFromU8 } from 'fflate';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { bundleCloneAndUpload } from '../../lambdas/build';
import { SourceConfig, targetKeyOf } from '../../lambdas/shared/source-config';
import { GitServer, LocalS3, git, startGitServer, startS3 } from './helpers/local-servers';

const BUCKET = 'artifacts-test';
const TOKEN = 'gldt-Zq8xY2wV4uT6sR1pO3nM';
const USER = 'gitlab+deploy-token-7';
const KMS = 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

let tmp: string;
let s3Server: LocalS3;
let gitServer: GitServer;
let s3: S3Client;
let bundle: string;
const commits: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clone-test-'));
  const work = path.join(tmp, 'work');
  fs.mkdirSync(work);
  git(work, ['init', '--quiet']);
  const commit = (files: Record<string, string | null>, message: string, date: string) => {
    for (const [f, content] of Object.entries(files)) {
      const p = path.join(work, f);
      if (content === null) fs.rmSync(p);
      else {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content);
      }
    }
    git(work, ['add', '-A']);
    git(work, ['commit', '--quiet', '-m', message], date);
    commits.push(git(work, ['rev-parse', 'HEAD']));
  };
  commit({ 'README.md': 'v1\n', 'src/app.js': 'console.log(1);\n' }, 'first', '2025-03-01T10:00:00Z');
  commit({ 'README.md': 'v2\n', 'docs/guide.md': '# Guide\n' }, 'second', '2025-03-01T11:00:00Z');
  commit({ 'README.md': 'v3\n', 'docs/guide.md': null, 'new.txt': 'new\n' }, 'third', '2025-03-01T12:00:00Z');
  fs.mkdirSync(path.join(tmp, 'srv', 'acme'), { recursive: true });
  git(tmp, ['clone', '--quiet', '--bare', work, path.join(tmp, 'srv', 'acme', 'web-shop.git')]);
  // Another project on the same GitLab, readable with the same deploy token.
  const other = path.join(tmp, 'other');
  fs.mkdirSync(other);
  git(other, ['init', '--quiet']);
  fs.writeFileSync(path.join(other, 'README.md'), 'internal tools\n');
  git(other, ['add', '-A']);
  git(other, ['commit', '--quiet', '-m', 'internal']);
  git(tmp, ['clone', '--quiet', '--bare', other, path.join(tmp, 'srv', 'acme', 'internal-tools.git')]);

  s3Server = await startS3(path.join(tmp, 's3'), [BUCKET]);
  gitServer = await startGitServer(path.join(tmp, 'srv'), USER, TOKEN);
  s3 = new S3Client({ region: 'us-east-1', endpoint: s3Server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  bundle = bundleCloneAndUpload(path.join(tmp, 'bundle'));
});

afterAll(async () => {
  s3?.destroy();
  await gitServer?.close();
  await s3Server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function sourceConfig(overrides: { sha?: string; customer?: string; httpUrl?: string } = {}): SourceConfig {
  const customer = overrides.customer ?? 'acme';
  const sha = overrides.sha ?? (commits[1] as string);
  return {
    version: 1,
    environment: 'dev',
    deliveryKey: '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
    eventUuid: 'c3a1e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c24',
    event: 'Push Hook',
    receivedAt: '2025-03-01T12:00:05.000Z',
    project: { id: 4711, path: 'acme/web-shop', httpUrl: overrides.httpUrl ?? `${gitServer.url}/acme/web-shop.git`, sshUrl: 'git@gitlab.example.com:acme/web-shop.git' },
    ref: 'refs/heads/main',
    refType: 'branch',
    branch: 'main',
    before: commits[0] as string,
    after: sha,
    commit: { sha, message: 'second', authorName: 'Test', authorEmail: 'test@example.com', timestamp: '2025-03-01T11:00:00Z' },
    customer,
    kind: 'software',
    targetKey: targetKeyOf('software', customer, 'main'),
  };
}

async function putConfig(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

interface Run {
  readonly code: number;
  readonly output: string;
}

function run(env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bundle],
      {
        cwd: tmp,
        env: {
          PATH: process.env.PATH,
          HOME: tmp,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_ENDPOINT_URL_S3: s3Server.endpoint,
          NODE_NO_WARNINGS: '1',
          CONFIG_BUCKET: BUCKET,
          ARTIFACT_BUCKET: BUCKET,
          ARTIFACT_KMS_KEY_ARN: KMS,
          GITLAB_URL: gitServer.url,
          GITLAB_DEPLOY_TOKEN_USER: USER,
          GITLAB_DEPLOY_TOKEN: TOKEN,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function unzipObject(key: string): Promise<Record<string, string>> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const files = unzipSync(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, strFromU8(data)]));
}

const expectNoToken = (r: Run) => {
  expect(r.output).not.toContain(TOKEN);
  expect(r.output).not.toContain(Buffer.from(`${USER}:${TOKEN}`).toString('base64'));
};

test('uploads the requested (older) commit, not the branch head, with its metadata', async () => {
  await putConfig('webhook/dev/ok.json', JSON.stringify(sourceConfig()));
  const before = { ...gitServer.stats };
  const r = await run({ CONFIG_KEY: 'webhook/dev/ok.json' });
  expect(r.code).toBe(0);
  expectNoToken(r);
  expect(r.output).toContain(`checked out acme/web-shop at ${commits[1]}`);

  const files = await unzipObject('software/acme/main.zip');
  expect(files['README.md']).toBe('v2\n');
  expect(files['docs/guide.md']).toBe('# Guide\n');
  expect(files['src/app.js']).toBe('console.log(1);\n');
  expect(files['new.txt']).toBeUndefined();
  expect(Object.keys(files).filter((n) => n === '.git' || n.startsWith('.git/'))).toEqual([]);

  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'software/acme/main.zip' }));
  expect(head.Metadata).toEqual({
    'commit-sha': commits[1],
    ref: 'refs/heads/main',
    'project-path': 'acme/web-shop',
    'event-uuid': 'c3a1e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c24',
    'delivery-key': '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
  });
  // git was challenged (401) and answered with the deploy token from the credential helper.
  expect(gitServer.stats.refused).toBeGreaterThan(before.refused);
  expect(gitServer.stats.authorized).toBeGreaterThan(before.authorized);
});

test('falls back to fetching the ref when the server refuses a fetch by commit id', async () => {
  const v0 = await startGitServer(path.join(tmp, 'srv'), USER, TOKEN, { protocolV0: true });
  try {
    await putConfig('webhook/dev/v0.json', JSON.stringify(sourceConfig({ customer: 'fallback', httpUrl: `${v0.url}/acme/web-shop.git` })));
    const r = await run({ CONFIG_KEY: 'webhook/dev/v0.json', GITLAB_URL: v0.url });
    expect(r.output).toMatch(/fetching [0-9a-f]{40} directly failed .*; fetching refs\/heads\/main instead/);
    expect(r.code).toBe(0);
    expectNoToken(r);
    expect((await unzipObject('software/fallback/main.zip'))['README.md']).toBe('v2\n');
  } finally {
    await v0.close();
  }
});

test('an unknown commit fails with exit code 4 and uploads nothing', async () => {
  await putConfig('webhook/dev/unknown.json', JSON.stringify(sourceConfig({ sha: 'deadbeef'.repeat(5), customer: 'unknown' })));
  const r = await run({ CONFIG_KEY: 'webhook/dev/unknown.json' });
  expect(r.code).toBe(4);
  expect(r.output).toContain(`commit ${'deadbeef'.repeat(5)} is not in acme/web-shop`);
  expectNoToken(r);
  expect(await exists('software/unknown/main.zip')).toBe(false);
});

test('a wrong deploy token fails with exit code 4 and shows neither token', async () => {
  await putConfig('webhook/dev/denied.json', JSON.stringify(sourceConfig({ customer: 'denied' })));
  const wrong = 'gldt-wrong-token-value-123';
  const r = await run({ CONFIG_KEY: 'webhook/dev/denied.json', GITLAB_DEPLOY_TOKEN: wrong });
  expect(r.code).toBe(4);
  expect(r.output).toMatch(/Authentication failed/);
  expect(r.output).not.toContain(wrong);
  expectNoToken(r);
  expect(await exists('software/denied/main.zip')).toBe(false);
});

test('a clone URL outside GITLAB_URL is refused before any request (exit 3)', async () => {
  await putConfig('webhook/dev/elsewhere.json', JSON.stringify(sourceConfig({ customer: 'elsewhere', httpUrl: 'http://127.0.0.2:9/acme/web-shop.git' })));
  const before = gitServer.stats.authorized + gitServer.stats.refused;
  const r = await run({ CONFIG_KEY: 'webhook/dev/elsewhere.json' });
  expect(r.code).toBe(3);
  expect(r.output).toContain(`is not under the configured GitLab URL ${gitServer.url}`);
  expect(gitServer.stats.authorized + gitServer.stats.refused).toBe(before);
});

test('a clone URL naming another project of the same GitLab is refused before any request (exit 3)', async () => {
  // acme/internal-tools exists and the deploy token can read it: without the check its code would
  // be built into acme/web-shop's zip.
  await putConfig('webhook/dev/other-project.json', JSON.stringify(sourceConfig({ customer: 'otherproject', httpUrl: `${gitServer.url}/acme/internal-tools.git` })));
  const before = gitServer.stats.authorized + gitServer.stats.refused;
  const r = await run({ CONFIG_KEY: 'webhook/dev/other-project.json' });
  expect(r.code).toBe(3);
  expect(r.output).toContain('has the repository path "acme/internal-tools.git", not the routed project acme/web-shop');
  expect(r.output).toContain('refusing to fetch it');
  expect(gitServer.stats.authorized + gitServer.stats.refused).toBe(before);
  expect(await exists('software/otherproject/main.zip')).toBe(false);
});

test('GitLab under a relative URL root: the project below GITLAB_URL is fetched, another project is refused', async () => {
  const rooted = await startGitServer(path.join(tmp, 'srv'), USER, TOKEN, { prefix: '/gitlab' });
  try {
    expect(rooted.url).toMatch(/\/gitlab$/);
    await putConfig('webhook/dev/rooted.json', JSON.stringify(sourceConfig({ customer: 'rooted', httpUrl: `${rooted.url}/acme/web-shop.git` })));
    const ok = await run({ CONFIG_KEY: 'webhook/dev/rooted.json', GITLAB_URL: `${rooted.url}/` });
    expect(ok.code).toBe(0);
    expect(await exists('software/rooted/main.zip')).toBe(true);

    await putConfig('webhook/dev/rooted-other.json', JSON.stringify(sourceConfig({ customer: 'rootedother', httpUrl: `${rooted.url}/acme/internal-tools.git` })));
    const before = rooted.stats.authorized + rooted.stats.refused;
    const other = await run({ CONFIG_KEY: 'webhook/dev/rooted-other.json', GITLAB_URL: rooted.url });
    expect(other.code).toBe(3);
    expect(other.output).toContain(`has the repository path "acme/internal-tools.git", not the routed project acme/web-shop (expected ${rooted.url}/acme/web-shop.git;`);
    expect(rooted.stats.authorized + rooted.stats.refused).toBe(before);
    expect(await exists('software/rootedother/main.zip')).toBe(false);
  } finally {
    await rooted.close();
  }
});

/**
 * A `git` for the child's PATH (the program runs the first `git` on PATH): the real git, except that
 * after `checkout` it commits once more, so HEAD really is not the requested commit (same tree).
 */
function gitLandingElsewhere(): string {
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const dir = path.join(tmp, 'fake-git-bin');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'git'),
    [
      '#!/bin/sh',
      `${JSON.stringify(realGit)} "$@" || exit $?`,
      'if [ "$1" = checkout ]; then',
      `  ${JSON.stringify(realGit)} -c user.name=fake -c user.email=fake@example.com commit --quiet --allow-empty -m "not the requested commit" || exit $?`,
      'fi',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return dir;
}

test('a git whose HEAD is not the requested commit after checkout fails with exit code 5 and uploads nothing', async () => {
  await putConfig('webhook/dev/head.json', JSON.stringify(sourceConfig({ customer: 'wronghead' })));
  const r = await run({ CONFIG_KEY: 'webhook/dev/head.json', PATH: `${gitLandingElsewhere()}${path.delimiter}${process.env.PATH ?? ''}` });
  const uploaded = await exists('software/wronghead/main.zip');
  expect({ code: r.code, uploaded }).toEqual({ code: 5, uploaded: false });
  expect(r.output).toMatch(new RegExp(`HEAD is [0-9a-f]{40}, expected ${sourceConfig().commit.sha}`));
  expectNoToken(r);
});

test('an invalid config file (option-like commit id) fails with exit code 3', async () => {
  const bad = { ...sourceConfig(), commit: { ...sourceConfig().commit, sha: '--upload-pack=touch /tmp/pwned' } };
  await putConfig('webhook/dev/bad.json', JSON.stringify(bad));
  const r = await run({ CONFIG_KEY: 'webhook/dev/bad.json' });
  expect(r.code).toBe(3);
  expect(r.output).toContain('commit.sha must be a 40 or 64 hex digit commit id');
});

test('a missing config object fails with exit code 3; missing settings with exit code 2', async () => {
  expect((await run({ CONFIG_KEY: 'webhook/dev/nope.json' })).code).toBe(3);
  const r = await run({ CONFIG_KEY: 'webhook/dev/ok.json', GITLAB_DEPLOY_TOKEN: undefined, ARTIFACT_KMS_KEY_ARN: undefined });
  expect(r.code).toBe(2);
  expect(r.output).toContain('GITLAB_DEPLOY_TOKEN is required');
  expect(r.output).toContain('ARTIFACT_KMS_KEY_ARN is required');
});
