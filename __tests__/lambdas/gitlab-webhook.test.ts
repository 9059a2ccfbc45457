import { createHash } from 'crypto';
import { createLogger } from '../../lambdas/gitlab-webhook/log';
import { StartBuildCommand } from '@aws-sdk/client-codebuild';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import {
  FakeAws,
  KMS_KEY,
  NOW_MS,
  SIGNING_KEY,
  TOKEN,
  apiEvent,
  baseInput,
  deliveryHeaders,
  fixture,
  fixtureText,
  parseBody,
  pushEvent,
  s3SlowDown,
  signatureHeaders,
  sqsEvent,
  testHandler,
  testWorker,
  throttled,
} from './helpers/webhook';

const PUSH = fixture<{ after: string; before: string; commits: Array<{ id: string; message: string; timestamp: string; author: { name: string; email: string } }> }>('push.json');
const IDEMPOTENCY_KEY = deliveryHeaders()['Idempotency-Key'] as string;
const CONFIG_KEY = `webhook/dev/${IDEMPOTENCY_KEY}.json`;

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

const nothingWritten = () => {
  expect(aws.calls('PutObject')).toBe(0);
  expect(aws.calls('StartBuild')).toBe(0);
};

describe('accepted push (202 queued; the worker writes the config and starts the build)', () => {
  test('an infrastructure repository starts the infrastructure project (each kind has its own build role)', async () => {
    const t = testHandler();
    const body = JSON.parse(fixtureText('push.json'));
    body.project.path_with_namespace = 'acme/platform';
    body.project.git_http_url = 'https://gitlab.example.com/acme/platform.git';
    body.project.git_ssh_url = 'git@gitlab.example.com:acme/platform.git';
    body.repository.git_http_url = body.project.git_http_url;
    body.repository.git_ssh_url = body.project.git_ssh_url;
    body.ref = 'refs/heads/main';
    const res = await t.handle(pushEvent({ body: JSON.stringify(body) }));
    await t.work();
    expect(res.statusCode).toBe(202);
    const start = aws.codebuild.commandCalls(StartBuildCommand);
    expect(start.map((c) => c.args[0].input.projectName)).toEqual([baseInput.codebuildProjects.infrastructure]);
    expect(JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}')).toMatchObject({ kind: 'infrastructure', targetKey: 'infrastructure/acme/main.zip' });
  });

  test('writes the config file with SSE-KMS and If-None-Match, starts one build and records it', async () => {
    const t = testHandler();
    const res = await t.handle(pushEvent(), { awsRequestId: 'lambda-req-1' });
    await t.work();

    expect(res.statusCode).toBe(202);
    expect(parseBody(res)).toEqual({ status: 'queued', deliveryKey: IDEMPOTENCY_KEY });
    const [message] = aws.sent;
    expect(message).toMatchObject({ QueueUrl: baseInput.deliveryQueueUrl, MessageAttributes: { deliveryKey: { DataType: 'String', StringValue: IDEMPOTENCY_KEY } } });
    expect(JSON.parse(message?.MessageBody ?? '{}')).toMatchObject({ deliveryKey: IDEMPOTENCY_KEY, targetKey: 'software/acme/main.zip' });

    const put = aws.object(CONFIG_KEY);
    expect(put?.input).toMatchObject({ Bucket: baseInput.artifactBucket, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY, IfNoneMatch: '*', ContentType: 'application/json' });

    const start = aws.codebuild.commandCalls(StartBuildCommand);
    expect(start).toHaveLength(1);
    expect(start[0]?.args[0].input).toEqual({
      projectName: 'wvm-dev-source-fetch',
      idempotencyToken: createHash('sha256').update(`dev/${IDEMPOTENCY_KEY}`).digest('hex'),
      environmentVariablesOverride: [
        { name: 'CONFIG_BUCKET', value: baseInput.artifactBucket, type: 'PLAINTEXT' },
        { name: 'CONFIG_KEY', value: CONFIG_KEY, type: 'PLAINTEXT' },
      ],
    });
    const record = aws.object(`webhook/dev/${IDEMPOTENCY_KEY}.build.json`);
    expect(JSON.parse(record?.body ?? '{}')).toMatchObject({ buildId: 'wvm-dev-source-fetch:00000001-build', deliveryKey: IDEMPOTENCY_KEY });
    expect(record?.input).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY });
  });

  test('the config file holds project, clone URLs, ref, commit details, event UUID and target', async () => {
    const t = testHandler();
    await t.handle(pushEvent());
    await t.work();
    const config = JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}') as Record<string, unknown>;
    const last = PUSH.commits[1];
    expect(config).toEqual({
      version: 1,
      environment: 'dev',
      deliveryKey: IDEMPOTENCY_KEY,
      eventUuid: deliveryHeaders()['X-Gitlab-Event-UUID'],
      event: 'Push Hook',
      receivedAt: new Date(NOW_MS).toISOString(),
      project: {
        id: 4711,
        path: 'acme/web-shop',
        httpUrl: 'https://gitlab.example.com/acme/web-shop.git',
        sshUrl: 'git@gitlab.example.com:acme/web-shop.git',
      },
      ref: 'refs/heads/main',
      refType: 'branch',
      branch: 'main',
      before: PUSH.before,
      after: PUSH.after,
      commit: { sha: PUSH.after, message: last?.message, authorName: last?.author.name, authorEmail: last?.author.email, timestamp: last?.timestamp },
      customer: 'acme',
      kind: 'software',
      targetKey: 'software/acme/main.zip',
    });
  });

  test('commit details are null when commits[] does not list the pushed commit', async () => {
    const t = testHandler();
    const body = { ...fixture('push.json'), commits: [] };
    await t.handle(pushEvent({ body: JSON.stringify(body) }));
    await t.work();
    const config = JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}') as { commit: unknown };
    expect(config.commit).toEqual({ sha: PUSH.after, message: null, authorName: null, authorEmail: null, timestamp: null });
  });

  test('header names are case-insensitive', async () => {
    const t = testHandler();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...deliveryHeaders(), 'X-Gitlab-Token': TOKEN })) headers[k.toUpperCase()] = v;
    headers['x-GitLab-event'] = headers['X-GITLAB-EVENT'] as string;
    delete headers['X-GITLAB-EVENT'];
    const res = await t.handle(apiEvent({ body: fixtureText('push.json'), headers }));
    await t.work();
    expect(res.statusCode).toBe(202);
    expect(aws.object(CONFIG_KEY)).toBeDefined();
  });

  test('base64-encoded bodies are decoded', async () => {
    const t = testHandler();
    const res = await t.handle(apiEvent({ body: Buffer.from(fixtureText('push.json')).toString('base64'), isBase64Encoded: true, headers: { ...deliveryHeaders(), 'x-gitlab-token': TOKEN } }));
    await t.work();
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}')).toMatchObject({ commit: { sha: PUSH.after } });
  });

  test('tag pushes build the tagged commit (checkout_sha) when TAG_PUSHES=true', async () => {
    const t = testHandler({ tagPushes: true });
    const res = await t.handle(pushEvent({ body: fixtureText('tag-push.json'), event: 'Tag Push Hook' }));
    await t.work();
    expect(res.statusCode).toBe(202);
    const config = JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}') as Record<string, unknown>;
    expect(config).toMatchObject({ refType: 'tag', branch: 'v1.2.0', ref: 'refs/tags/v1.2.0', targetKey: 'software/acme/v1.2.0.zip', commit: { sha: PUSH.after } });
    expect(config.after).not.toBe(PUSH.after);
  });

  test('project paths match case-insensitively; infrastructure routes get infrastructure keys', async () => {
    const t = testHandler();
    const body = fixture<Record<string, Record<string, unknown>>>('push.json');
    body.project = { ...body.project, path_with_namespace: 'ACME/Platform', git_http_url: 'https://gitlab.example.com/ACME/Platform.git', git_ssh_url: 'git@gitlab.example.com:ACME/Platform.git' };
    const res = await t.handle(pushEvent({ body: JSON.stringify(body) }));
    await t.work();
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}')).toMatchObject({ kind: 'infrastructure', targetKey: 'infrastructure/acme/main.zip' });
  });
});

describe('events that need no build (200 with a reason)', () => {
  // Every row has all five columns: jest treats a test function with more parameters than the row as callback-style.
  const cases: ReadonlyArray<[string, string, string, RegExp, Partial<typeof baseInput>]> = [
    ['merge request', 'Merge Request Hook', 'merge-request.json', /Merge Request Hook.*needs no build/, {}],
    ['system hook', 'System Hook', 'system-hook-push.json', /system hooks are not used/, {}],
    ['branch deletion', 'Push Hook', 'branch-delete.json', /branch feature\/old-checkout was deleted/, {}],
    ['tag push while TAG_PUSHES=false', 'Tag Push Hook', 'tag-push.json', /tag pushes are not built/, {}],
    ['tag deletion', 'Tag Push Hook', 'tag-delete.json', /tag v1.2.0 was deleted/, { tagPushes: true }],
    ['pipeline event', 'Pipeline Hook', 'merge-request.json', /needs no build/, {}],
  ];
  test.each(cases)('%s', async (_name, event, file, reason, overrides) => {
    const t = testHandler(overrides);
    const res = await t.handle(pushEvent({ body: fixtureText(file), event }));
    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
    nothingWritten();
  });

  test('repository not routed to this environment', async () => {
    const t = testHandler({ routes: [{ path: 'other/repo', kind: 'software', customer: 'other', branches: ['main'] }] });
    const res = await t.handle(pushEvent());
    expect(res.statusCode).toBe(200);
    expect(parseBody(res).reason).toBe('repository acme/web-shop is not routed to environment dev');
    nothingWritten();
  });

  test('branch not routed to this environment', async () => {
    const t = testHandler();
    const body = { ...fixture('push.json'), ref: 'refs/heads/develop' };
    const res = await t.handle(pushEvent({ body: JSON.stringify(body) }));
    expect(res.statusCode).toBe(200);
    expect(parseBody(res).reason).toBe('branch develop of acme/web-shop is not routed to environment dev');
    nothingWritten();
  });
});

describe('token authentication (401)', () => {
  test('a missing token is refused without reading the secret', async () => {
    const t = testHandler();
    const headers = deliveryHeaders();
    const res = await t.handle(apiEvent({ body: fixtureText('push.json'), headers }));
    expect(res.statusCode).toBe(401);
    expect(parseBody(res)).toEqual({ error: 'unauthorized' });
    expect(aws.calls('GetParameter')).toBe(0);
    nothingWritten();
  });

  test.each([['wrong token', 'not-the-token'], ['token prefix', TOKEN.slice(0, -1)], ['token with suffix', `${TOKEN}x`], ['empty token', '']])('%s', async (_n, token) => {
    const t = testHandler();
    const res = await t.handle(pushEvent({ headers: { 'X-Gitlab-Token': token } }));
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe('{"error":"unauthorized"}');
    nothingWritten();
  });

  // Wrong tokens of exactly the secret's length: a check that only compared lengths would accept them.
  const sameLength = (i: number) => `${TOKEN.slice(0, i)}${TOKEN[i] === 'x' ? 'y' : 'x'}${TOKEN.slice(i + 1)}`;
  test.each([
    ['last character changed', sameLength(TOKEN.length - 1)],
    ['first character changed', sameLength(0)],
    ['middle character changed', sameLength(Math.floor(TOKEN.length / 2))],
    ['another token of the same length', 'z'.repeat(TOKEN.length)],
    ['the token in upper case', TOKEN.toUpperCase()],
  ])('same-length wrong token (%s) → 401, nothing written', async (_n, token) => {
    expect(token).toHaveLength(TOKEN.length);
    expect(token).not.toBe(TOKEN);
    const t = testHandler();
    const res = await t.handle(pushEvent({ headers: { 'X-Gitlab-Token': token } }));
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe('{"error":"unauthorized"}');
    expect(aws.calls('GetParameter')).toBe(1); // the token was compared with the secret, not refused early
    nothingWritten();
    expect(aws.calls('GetObject')).toBe(0);
  });

  test('a same-length wrong token with a valid signature → 401 (token-and-signature)', async () => {
    const t = testHandler({ authMode: 'token-and-signature' });
    const body = Buffer.from(fixtureText('push.json'));
    const res = await t.handle(apiEvent({ body: body.toString('utf8'), headers: { ...deliveryHeaders(), ...signatureHeaders(body), 'X-Gitlab-Token': sameLength(3) } }));
    expect(res.statusCode).toBe(401);
    nothingWritten();
  });

  test('the secret is read with decryption once and cached for the TTL', async () => {
    const t = testHandler({ secretCacheTtlSeconds: 60 });
    expect((await t.handle(pushEvent({ event: 'Merge Request Hook' }))).statusCode).toBe(200);
    expect((await t.handle(pushEvent({ event: 'Merge Request Hook' }))).statusCode).toBe(200);
    expect(aws.calls('GetParameter')).toBe(1);
    expect(aws.ssm.call(0).args[0].input).toEqual({ Name: baseInput.webhookTokenParameter, WithDecryption: true });
    t.clock += 61_000;
    await t.handle(pushEvent({ event: 'Merge Request Hook' }));
    expect(aws.calls('GetParameter')).toBe(2);
  });

  test('a secret stored with a trailing newline still matches (GitLab strips line breaks)', async () => {
    aws.restore();
    aws = new FakeAws({ [baseInput.webhookTokenParameter as string]: `${TOKEN}\n` });
    const t = testHandler();
    expect((await t.handle(pushEvent())).statusCode).toBe(202);
  });
});

describe('signature authentication', () => {
  const body = Buffer.from(fixtureText('push.json'));
  const signed = (headers: Record<string, string>, opts: { base64?: boolean; raw?: Buffer } = {}) =>
    apiEvent({
      body: opts.base64 ? (opts.raw ?? body).toString('base64') : (opts.raw ?? body).toString('utf8'),
      isBase64Encoded: opts.base64 ?? false,
      headers: { ...deliveryHeaders(), ...headers },
    });

  test('a valid signature is accepted', async () => {
    const t = testHandler({ authMode: 'signature' });
    const res = await t.handle(signed(signatureHeaders(body)));
    expect(res.statusCode).toBe(202);
    expect(aws.ssm.call(0).args[0].input).toEqual({ Name: baseInput.webhookSigningSecretParameter, WithDecryption: true });
  });

  test('one valid entry among several space-separated signatures is enough', async () => {
    const t = testHandler({ authMode: 'signature' });
    const h = signatureHeaders(body);
    const wrong = signatureHeaders(body, { key: Buffer.alloc(32, 7) })['webhook-signature'];
    const res = await t.handle(signed({ ...h, 'webhook-signature': `v2,abc ${wrong} ${h['webhook-signature']}` }));
    expect(res.statusCode).toBe(202);
  });

  test('a binary (base64) body is verified over its decoded bytes', async () => {
    const t = testHandler({ authMode: 'signature' });
    // Same JSON with a non-ASCII commit message: UTF-8 bytes must be signed as received.
    const raw = Buffer.from(fixtureText('push.json').replace('Fix checkout total', 'Kassensumme korrigiert ✓'), 'utf8');
    const res = await t.handle(signed(signatureHeaders(raw), { base64: true, raw }));
    expect(res.statusCode).toBe(202);
  });

  test.each([
    ['wrong key', () => signatureHeaders(body, { key: Buffer.alloc(32, 1) }), true],
    ['signature over another body', () => signatureHeaders(Buffer.from(`${body.toString()} `)), true],
    ['signature for another webhook-id', () => ({ ...signatureHeaders(body), 'webhook-id': 'msg_other' }), true],
    ['stale timestamp', () => signatureHeaders(body, { timestampSeconds: Math.floor(NOW_MS / 1000) - 301 }), false],
    ['timestamp in the future', () => signatureHeaders(body, { timestampSeconds: Math.floor(NOW_MS / 1000) + 301 }), false],
    ['malformed timestamp', () => ({ ...signatureHeaders(body), 'webhook-timestamp': '2025-03-01T10:30:00Z' }), false],
    ['no v1 entry', () => ({ ...signatureHeaders(body), 'webhook-signature': 'v2,abcdef' }), false],
    ['missing signature headers', () => ({}), false],
    ['only a token', () => ({ 'X-Gitlab-Token': TOKEN }), false],
  ])('%s → 401', async (_n, headers, readsSecret) => {
    const t = testHandler({ authMode: 'signature' });
    const res = await t.handle(signed(headers()));
    expect(res.statusCode).toBe(401);
    expect(aws.calls('GetParameter')).toBe(readsSecret ? 1 : 0);
    nothingWritten();
  });

  test('a timestamp just inside the tolerance is accepted', async () => {
    const t = testHandler({ authMode: 'signature', signatureToleranceSeconds: 60 });
    const res = await t.handle(signed(signatureHeaders(body, { timestampSeconds: Math.floor(NOW_MS / 1000) - 60 })));
    expect(res.statusCode).toBe(202);
  });

  test('token-and-signature needs both', async () => {
    const t = testHandler({ authMode: 'token-and-signature' });
    expect((await t.handle(signed(signatureHeaders(body)))).statusCode).toBe(401);
    expect((await t.handle(signed({ 'X-Gitlab-Token': TOKEN }))).statusCode).toBe(401);
    expect((await t.handle(signed({ ...signatureHeaders(body), 'X-Gitlab-Token': 'wrong' }))).statusCode).toBe(401);
    nothingWritten();
    expect((await t.handle(signed({ ...signatureHeaders(body), 'X-Gitlab-Token': TOKEN }))).statusCode).toBe(202);
  });

  test('an unusable signing secret is a server misconfiguration (500), not the client’s fault', async () => {
    aws.restore();
    aws = new FakeAws({ [baseInput.webhookSigningSecretParameter as string]: 'whsec_!!not-base64!!' });
    const t = testHandler({ authMode: 'signature' });
    const res = await t.handle(signed(signatureHeaders(body)));
    expect(res.statusCode).toBe(500);
    nothingWritten();
  });
});

describe('invalid requests (400, 405, 413)', () => {
  const push = () => fixture<Record<string, unknown> & { project: Record<string, unknown>; repository: Record<string, unknown> }>('push.json');
  const cases: ReadonlyArray<[string, () => string, RegExp]> = [
    ['malformed JSON', () => fixtureText('push.json').slice(0, 200), /^the body is not valid JSON/],
    ['empty body', () => '', /^the body is empty/],
    ['JSON array', () => '[]', /must be a JSON object/],
    ['missing ref', () => JSON.stringify({ ...push(), ref: undefined }), /^ref must be a string starting with "refs\/heads\/", got \(missing\)$/],
    ['tag ref in a Push Hook', () => JSON.stringify({ ...push(), ref: 'refs/tags/v1' }), /^ref must be a string starting with "refs\/heads\/"/],
    ['missing after', () => JSON.stringify({ ...push(), after: undefined }), /^after must be a 40 or 64 hex digit commit id, got \(missing\)$/],
    ['short after', () => JSON.stringify({ ...push(), after: 'abc123' }), /^after must be a 40 or 64 hex digit commit id, got "abc123"$/],
    ['wrong object_kind', () => JSON.stringify({ ...push(), object_kind: 'tag_push' }), /^object_kind must be "push" for Push Hook, got "tag_push"$/],
    ['missing project path', () => JSON.stringify({ ...push(), project: { ...push().project, path_with_namespace: undefined } }), /^project.path_with_namespace is missing/],
    ['missing project id', () => JSON.stringify({ ...push(), project_id: undefined, project: { ...push().project, id: undefined } }), /^project.id is missing or not an integer/],
    [
      'missing clone URL',
      () => JSON.stringify({ ...push(), project: { ...push().project, git_http_url: undefined, http_url: undefined }, repository: { ...push().repository, git_http_url: undefined } }),
      /^project.git_http_url \(or repository.git_http_url\) is missing$/,
    ],
    [
      'missing ssh URL',
      () => JSON.stringify({ ...push(), project: { ...push().project, git_ssh_url: undefined, ssh_url: undefined }, repository: { ...push().repository, git_ssh_url: undefined } }),
      /^project.git_ssh_url \(or repository.git_ssh_url\) is missing$/,
    ],
    [
      'clone URL outside GITLAB_URL',
      () => JSON.stringify({ ...push(), project: { ...push().project, git_http_url: 'https://evil.example.net/acme/web-shop.git' } }),
      /^project.git_http_url "https:\/\/evil.example.net\/acme\/web-shop.git" is not under the configured GitLab URL https:\/\/gitlab.example.com$/,
    ],
  ];
  test.each(cases)('%s → 400 with a precise message', async (_n, body, message) => {
    const t = testHandler();
    const res = await t.handle(pushEvent({ body: body() }));
    expect(res.statusCode).toBe(400);
    expect(parseBody(res).error).toMatch(message);
    nothingWritten();
  });

  test('a tag push without checkout_sha → 400', async () => {
    const t = testHandler({ tagPushes: true });
    const body = { ...fixture('tag-push.json'), checkout_sha: null };
    const res = await t.handle(pushEvent({ body: JSON.stringify(body), event: 'Tag Push Hook' }));
    expect(res.statusCode).toBe(400);
    expect(parseBody(res).error).toBe('checkout_sha must be the tagged commit id, got null');
  });

  test('an Idempotency-Key that is not safe in an S3 key → 400', async () => {
    const t = testHandler();
    const res = await t.handle(pushEvent({ headers: { 'Idempotency-Key': '../../other' } }));
    expect(res.statusCode).toBe(400);
    nothingWritten();
  });

  test('a missing X-Gitlab-Event → 400', async () => {
    const t = testHandler();
    const res = await t.handle(apiEvent({ body: fixtureText('push.json'), headers: { 'X-Gitlab-Token': TOKEN } }));
    expect(res.statusCode).toBe(400);
    expect(parseBody(res).error).toBe('missing X-Gitlab-Event header');
  });

  test('GET → 405', async () => {
    const t = testHandler();
    const res = await t.handle(apiEvent({ method: 'GET', headers: { 'X-Gitlab-Token': TOKEN } }));
    expect(res.statusCode).toBe(405);
  });

  test('a body over MAX_BODY_BYTES → 413 before anything else', async () => {
    const t = testHandler({ maxBodyBytes: 4096 });
    const res = await t.handle(pushEvent({ body: `{"pad":"${'x'.repeat(4096)}"}` }));
    expect(res.statusCode).toBe(413);
    expect(aws.calls('GetParameter')).toBe(0);
    nothingWritten();
    const ok = await t.handle(pushEvent({ body: fixtureText('push.json') }));
    expect(ok.statusCode).toBe(202);
  });

  test('413 applies to the decoded size of a base64 body', async () => {
    const t = testHandler({ maxBodyBytes: 2048 });
    const raw = Buffer.alloc(2049, 0x20);
    const res = await t.handle(apiEvent({ body: raw.toString('base64'), isBase64Encoded: true, headers: { 'X-Gitlab-Token': TOKEN } }));
    expect(res.statusCode).toBe(413);
  });
});

describe('clone URLs are bound to the routed project (issue 11 item 7)', () => {
  type Push = Record<string, unknown> & { project: Record<string, unknown>; repository: Record<string, unknown> };
  /** The push fixture (routed as acme/web-shop) with its clone URLs replaced everywhere GitLab puts them. */
  const withUrls = (http: string | undefined, ssh: string | undefined, mutate: (doc: Push) => void = () => undefined): string => {
    const doc = fixture<Push>('push.json');
    for (const o of [doc.project, doc.repository]) {
      if (http !== undefined) o.git_http_url = http;
      if (ssh !== undefined) o.git_ssh_url = ssh;
    }
    if (http !== undefined) doc.project.http_url = http;
    if (ssh !== undefined) doc.project.ssh_url = ssh;
    mutate(doc);
    return JSON.stringify(doc);
  };
  const SSH = 'git@gitlab.example.com:acme/web-shop.git';
  const HTTP = 'https://gitlab.example.com/acme/web-shop.git';

  const refused: ReadonlyArray<[string, string, Partial<typeof baseInput>, RegExp]> = [
    [
      'another project on the same GitLab (http)',
      withUrls('https://gitlab.example.com/acme/internal-tools.git', undefined),
      {},
      /^project.git_http_url "https:\/\/gitlab.example.com\/acme\/internal-tools.git" has the repository path "acme\/internal-tools.git", not the routed project acme\/web-shop \(expected https:\/\/gitlab.example.com\/acme\/web-shop.git; compared case-insensitively, ".git" optional\)$/,
    ],
    ['a subgroup that ends like the routed project', withUrls('https://gitlab.example.com/evil/acme/web-shop.git', undefined), {}, /has the repository path "evil\/acme\/web-shop.git", not the routed project acme\/web-shop/],
    ['a project whose path starts like the routed one', withUrls('https://gitlab.example.com/acme/web-shop-fork.git', undefined), {}, /not the routed project acme\/web-shop/],
    ['dot segments leading elsewhere', withUrls('https://gitlab.example.com/acme/web-shop/../../evil/web-shop.git', undefined), {}, /has the repository path "evil\/web-shop.git"/],
    ['a percent-escaped path', withUrls('https://gitlab.example.com/acme/web%2Dshop.git', undefined), {}, /has the repository path "acme\/web%2Dshop.git"/],
    ['a query string', withUrls(`${HTTP}?ref=other`, undefined), {}, /^project.git_http_url ".*" must not have a query or fragment$/],
    ['a fallback URL (project.http_url) naming another project', withUrls('https://gitlab.example.com/acme/internal-tools.git', undefined, (d) => delete d.project.git_http_url), {}, /^project.git_http_url "https:\/\/gitlab.example.com\/acme\/internal-tools.git" has the repository path/],
    [
      'another project over ssh (scp-like)',
      withUrls(undefined, 'git@gitlab.example.com:acme/internal-tools.git'),
      {},
      /^project.git_ssh_url "git@gitlab.example.com:acme\/internal-tools.git" has the repository path "acme\/internal-tools.git", not the routed project acme\/web-shop \(compared case-insensitively, ".git" optional\)$/,
    ],
    ['another project over ssh (ssh://)', withUrls(undefined, 'ssh://git@gitlab.example.com:2222/evil/acme/web-shop.git'), {}, /^project.git_ssh_url .* has the repository path "evil\/acme\/web-shop.git"/],
    ['an absolute scp-like ssh path', withUrls(undefined, 'git@gitlab.example.com:/acme/web-shop.git'), {}, /^project.git_ssh_url .* must look like git@host:group\/project.git/],
    ['under a relative URL root: another project', withUrls('https://gitlab.example.com/gitlab/evil/acme/web-shop.git', undefined), { gitlabUrl: 'https://gitlab.example.com/gitlab/' }, /has the repository path "evil\/acme\/web-shop.git", not the routed project acme\/web-shop \(expected https:\/\/gitlab.example.com\/gitlab\/acme\/web-shop.git;/],
    ['under a relative URL root: a URL without the root', withUrls(HTTP, undefined), { gitlabUrl: 'https://gitlab.example.com/gitlab' }, /is not under the configured GitLab URL https:\/\/gitlab.example.com\/gitlab$/],
    ['without GITLAB_URL: a project below a path prefix', withUrls('https://gitlab.example.com/gitlab/acme/web-shop.git', undefined), { gitlabUrl: undefined }, /not the routed project acme\/web-shop .*set GITLAB_URL to include it\)$/],
  ];
  test.each(refused)('%s → 400, nothing written', async (_n, body, overrides, message) => {
    const t = testHandler(overrides);
    const res = await t.handle(pushEvent({ body }));
    await t.work();
    expect(res.statusCode).toBe(400);
    expect(parseBody(res).error).toMatch(message);
    nothingWritten();
  });

  const accepted: ReadonlyArray<[string, string, Partial<typeof baseInput>, string]> = [
    ['other letter case and no .git', withUrls('https://gitlab.example.com/ACME/Web-Shop', 'ssh://git@gitlab.example.com:2222/Acme/WEB-SHOP.git'), {}, 'https://gitlab.example.com/ACME/Web-Shop'],
    ['under a relative URL root (ssh URLs have none)', withUrls('https://gitlab.example.com/gitlab/acme/web-shop.git', SSH), { gitlabUrl: 'https://gitlab.example.com/gitlab' }, 'https://gitlab.example.com/gitlab/acme/web-shop.git'],
    ['without GITLAB_URL, at the root of any host', withUrls('https://git.example.org/acme/web-shop.git', 'git@git.example.org:acme/web-shop'), { gitlabUrl: undefined }, 'https://git.example.org/acme/web-shop.git'],
  ];
  test.each(accepted)('%s → 202', async (_n, body, overrides, httpUrl) => {
    const t = testHandler(overrides);
    const res = await t.handle(pushEvent({ body }));
    await t.work();
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}')).toMatchObject({ project: { path: 'acme/web-shop', httpUrl } });
  });
});

describe('the durable record: 5xx only when nothing durable was written', () => {
  test('SSM failure → 502, nothing queued or written', async () => {
    aws.restore();
    aws = new FakeAws({});
    const t = testHandler();
    const res = await t.handle(pushEvent());
    expect(res.statusCode).toBe(502);
    nothingWritten();
    expect(aws.calls('SendMessage')).toBe(0);
  });

  test('SQS throttling → 503, SQS access denied → 502: GitLab shows the failure; nothing was recorded', async () => {
    const t = testHandler();
    aws.failNext('SendMessage', 1, throttled);
    const res = await t.handle(pushEvent());
    expect(res.statusCode).toBe(503);
    expect(parseBody(res)).toEqual({ error: 'could not record the delivery; retry later' });
    aws.failNext('SendMessage', 1, () => Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    expect((await t.handle(pushEvent())).statusCode).toBe(502);
    expect(aws.sent).toHaveLength(0);
    nothingWritten();
  });

  test('S3 and CodeBuild are not called by the webhook: their failures cannot fail a delivery', async () => {
    const t = testHandler();
    aws.failNext('PutObject', 5, s3SlowDown);
    aws.failNext('StartBuild', 5, throttled);
    const res = await t.handle(pushEvent());
    expect(res.statusCode).toBe(202);
    nothingWritten();
    expect(aws.sent).toHaveLength(1);
  });

  test('a worker failure is a batch item failure, retried later with backoff (visibility change)', async () => {
    const t = testHandler();
    await t.handle(pushEvent());
    aws.failNext('StartBuild', 1, () => Object.assign(new Error('Access denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    expect(await t.work()).toEqual(['msg-1']);
    const [change] = aws.sqs.commandCalls(ChangeMessageVisibilityCommand);
    expect(change?.args[0].input).toEqual({ QueueUrl: baseInput.deliveryQueueUrl, ReceiptHandle: 'rh-msg-1-1', VisibilityTimeout: 30 });
    expect(aws.builds).toHaveLength(0);
  });
});

describe('redelivery (idempotency through the worker)', () => {
  test('the same Idempotency-Key queues twice but starts one build', async () => {
    const t = testHandler();
    const first = await t.handle(pushEvent());
    const second = await t.handle(pushEvent({ headers: { 'X-Gitlab-Event-UUID': 'another-uuid' } }));
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(await t.work()).toEqual([]);
    expect(aws.calls('StartBuild')).toBe(1);
    expect(aws.builds).toHaveLength(1);
    // The first delivery's config file is kept.
    expect(JSON.parse(aws.object(CONFIG_KEY)?.body ?? '{}')).toMatchObject({ eventUuid: deliveryHeaders()['X-Gitlab-Event-UUID'] });
    expect(t.logs.some((l) => l.includes('"status":"duplicate"'))).toBe(true);
  });

  test('without Idempotency-Key, the same project, ref and commits are one delivery', async () => {
    const t = testHandler();
    const noKey = { 'Idempotency-Key': '' };
    let calls = 0;
    const strip = (e: ReturnType<typeof pushEvent>) => {
      if (calls++ === 0) delete (e.headers as Record<string, string>)['Idempotency-Key'];
      return e;
    };
    const first = await t.handle(strip(pushEvent({ headers: noKey })));
    await t.handle(strip(pushEvent({ headers: noKey })));
    await t.work();
    expect(aws.builds).toHaveLength(1);
    const key = createHash('sha256').update(['acme/web-shop', 'refs/heads/main', PUSH.before, PUSH.after].join('\n')).digest('hex');
    expect(parseBody(first).deliveryKey).toBe(key);
    expect(aws.object(`webhook/dev/${key}.json`)).toBeDefined();
    // A different push of the same repository is a new delivery.
    await t.handle(strip(pushEvent({ body: JSON.stringify({ ...fixture('push.json'), after: 'a'.repeat(40) }), headers: noKey })));
    await t.work();
    expect(aws.builds).toHaveLength(2);
  });

  test('a new Idempotency-Key for the same commit is a new delivery (e.g. a branch moved back)', async () => {
    const t = testHandler();
    await t.handle(pushEvent());
    await t.handle(pushEvent({ headers: { 'Idempotency-Key': 'b7c1e0a2-0000-4000-8000-000000000001' } }));
    await t.work();
    expect(aws.builds).toHaveLength(2);
  });

  test('when the build record could not be written, the retry asks CodeBuild with the same token and gets the same build', async () => {
    const t = testHandler();
    aws.failNextPut.set(`webhook/dev/${IDEMPOTENCY_KEY}.build.json`, new Error('network down'));
    await t.handle(pushEvent());
    expect(await t.work()).toEqual(['msg-1']);
    // SQS redelivers the same message.
    const worker = testWorker();
    expect((await worker(sqsEvent([{ id: 'msg-1', body: aws.sent[0]!.MessageBody!, receiveCount: 2 }]))).batchItemFailures).toEqual([]);
    const calls = aws.codebuild.commandCalls(StartBuildCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input).toEqual(calls[0]?.args[0].input);
    expect(aws.builds).toHaveLength(1);
    expect(aws.object(`webhook/dev/${IDEMPOTENCY_KEY}.build.json`)).toBeDefined();
  });

  test('concurrent identical deliveries start one build', async () => {
    const t = testHandler();
    const results = await Promise.all([t.handle(pushEvent()), t.handle(pushEvent()), t.handle(pushEvent())]);
    expect(results.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    const worker = testWorker();
    const bodies = aws.sent.map((m) => m.MessageBody!);
    await Promise.all(bodies.map((body, i) => worker(sqsEvent([{ id: `m${i}`, body, receiveCount: 1 }]))));
    expect(aws.builds).toHaveLength(1);
  });
});

describe('logs', () => {
  test('one JSON summary line per request with the request ids, and no secrets or payload', async () => {
    const t = testHandler();
    await t.handle(pushEvent(), { awsRequestId: 'lambda-req-7' });
    await t.handle(pushEvent({ headers: { 'X-Gitlab-Token': 'wrong-token-value' } }), { awsRequestId: 'lambda-req-8' });
    const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaries = lines.filter((l) => l.msg === 'webhook handled');
    expect(summaries).toHaveLength(2);
    expect(summaries[0]).toMatchObject({ level: 'info', requestId: 'lambda-req-7', apiRequestId: 'api-req-1', webhookUuid: deliveryHeaders()['X-Gitlab-Webhook-UUID'], status: 202, project: 'acme/web-shop', commit: PUSH.after });
    expect(summaries[1]).toMatchObject({ requestId: 'lambda-req-8', status: 401, reason: 'wrong X-Gitlab-Token' });
    const all = t.logs.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('wrong-token-value');
    expect(all).not.toContain(SIGNING_KEY.toString('base64'));
    expect(all).not.toContain('Rounds to cents');
  });

  test('nested objects and arrays are written as JSON, not as strings (what EMF\'s `_aws` needs)', () => {
    const lines: string[] = [];
    createLogger('info', (l) => lines.push(l), { requestId: 'r1' }).info('m', { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['E']] }] }, E: 'dev', n: 2, list: ['a', 'b'] });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'm', requestId: 'r1', _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['E']] }] }, E: 'dev', n: 2, list: ['a', 'b'] });
  });
});
