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
/** The annotated tag v1 (on commits[1]): its object id, which a tag push sends as `after`. */
let tagObject: string;
let bareRepo: string;

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
  // main is at commits[2]; release and race at commits[1]; v1 is an annotated tag of commits[1].
  git(work, ['branch', 'release', commits[1] as string]);
  git(work, ['branch', 'race', commits[1] as string]);
  git(work, ['tag', '-a', 'v1', '-m', 'version 1', commits[1] as string]);
  tagObject = git(work, ['rev-parse', 'refs/tags/v1']);
  fs.mkdirSync(path.join(tmp, 'srv', 'acme'), { recursive: true });
  bareRepo = path.join(tmp, 'srv', 'acme', 'web-shop.git');
  git(tmp, ['clone', '--quiet', '--bare', work, bareRepo]);
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

/** A config for acme/web-shop; by default the tip of main (commits[2]). */
function sourceConfig(overrides: { sha?: string; customer?: string; httpUrl?: string; branch?: string; tag?: string } = {}): SourceConfig {
  const customer = overrides.customer ?? 'acme';
  const sha = overrides.sha ?? (commits[2] as string);
  const branch = overrides.tag ?? overrides.branch ?? 'main';
  return {
    version: 1,
    environment: 'dev',
    deliveryKey: '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
    eventUuid: 'c3a1e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c24',
    event: 'Push Hook',
    receivedAt: '2025-03-01T12:00:05.000Z',
    project: { id: 4711, path: 'acme/web-shop', httpUrl: overrides.httpUrl ?? `${gitServer.url}/acme/web-shop.git`, sshUrl: 'git@gitlab.example.com:acme/web-shop.git' },
    ref: overrides.tag !== undefined ? `refs/tags/${branch}` : `refs/heads/${branch}`,
    refType: overrides.tag !== undefined ? 'tag' : 'branch',
    branch,
    before: overrides.tag !== undefined ? '0'.repeat(40) : (commits[0] as string),
    after: overrides.tag !== undefined ? tagObject : sha,
    commit: { sha, message: 'second', authorName: 'Test', authorEmail: 'test@example.com', timestamp: '2025-03-01T11:00:00Z' },
    customer,
    kind: 'software',
    targetKey: targetKeyOf('software', customer, branch),
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
          // Mutation testing (docs/MUTATION.md): the mutant Stryker has switched on in this process.
          __STRYKER_ACTIVE_MUTANT__: process.env.__STRYKER_ACTIVE_MUTANT__,
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

/** The JSON result line the program prints last on stdout. */
const lastLine = (r: Run): unknown => JSON.parse(r.output.split('\n').filter((l) => l.startsWith('{')).pop() ?? 'null');

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

test('uploads the requested commit (the tip of release, older than main), not main, with its metadata', async () => {
  await putConfig('webhook/dev/ok.json', JSON.stringify(sourceConfig({ branch: 'release', sha: commits[1] })));
  const before = { ...gitServer.stats };
  const r = await run({ CONFIG_KEY: 'webhook/dev/ok.json' });
  expect(r.code).toBe(0);
  expectNoToken(r);
  expect(r.output).toContain(`checked out acme/web-shop at ${commits[1]}`);
  expect(lastLine(r)).toEqual({ result: 'uploaded', bucket: BUCKET, key: 'software/acme/release.zip', commit: commits[1], bytes: expect.any(Number) });

  const files = await unzipObject('software/acme/release.zip');
  expect(files['README.md']).toBe('v2\n');
  expect(files['docs/guide.md']).toBe('# Guide\n');
  expect(files['src/app.js']).toBe('console.log(1);\n');
  expect(files['new.txt']).toBeUndefined();
  expect(Object.keys(files).filter((n) => n === '.git' || n.startsWith('.git/'))).toEqual([]);

  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'software/acme/release.zip' }));
  expect(head.Metadata).toEqual({
    'commit-sha': commits[1],
    ref: 'refs/heads/release',
    'project-path': 'acme/web-shop',
    'event-uuid': 'c3a1e5f7-9b2d-4f6a-8c0e-1d3f5a7b9c24',
    'delivery-key': '0f4b7d2e-6a1c-4e8f-9b3d-2c5a7e9f1b40',
  });
  // git was challenged (401) and answered with the deploy token from the credential helper.
  expect(gitServer.stats.refused).toBeGreaterThan(before.refused);
  expect(gitServer.stats.authorized).toBeGreaterThan(before.authorized);
});

test('falls back to fetching the ref when the server refuses a fetch by commit id; a commit behind the tip is then skipped', async () => {
  // A protocol-v0 server only gives out advertised tips; with the tip check, a commit it refuses
  // is one the branch has moved past, so the fallback fetch ends in a skip.
  const v0 = await startGitServer(path.join(tmp, 'srv'), USER, TOKEN, { protocolV0: true });
  try {
    // commits[0] is no ref's tip (commits[1] is the tip of release and the target of tag v1).
    await putConfig('webhook/dev/v0.json', JSON.stringify(sourceConfig({ customer: 'fallback', sha: commits[0], httpUrl: `${v0.url}/acme/web-shop.git` })));
    const r = await run({ CONFIG_KEY: 'webhook/dev/v0.json', GITLAB_URL: v0.url });
    expect(r.output).toMatch(/fetching [0-9a-f]{40} directly failed .*; fetching refs\/heads\/main instead/);
    expect(r.output).toContain(`checked out acme/web-shop at ${commits[0]}`);
    expect(r.output).toContain(`skipped: branch main moved on from ${commits[0]} to ${commits[2]}`);
    expect(r.code).toBe(0);
    expectNoToken(r);
    expect(await exists('software/fallback/main.zip')).toBe(false);
  } finally {
    await v0.close();
  }
});

describe('stale deliveries: the requested commit must still be the tip of its ref (issue 11 item 8)', () => {
  test('a resend of an older push after a newer push was built is skipped (exit 0) and leaves the newer zip', async () => {
    await putConfig('webhook/dev/newer.json', JSON.stringify(sourceConfig({ customer: 'stale' })));
    const newer = await run({ CONFIG_KEY: 'webhook/dev/newer.json' });
    expect(newer.code).toBe(0);
    expect((await unzipObject('software/stale/main.zip'))['README.md']).toBe('v3\n');

    await putConfig('webhook/dev/older.json', JSON.stringify(sourceConfig({ customer: 'stale', sha: commits[1] })));
    const older = await run({ CONFIG_KEY: 'webhook/dev/older.json' });
    expect(older.code).toBe(0);
    expect(older.output).toContain(
      `clone-and-upload: skipped: branch main moved on from ${commits[1]} to ${commits[2]}; not uploading the requested commit, s3://${BUCKET}/software/stale/main.zip is left as it is`,
    );
    expect(lastLine(older)).toEqual({ result: 'skipped', reason: 'ref moved', ref: 'refs/heads/main', commit: commits[1], current: commits[2], bucket: BUCKET, key: 'software/stale/main.zip' });
    expectNoToken(older);
    // The newer build's zip is untouched.
    expect((await unzipObject('software/stale/main.zip'))['README.md']).toBe('v3\n');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'software/stale/main.zip' }));
    expect(head.Metadata?.['commit-sha']).toBe(commits[2]);
  });

  test('a branch that no longer exists is skipped and nothing is uploaded', async () => {
    await putConfig('webhook/dev/gone.json', JSON.stringify(sourceConfig({ customer: 'gone', branch: 'gone', sha: commits[1] })));
    const r = await run({ CONFIG_KEY: 'webhook/dev/gone.json' });
    expect(r.code).toBe(0);
    expect(r.output).toContain(`skipped: branch gone no longer exists in acme/web-shop (requested ${commits[1]})`);
    expect(lastLine(r)).toMatchObject({ result: 'skipped', reason: 'ref deleted', current: null });
    expect(await exists('software/gone/gone.zip')).toBe(false);
  });

  test('an annotated tag is compared by the commit it points to: the tagged commit is uploaded', async () => {
    await putConfig('webhook/dev/tag.json', JSON.stringify(sourceConfig({ customer: 'tagged', tag: 'v1', sha: commits[1] })));
    const r = await run({ CONFIG_KEY: 'webhook/dev/tag.json' });
    expect(r.code).toBe(0);
    expect(lastLine(r)).toMatchObject({ result: 'uploaded', key: 'software/tagged/v1.zip', commit: commits[1] });
    expect((await unzipObject('software/tagged/v1.zip'))['README.md']).toBe('v2\n');
  });

  test('a tag that now points to another commit is skipped', async () => {
    await putConfig('webhook/dev/tag-moved.json', JSON.stringify(sourceConfig({ customer: 'tagmoved', tag: 'v1', sha: commits[0] })));
    const r = await run({ CONFIG_KEY: 'webhook/dev/tag-moved.json' });
    expect(r.code).toBe(0);
    expect(r.output).toContain(`skipped: tag v1 now points to ${commits[1]}, not ${commits[0]}`);
    expect(await exists('software/tagmoved/v1.zip')).toBe(false);
  });

  test('the tip is checked after the archive, right before the upload: a push during the build is seen', async () => {
    // A git that moves the branch 'race' on the server (commits[1] → commits[2]) once the zip is made.
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const dir = path.join(tmp, 'racing-git-bin');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'git'),
      ['#!/bin/sh', `${JSON.stringify(realGit)} "$@" || exit $?`, 'if [ "$1" = archive ]; then', `  ${JSON.stringify(realGit)} --git-dir=${JSON.stringify(bareRepo)} update-ref refs/heads/race ${commits[2]} ${commits[1]}`, 'fi', ''].join('\n'),
      { mode: 0o755 },
    );
    await putConfig('webhook/dev/race.json', JSON.stringify(sourceConfig({ customer: 'race', branch: 'race', sha: commits[1] })));
    const r = await run({ CONFIG_KEY: 'webhook/dev/race.json', PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` });
    expect(r.output).toContain(`checked out acme/web-shop at ${commits[1]}`);
    expect(r.output).toContain(`skipped: branch race moved on from ${commits[1]} to ${commits[2]}`);
    expect(r.code).toBe(0);
    expect(await exists('software/race/race.zip')).toBe(false);
  });
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
