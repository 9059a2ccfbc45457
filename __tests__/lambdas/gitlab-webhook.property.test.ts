/**
 * Property tests: whatever a client sends, the webhook never answers 5xx (AWS is healthy here) and
 * never writes to S3 or starts a build unless the input is a valid, routed push; in token mode, a POST
 * without exactly the secret token (including wrong tokens of the same length) answers 401.
 */
import * as fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { FakeAws, NOW_MS, TOKEN, apiEvent, fixture, signatureHeaders, testHandler } from './helpers/webhook';

const HEADER_NAMES = ['x-gitlab-token', 'x-gitlab-event', 'idempotency-key', 'x-gitlab-event-uuid', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type'];
const EVENTS = ['Push Hook', 'Tag Push Hook', 'System Hook', 'Merge Request Hook', 'push hook', ''];

/** A header name in random letter case, known or arbitrary. */
const headerName = fc.oneof(
  fc.tuple(fc.constantFrom(...HEADER_NAMES), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 })).map(([n, upper]) => [...n].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('')),
  fc.string({ minLength: 1, maxLength: 20 }),
);
/** Near misses of the secret token: same length, one character different (a length-only check would accept them). */
const sameLengthWrongToken = fc
  .tuple(fc.nat({ max: TOKEN.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
  .map(([i, c]) => `${TOKEN.slice(0, i)}${c}${TOKEN.slice(i + 1)}`)
  .filter((t) => t !== TOKEN);
const headerValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom(...EVENTS),
  fc.constant(TOKEN),
  sameLengthWrongToken,
  fc.uuid(),
  fc.constant('v1,AAAA'),
  fc.constant(String(Math.floor(NOW_MS / 1000))),
);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 8 });

const body = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constant(undefined),
);

const anyEvent: fc.Arbitrary<APIGatewayProxyEventV2> = fc
  .record({ headers, body, isBase64Encoded: fc.boolean(), method: fc.constantFrom('POST', 'POST', 'GET', 'PUT') })
  .map((r) => apiEvent(r));

/** Deliveries with a valid token and a push event header but an arbitrary body. */
const authenticatedJunk: fc.Arbitrary<APIGatewayProxyEventV2> = fc
  .record({ event: fc.constantFrom('Push Hook', 'Tag Push Hook'), body, extra: headers })
  .map((r) => apiEvent({ body: r.body, headers: { ...r.extra, 'X-Gitlab-Token': TOKEN, 'X-Gitlab-Event': r.event } }));

/** The valid push with one required field set to a value that does not satisfy it. */
// Strings without '@' cannot form a valid ssh URL by chance (a 40-hex id or a full http URL are as unlikely).
const invalidValue = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 12 }).filter((v) => !v.includes('@')), fc.double(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
const FIELDS = ['object_kind', 'ref', 'after', 'before', 'project', 'project.path_with_namespace', 'project.id', 'project.git_http_url', 'project.git_ssh_url'] as const;
const brokenPush = fc
  .record({ field: fc.constantFrom(...FIELDS), value: invalidValue.filter((v) => typeof v !== 'number' || !Number.isSafeInteger(v)) })
  .map(({ field, value }) => {
    const doc = fixture<Record<string, unknown> & { project: Record<string, unknown>; repository?: Record<string, unknown> }>('push.json');
    // The fallbacks (project_id, repository.*, project.http_url ...) would repair the field: remove them too.
    delete doc.project_id;
    delete doc.repository;
    delete doc.project.http_url;
    delete doc.project.ssh_url;
    const [top, sub] = field.split('.') as [string, string | undefined];
    if (sub === undefined) doc[top] = value;
    else doc.project[sub] = value;
    return apiEvent({ body: JSON.stringify(doc), headers: { 'X-Gitlab-Token': TOKEN, 'X-Gitlab-Event': 'Push Hook' } });
  });

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

/**
 * The X-Gitlab-Token a request carries, worked out independently of the handler: header names are
 * case-insensitive and API Gateway joins repeated headers with commas.
 */
const tokenOf = (event: APIGatewayProxyEventV2): string | undefined => {
  const values = Object.entries(event.headers ?? {})
    .filter(([name, value]) => name.toLowerCase() === 'x-gitlab-token' && typeof value === 'string')
    .map(([, value]) => value as string);
  return values.length === 0 ? undefined : values.join(',');
};

/** Token mode: a POST without exactly the secret token answers 401, whatever else it carries. */
const tokenModeStatus = (event: APIGatewayProxyEventV2): number | undefined => {
  if (event.requestContext.http.method !== 'POST') return 405;
  return tokenOf(event) === TOKEN ? undefined : 401;
};

const neverServerErrorNorWrite = async (
  mode: 'token' | 'signature' | 'token-and-signature',
  events: fc.Arbitrary<APIGatewayProxyEventV2>,
  allowed?: readonly number[],
  expectedStatus?: (event: APIGatewayProxyEventV2) => number | undefined,
) => {
  const t = testHandler({ authMode: mode });
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(events, async (event) => {
      aws.resetHistory();
      const res = await t.handle(event);
      expect(res.statusCode).toBeLessThan(500);
      if (allowed) expect(allowed).toContain(res.statusCode);
      const expected = expectedStatus?.(event);
      if (expected !== undefined) expect(res.statusCode).toBe(expected);
      if (expected === 401) refused += 1;
      expect(aws.calls('PutObject')).toBe(0);
      expect(aws.calls('StartBuild')).toBe(0);
    }),
    { numRuns: 300 },
  );
  // The oracle was exercised (the dedicated test below feeds only wrong tokens of the secret's length).
  if (expectedStatus) expect(refused).toBeGreaterThan(0);
};

test('random requests never yield 5xx, never write or build, and answer 401 without the exact token (token mode)', () =>
  neverServerErrorNorWrite('token', anyEvent, undefined, tokenModeStatus));
test('authenticated-looking POSTs with a wrong token of the same length answer 401 (token mode)', () =>
  neverServerErrorNorWrite(
    'token',
    fc.record({ token: sameLengthWrongToken, event: fc.constantFrom('Push Hook', 'Tag Push Hook'), body }).map((r) => apiEvent({ body: r.body, headers: { 'X-Gitlab-Token': r.token, 'X-Gitlab-Event': r.event } })),
    [401],
    tokenModeStatus,
  ));
test('random requests never yield 5xx and never write or build (signature mode)', () => neverServerErrorNorWrite('signature', anyEvent, [401, 405, 413]));
test('random requests never yield 5xx and never write or build (token-and-signature mode)', () => neverServerErrorNorWrite('token-and-signature', anyEvent, [401, 405, 413]));
// 401 stays possible: a random extra header may repeat X-Gitlab-Token in another case (values are then joined).
test('authenticated push deliveries with junk bodies answer 200/400, never write or build', () => neverServerErrorNorWrite('token', authenticatedJunk, [200, 400, 401]));
test('a push with one required field broken answers 200/400, never writes or builds', () => neverServerErrorNorWrite('token', brokenPush, [200, 400]));

describe('clone URLs must name the routed project (acme/web-shop)', () => {
  // Path segments near the routed project: other case, .git, prefixes (subgroups, a URL root), look-alikes.
  const segment = fc.constantFrom('acme', 'ACME', 'Acme', 'web-shop', 'Web-Shop', 'web-shop.git', 'WEB-SHOP.GIT', 'gitlab', 'evil', 'web-shop-fork', 'acme.git', 'shop');
  const repoPath = fc.oneof(
    fc.array(segment, { maxLength: 4 }).map((s) => s.join('/')),
    // the routed project in some spelling, so that both outcomes are common
    fc.tuple(fc.constantFrom('acme', 'ACME', 'Acme'), fc.constantFrom('web-shop', 'Web-Shop', 'web-shop.git', 'WEB-SHOP.GIT')).map((s) => s.join('/')),
  );
  const isRouted = (p: string) => ['acme/web-shop', 'acme/web-shop.git'].includes(p.toLowerCase());
  const push = (http: string, ssh: string, key: number) => {
    const doc = fixture<Record<string, unknown> & { project: Record<string, unknown> }>('push.json');
    delete doc.repository;
    doc.project = { ...doc.project, git_http_url: http, http_url: http, git_ssh_url: ssh, ssh_url: ssh };
    return apiEvent({ body: JSON.stringify(doc), headers: { 'X-Gitlab-Token': TOKEN, 'X-Gitlab-Event': 'Push Hook', 'Idempotency-Key': `key-${key}` } });
  };
  const check = async (events: fc.Arbitrary<{ path: string; event: APIGatewayProxyEventV2 }>) => {
    const t = testHandler();
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(events, async ({ path, event }) => {
        aws.resetHistory();
        const res = await t.handle(event);
        seen.add(res.statusCode ?? 0);
        if (isRouted(path)) {
          expect(res.statusCode).toBe(202);
        } else {
          expect(res.statusCode).toBe(400);
          expect(aws.calls('PutObject')).toBe(0);
          expect(aws.calls('StartBuild')).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
    expect([...seen].sort()).toEqual([202, 400]);
  };
  let n = 0;
  test('http: 202 exactly when the path after GITLAB_URL is the project (any case, .git optional), else 400', () =>
    check(repoPath.map((path) => ({ path, event: push(`https://gitlab.example.com/${path}`, 'git@gitlab.example.com:acme/web-shop.git', n++) }))));
  test('ssh: 202 exactly when the path is the project (any case, .git optional), else 400', () =>
    check(
      fc
        .tuple(repoPath, fc.boolean())
        .map(([path, scp]) => ({ path, event: push('https://gitlab.example.com/acme/web-shop.git', scp ? `git@gitlab.example.com:${path}` : `ssh://git@gitlab.example.com:2222/${path}`, n++) })),
    ));
});

test('signed junk is authenticated yet never written (signature mode)', async () => {
  const t = testHandler({ authMode: 'signature' });
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('Push Hook', 'Tag Push Hook', 'Note Hook'), async (b, event) => {
      aws.resetHistory();
      const raw = Buffer.from(b ?? '', 'utf8');
      const res = await t.handle(apiEvent({ body: b, headers: { 'X-Gitlab-Event': event, ...signatureHeaders(raw) } }));
      expect([200, 400]).toContain(res.statusCode);
      expect(aws.calls('PutObject')).toBe(0);
    }),
    { numRuns: 200 },
  );
});

test('the generators are not vacuous: the unbroken push is accepted', async () => {
  const t = testHandler();
  const res = await t.handle(apiEvent({ body: JSON.stringify(fixture('push.json')), headers: { 'X-Gitlab-Token': TOKEN, 'X-Gitlab-Event': 'Push Hook' } }));
  expect(res.statusCode).toBe(202);
});
