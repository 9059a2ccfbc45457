/**
 * The webhook front, module by module: HTTP plumbing, structured logs, lazy SDK loading, the SSM
 * secret cache, the env readers, authentication and the request pipeline's exact replies and log
 * lines. These pin what an operator sees (status, body, log fields, SDK inputs) so that a
 * regression in any branch fails a test (docs/MUTATION.md).
 */
import { createHmac } from 'crypto';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { normalizeHeaders, rawBody, reply } from '../../lambdas/gitlab-webhook/http';
import { createLogger, errorFields, stdoutWriter } from '../../lambdas/gitlab-webhook/log';
import { once, sdk } from '../../lambdas/gitlab-webhook/sdk';
import { EmptySecretError, SecretSource, ssmSecretSource } from '../../lambdas/gitlab-webhook/secrets';
import { envReader } from '../../lambdas/gitlab-webhook/env-reader';
import { authenticate, AuthConfig, computeSignature, SigningSecretFormatError, signingKey, tokenMatches } from '../../lambdas/gitlab-webhook/auth';
import { createHandler } from '../../lambdas/gitlab-webhook/handler';
import { decide, RoutingConfig } from '../../lambdas/gitlab-webhook/payload';
import { parseGitlabUrl, parseRoutes, parseSettings, SettingsError } from '../../lambdas/gitlab-webhook/settings';
import {
  FakeAws,
  KMS_KEY as KMS_KEY_ARN,
  NOW_MS,
  QUEUE_URL,
  SIGNING_KEY,
  SIGNING_PARAM,
  SIGNING_SECRET,
  TOKEN,
  TOKEN_PARAM,
  apiEvent,
  deliveryHeaders,
  envOf,
  fixture,
  fixtureText,
  pushEvent,
  sign,
  signatureHeaders,
  settingsProblemsOf,
  throttled,
  webhookEntry,
} from './helpers/webhook';
import type { Route, WebhookEnvironmentInput } from '../../lambdas/gitlab-webhook/contract';
import { coldLoad } from './helpers/cold-load';

const lines = (out: string[]): Array<Record<string, unknown>> => out.map((l) => JSON.parse(l) as Record<string, unknown>);
/** Log lines without their wall-clock `time` (checked separately). */
const untimed = (out: string[]): Array<Record<string, unknown>> =>
  lines(out).map((l) => {
    expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const { time: _time, ...rest } = l;
    return rest;
  });

describe('http', () => {
  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'x-gitlab-token: t' as unknown as Record<string, string>],
  ])('headers that are %s are an empty map', (_n, raw) => {
    expect([...normalizeHeaders(raw).entries()]).toEqual([]);
  });

  test('names are lower-cased, non-string values skipped, repeated names joined with commas in order', () => {
    const raw = { 'X-Gitlab-Token': 'a', 'x-gitlab-token': 'b', 'X-GITLAB-TOKEN': 'c', 'Content-Type': 'application/json', Bad: undefined, Num: 7 as unknown as string };
    expect([...normalizeHeaders(raw).entries()]).toEqual([
      ['x-gitlab-token', 'a,b,c'],
      ['content-type', 'application/json'],
    ]);
  });

  test('an empty first value is still joined (not replaced)', () => {
    expect(normalizeHeaders({ 'X-A': '', 'x-a': 'b' }).get('x-a')).toBe(',b');
  });

  test.each([
    ['no body', { body: undefined, isBase64Encoded: false }, ''],
    ['no body, base64 flag set', { body: undefined, isBase64Encoded: true }, ''],
    ['a text body', { body: 'aGVsbG8=', isBase64Encoded: false }, 'aGVsbG8='],
    ['a base64 body', { body: 'aGVsbG8=', isBase64Encoded: true }, 'hello'],
    ['a base64 flag that is not the boolean true', { body: 'aGVsbG8=', isBase64Encoded: 'true' as unknown as boolean }, 'aGVsbG8='],
    ['UTF-8 text', { body: 'Kassensumme ✓', isBase64Encoded: false }, 'Kassensumme ✓'],
  ])('rawBody: %s', (_n, event, text) => {
    const b = rawBody(event);
    expect(Buffer.isBuffer(b)).toBe(true);
    expect(b.toString('utf8')).toBe(text);
  });

  test('reply: JSON body, content-type, extra headers merged', () => {
    expect(reply(405, { error: 'only POST is accepted' }, { allow: 'POST' })).toEqual({
      statusCode: 405,
      headers: { 'content-type': 'application/json', allow: 'POST' },
      body: '{"error":"only POST is accepted"}',
    });
    expect(reply(200, { status: 'ignored', n: 1, x: null })).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ignored","n":1,"x":null}' });
  });
});

describe('log', () => {
  beforeEach(() => jest.useFakeTimers({ now: NOW_MS, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  const levels = ['debug', 'info', 'warn', 'error'] as const;
  test.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('level %s writes %j', (level, written) => {
    const out: string[] = [];
    const log = createLogger(level, (l) => out.push(l));
    for (const l of levels) log[l](`m-${l}`);
    expect(out).toEqual(written.map((l) => JSON.stringify({ time: new Date(NOW_MS).toISOString(), level: l, msg: `m-${l}` })));
  });

  test('a line is time, level, msg, then the base fields, then the call fields (call fields win)', () => {
    const out: string[] = [];
    const log = createLogger('debug', (l) => out.push(l), { a: 1, b: 'base' }).child({ b: 'child', c: true }).child({ d: null });
    log.warn('hello', { c: false, e: ['x'] });
    expect(out).toEqual([`{"time":"2025-03-01T10:30:00.000Z","level":"warn","msg":"hello","a":1,"b":"child","c":false,"d":null,"e":["x"]}`]);
  });

  test('a child keeps the parent level', () => {
    const out: string[] = [];
    const log = createLogger('warn', (l) => out.push(l)).child({ r: 1 });
    log.info('dropped');
    log.debug('dropped');
    log.error('kept');
    expect(untimed(out)).toEqual([{ level: 'error', msg: 'kept', r: 1 }]);
  });

  test('the default writer writes one line to stdout', () => {
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      stdoutWriter('{"a":1}');
      createLogger('info').info('to stdout');
      expect(spy.mock.calls.map((c) => c[0])).toEqual(['{"a":1}\n', '{"time":"2025-03-01T10:30:00.000Z","level":"info","msg":"to stdout"}\n']);
    } finally {
      spy.mockRestore();
    }
  });

  test('errorFields: name, message (cut to 500 characters) and the AWS status', () => {
    const aws = Object.assign(new Error('x'.repeat(600)), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(errorFields(aws)).toEqual({ errorName: 'ThrottlingException', errorMessage: 'x'.repeat(500), awsStatus: 400 });
    expect(errorFields(new TypeError('bad'))).toEqual({ errorName: 'TypeError', errorMessage: 'bad', awsStatus: undefined });
    expect(errorFields(Object.assign(new Error('no status'), { $metadata: {} }))).toEqual({ errorName: 'Error', errorMessage: 'no status', awsStatus: undefined });
    expect(errorFields('y'.repeat(501))).toEqual({ errorName: 'string', errorMessage: 'y'.repeat(500) });
    expect(errorFields(undefined)).toEqual({ errorName: 'undefined', errorMessage: 'undefined' });
    expect(errorFields({ name: 'NotAnError' })).toEqual({ errorName: 'object', errorMessage: '[object Object]' });
  });
});

describe('sdk', () => {
  test('once evaluates its factory on the first call only', () => {
    const make = jest.fn(() => ({ n: 1 }));
    const get = once(make);
    expect(make).not.toHaveBeenCalled();
    const first = get();
    expect(get()).toBe(first);
    expect(make).toHaveBeenCalledTimes(1);
  });

  test('once caches a falsy value too', () => {
    const make = jest.fn(() => undefined);
    const get = once(make);
    get();
    get();
    expect(make).toHaveBeenCalledTimes(1);
  });

  test('each SDK package is the real client package, loaded once', () => {
    expect(typeof sdk.s3().PutObjectCommand).toBe('function');
    expect(typeof sdk.codebuild().StartBuildCommand).toBe('function');
    expect(sdk.ssm().GetParameterCommand).toBe(GetParameterCommand);
    expect(sdk.sqs().SendMessageCommand).toBe(SendMessageCommand);
    expect(sdk.s3()).toBe(sdk.s3());
    expect(sdk.codebuild()).toBe(sdk.codebuild());
  });
});

describe('secrets (SSM, cached per container)', () => {
  let aws: FakeAws;
  beforeEach(() => {
    aws = new FakeAws({ '/p/a': 'value-a', '/p/b': 'value-b', '/p/empty': '' });
  });
  afterEach(() => aws.restore());
  const client = new SSMClient({ region: 'eu-west-1' });

  test('reads with decryption, caches for the TTL; expiry is exclusive (at expiresAt it reads again)', async () => {
    let now = 1_000_000;
    const s = ssmSecretSource(() => client, 60, () => now);
    expect(await s.get('/p/a')).toBe('value-a');
    expect(aws.ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: '/p/a', WithDecryption: true }]);
    now += 59_999;
    expect(await s.get('/p/a')).toBe('value-a');
    expect(aws.calls('GetParameter')).toBe(1);
    now += 1; // exactly the TTL
    expect(await s.get('/p/a')).toBe('value-a');
    expect(aws.calls('GetParameter')).toBe(2);
    now += 59_999;
    await s.get('/p/a');
    expect(aws.calls('GetParameter')).toBe(2);
  });

  test('each parameter has its own cache entry', async () => {
    const s = ssmSecretSource(() => client, 60, () => 0);
    expect(await s.get('/p/a')).toBe('value-a');
    expect(await s.get('/p/b')).toBe('value-b');
    expect(await s.get('/p/a')).toBe('value-a');
    expect(aws.ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input.Name)).toEqual(['/p/a', '/p/b']);
  });

  test('a TTL of 0 reads every time', async () => {
    const s = ssmSecretSource(() => client, 0, () => 5);
    await s.get('/p/a');
    await s.get('/p/a');
    expect(aws.calls('GetParameter')).toBe(2);
  });

  test('the default clock is Date.now', async () => {
    jest.useFakeTimers({ now: NOW_MS, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const s = ssmSecretSource(() => client, 1);
      await s.get('/p/a');
      jest.setSystemTime(NOW_MS + 999);
      await s.get('/p/a');
      expect(aws.calls('GetParameter')).toBe(1);
      jest.setSystemTime(NOW_MS + 1000);
      await s.get('/p/a');
      expect(aws.calls('GetParameter')).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  test('concurrent misses share one request; the client factory is called on the first miss only', async () => {
    const factory = jest.fn(() => client);
    const s = ssmSecretSource(factory, 60, () => 0);
    expect(factory).not.toHaveBeenCalled();
    expect(await Promise.all([s.get('/p/a'), s.get('/p/a'), s.get('/p/a')])).toEqual(['value-a', 'value-a', 'value-a']);
    expect(aws.calls('GetParameter')).toBe(1);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  test.each([
    ['an empty value', { Parameter: { Name: '/p/x', Value: '' } }],
    ['no value', { Parameter: { Name: '/p/x' } }],
    ['no parameter', {}],
  ])('%s is an EmptySecretError naming the parameter', async (_n, output) => {
    aws.ssm.on(GetParameterCommand).resolves(output);
    const s = ssmSecretSource(() => client, 60, () => 0);
    const err = await s.get('/p/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmptySecretError);
    expect(err).toMatchObject({ name: 'EmptySecretError', message: 'SSM parameter /p/x has no value' });
  });

  test('failures are not cached: the next call reads again', async () => {
    const s = ssmSecretSource(() => client, 60, () => 0);
    await expect(s.get('/p/missing')).rejects.toMatchObject({ name: 'ParameterNotFound' });
    await expect(s.get('/p/missing')).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect(aws.calls('GetParameter')).toBe(2);
    // An empty value is a failure too.
    await expect(s.get('/p/empty')).rejects.toBeInstanceOf(EmptySecretError);
    await expect(s.get('/p/empty')).rejects.toBeInstanceOf(EmptySecretError);
    expect(aws.calls('GetParameter')).toBe(4);
  });

  test('two overlapping failures: the second to fail finds no entry and raises no unhandled rejection', async () => {
    // A Lambda runtime on Node 20 exits on an unhandled rejection.
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      let now = 0;
      let failFirst: (e: Error) => void = () => undefined;
      let calls = 0;
      aws.ssm.on(GetParameterCommand).callsFake(() => {
        calls++;
        if (calls === 1) return new Promise((_resolve, reject) => (failFirst = reject));
        return Promise.reject(new Error('second failed'));
      });
      const s = ssmSecretSource(() => client, 60, () => now);
      const first = s.get('/p/a');
      now = 60_000;
      await expect(s.get('/p/a')).rejects.toThrow('second failed');
      failFirst(new Error('first failed'));
      await expect(first).rejects.toThrow('first failed');
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a late failure of an expired request does not evict the newer cached value', async () => {
    let now = 0;
    let failFirst: (e: Error) => void = () => undefined;
    let calls = 0;
    aws.ssm.on(GetParameterCommand).callsFake(() => {
      calls++;
      if (calls === 1) return new Promise((_resolve, reject) => (failFirst = reject));
      return Promise.resolve({ Parameter: { Value: 'fresh' } });
    });
    const s = ssmSecretSource(() => client, 60, () => now);
    const first = s.get('/p/a');
    now = 60_000; // the pending entry expired
    expect(await s.get('/p/a')).toBe('fresh');
    failFirst(new Error('timeout'));
    await expect(first).rejects.toThrow('timeout');
    now = 61_000;
    expect(await s.get('/p/a')).toBe('fresh');
    expect(calls).toBe(2);
  });
});

describe('env reader', () => {
  const read = (env: Record<string, string | undefined>) => {
    const problems: string[] = [];
    return { r: envReader(env, problems), problems };
  };

  test.each([
    ['missing', undefined, '', ['X is required (a thing)']],
    ['empty', '', '', ['X is required (a thing)']],
    ['not matching', 'bad value', 'bad value', ['X="bad value" is not a thing']],
    ['matching', 'good', 'good', []],
  ])('required: %s', (_n, value, returned, problems) => {
    const { r, problems: got } = read({ X: value });
    expect(r.required('X', /^good$/, 'a thing')).toBe(returned);
    expect(got).toEqual(problems);
  });

  test.each([
    ['unset', undefined, 7, []],
    ['empty', '', 7, []],
    ['the minimum', '2', 2, []],
    ['the maximum', '10', 10, []],
    ['leading zeros', '010', 10, []],
    ['below the minimum', '1', 7, ['N="1" must be an integer from 2 to 10']],
    ['above the maximum', '11', 7, ['N="11" must be an integer from 2 to 10']],
    ['negative', '-3', 7, ['N="-3" must be an integer from 2 to 10']],
    ['a fraction', '2.5', 7, ['N="2.5" must be an integer from 2 to 10']],
    ['an exponent', '1e1', 7, ['N="1e1" must be an integer from 2 to 10']],
    ['digits with a suffix', '5s', 7, ['N="5s" must be an integer from 2 to 10']],
    ['digits with a prefix', 'x5', 7, ['N="x5" must be an integer from 2 to 10']],
    ['a space', ' 5', 7, ['N=" 5" must be an integer from 2 to 10']],
  ])('int: %s', (_n, value, returned, problems) => {
    const { r, problems: got } = read({ N: value });
    expect(r.int('N', 7, 2, 10)).toBe(returned);
    expect(got).toEqual(problems);
  });

  test.each([
    [undefined, 'info', []],
    ['', 'info', []],
    ['debug', 'debug', []],
    ['info', 'info', []],
    ['warn', 'warn', []],
    ['error', 'error', []],
    ['ERROR', 'info', ['L="ERROR" must be one of debug, info, warn, error']],
    ['trace', 'info', ['L="trace" must be one of debug, info, warn, error']],
  ])('logLevel %j → %s', (value, level, problems) => {
    const { r, problems: got } = read({ L: value });
    expect(r.logLevel('L')).toBe(level);
    expect(got).toEqual(problems);
  });
});

describe('authenticate', () => {
  const NOW_S = Math.floor(NOW_MS / 1000);
  const BODY = Buffer.from('{"object_kind":"push"}');
  /** A secret source over a map that records which names were read. */
  const source = (values: Record<string, string> = { [TOKEN_PARAM]: TOKEN, [SIGNING_PARAM]: SIGNING_SECRET }) => {
    const read: string[] = [];
    const s: SecretSource = {
      get: async (name) => {
        read.push(name);
        const v = values[name];
        if (v === undefined) throw new Error(`no ${name}`);
        return v;
      },
    };
    return { s, read };
  };
  const cfg = (mode: AuthConfig['mode'], over: Partial<AuthConfig> = {}): AuthConfig => ({ mode, tokenParameter: TOKEN_PARAM, signingSecretParameter: SIGNING_PARAM, toleranceSeconds: 300, ...over });
  const run = async (mode: AuthConfig['mode'], headers: Record<string, string>, opts: { cfg?: Partial<AuthConfig>; values?: Record<string, string>; now?: number; body?: Buffer } = {}) => {
    const { s, read } = source(opts.values);
    const result = await authenticate(cfg(mode, opts.cfg), normalizeHeaders(headers), opts.body ?? BODY, s, opts.now ?? NOW_S);
    return { result, read };
  };
  const sigHeaders = (over: { id?: string; ts?: number | string; key?: Buffer; body?: Buffer } = {}) => {
    const id = over.id ?? 'msg_1';
    const ts = String(over.ts ?? NOW_S);
    return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign(over.key ?? SIGNING_KEY, id, ts, over.body ?? BODY) };
  };

  describe('token mode', () => {
    test('the exact token is accepted after reading the token parameter only', async () => {
      expect(await run('token', { 'X-Gitlab-Token': TOKEN })).toEqual({ result: { ok: true }, read: [TOKEN_PARAM] });
    });
    test.each([
      ['absent', {}],
      ['empty', { 'X-Gitlab-Token': '' }],
    ])('an %s token is refused without reading the secret', async (_n, headers) => {
      expect(await run('token', headers)).toEqual({ result: { ok: false, reason: 'missing X-Gitlab-Token' }, read: [] });
    });
    test('a wrong token', async () => {
      expect(await run('token', { 'X-Gitlab-Token': `${TOKEN}x` })).toEqual({ result: { ok: false, reason: 'wrong X-Gitlab-Token' }, read: [TOKEN_PARAM] });
    });
    test('signature headers are neither needed nor checked', async () => {
      expect((await run('token', { 'X-Gitlab-Token': TOKEN, 'webhook-signature': 'v1,AAAA', 'webhook-timestamp': 'x' })).result).toEqual({ ok: true });
    });
    test('a missing parameter name is a programming error, not a 401', async () => {
      await expect(run('token', { 'X-Gitlab-Token': TOKEN }, { cfg: { tokenParameter: undefined } })).rejects.toThrow(new Error('secret parameter name missing for the configured AUTH_MODE'));
    });
  });

  describe('signature mode', () => {
    test('a valid signature is accepted after reading the signing secret only', async () => {
      expect(await run('signature', sigHeaders())).toEqual({ result: { ok: true }, read: [SIGNING_PARAM] });
    });
    test('a token is not needed', async () => {
      expect((await run('signature', { ...sigHeaders(), 'X-Gitlab-Token': 'whatever' })).result).toEqual({ ok: true });
    });
    test.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('without %s (or with it empty): refused before any secret is read', async (name) => {
      const missing = { ...sigHeaders() } as Record<string, string>;
      delete missing[name];
      const expected = { result: { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' }, read: [] };
      expect(await run('signature', missing)).toEqual(expected);
      expect(await run('signature', { ...sigHeaders(), [name]: '' })).toEqual(expected);
    });
    test.each([
      ['an ISO date', '2025-03-01T10:30:00Z'],
      ['13 digits', '1740825000000'],
      ['digits with a prefix', `x${NOW_S}`],
      ['digits with a suffix', `${NOW_S}x`],
      ['a negative number', `-${NOW_S}`],
      ['a fraction', `${NOW_S}.5`],
    ])('a malformed timestamp (%s)', async (_n, ts) => {
      expect(await run('signature', { ...sigHeaders(), 'webhook-timestamp': ts })).toEqual({ result: { ok: false, reason: 'malformed webhook-timestamp' }, read: [] });
    });
    test.each([
      ['exactly the tolerance in the past', -300, { ok: true }],
      ['one second beyond it', -301, { ok: false, reason: 'stale webhook-timestamp' }],
      ['exactly the tolerance in the future', 300, { ok: true }],
      ['one second beyond it in the future', 301, { ok: false, reason: 'webhook-timestamp in the future' }],
      ['now', 0, { ok: true }],
    ])('a timestamp %s', async (_n, offset, result) => {
      expect((await run('signature', sigHeaders({ ts: NOW_S + offset }))).result).toEqual(result);
    });
    test('the tolerance comes from the config', async () => {
      expect((await run('signature', sigHeaders({ ts: NOW_S - 11 }), { cfg: { toleranceSeconds: 10 } })).result).toEqual({ ok: false, reason: 'stale webhook-timestamp' });
      expect((await run('signature', sigHeaders({ ts: NOW_S + 11 }), { cfg: { toleranceSeconds: 10 } })).result).toEqual({ ok: false, reason: 'webhook-timestamp in the future' });
      expect((await run('signature', sigHeaders({ ts: NOW_S - 10 }), { cfg: { toleranceSeconds: 10 } })).result).toEqual({ ok: true });
    });
    test('a single-digit timestamp is well-formed (and stale)', async () => {
      expect((await run('signature', sigHeaders({ ts: 5 }))).result).toEqual({ ok: false, reason: 'stale webhook-timestamp' });
    });
    test.each([
      ['only v2 entries', 'v2,abc v2,def'],
      ['a v1 entry not at the start of its word', 'xv1,abc'],
      ['an upper-case version', 'V1,abc'],
    ])('no v1 entry (%s) is refused before any secret is read', async (_n, signature) => {
      expect(await run('signature', { ...sigHeaders(), 'webhook-signature': signature })).toEqual({ result: { ok: false, reason: 'no v1 entry in webhook-signature' }, read: [] });
    });
    test('entries may be separated by any whitespace; a short or junk entry does not break the check', async () => {
      const good = sigHeaders()['webhook-signature'];
      expect((await run('signature', { ...sigHeaders(), 'webhook-signature': `v1,AAAA\tv2,x  ${good}` })).result).toEqual({ ok: true });
      expect((await run('signature', { ...sigHeaders(), 'webhook-signature': `${good} v1,AAAA` })).result).toEqual({ ok: true });
      expect((await run('signature', { ...sigHeaders(), 'webhook-signature': 'v1,AAAA v1,!!' })).result).toEqual({ ok: false, reason: 'no valid webhook-signature' });
    });
    test.each([
      ['another key', () => sigHeaders({ key: Buffer.alloc(32, 3) })],
      ['another body', () => sigHeaders({ body: Buffer.from('{}') })],
      ['another id', () => ({ ...sigHeaders(), 'webhook-id': 'msg_2' })],
      ['another timestamp', () => ({ ...sigHeaders(), 'webhook-timestamp': String(NOW_S - 1) })],
      ['the signature without its version prefix', () => ({ ...sigHeaders(), 'webhook-signature': `v1,${sigHeaders()['webhook-signature']}` })],
    ])('a signature over %s is refused', async (_n, headers) => {
      expect(await run('signature', headers())).toEqual({ result: { ok: false, reason: 'no valid webhook-signature' }, read: [SIGNING_PARAM] });
    });
    test('an unusable signing secret throws SigningSecretFormatError', async () => {
      await expect(run('signature', sigHeaders(), { values: { [SIGNING_PARAM]: 'whsec_short' } })).rejects.toBeInstanceOf(SigningSecretFormatError);
    });
    test('a missing parameter name is a programming error', async () => {
      await expect(run('signature', sigHeaders(), { cfg: { signingSecretParameter: undefined } })).rejects.toThrow('secret parameter name missing for the configured AUTH_MODE');
    });
  });

  describe('token-and-signature mode', () => {
    test('both pass: both secrets read, token first', async () => {
      expect(await run('token-and-signature', { ...sigHeaders(), 'X-Gitlab-Token': TOKEN })).toEqual({ result: { ok: true }, read: [TOKEN_PARAM, SIGNING_PARAM] });
    });
    test('a missing token is refused before the signature headers are looked at', async () => {
      expect(await run('token-and-signature', { 'webhook-timestamp': 'bad' })).toEqual({ result: { ok: false, reason: 'missing X-Gitlab-Token' }, read: [] });
    });
    test('bad signature headers are refused before any secret is read', async () => {
      expect(await run('token-and-signature', { 'X-Gitlab-Token': TOKEN })).toEqual({ result: { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' }, read: [] });
    });
    test('a wrong token is refused before the signing secret is read', async () => {
      expect(await run('token-and-signature', { ...sigHeaders(), 'X-Gitlab-Token': 'wrong' })).toEqual({ result: { ok: false, reason: 'wrong X-Gitlab-Token' }, read: [TOKEN_PARAM] });
    });
    test('a right token with a wrong signature', async () => {
      expect(await run('token-and-signature', { ...sigHeaders({ key: Buffer.alloc(16, 9) }), 'X-Gitlab-Token': TOKEN })).toEqual({
        result: { ok: false, reason: 'no valid webhook-signature' },
        read: [TOKEN_PARAM, SIGNING_PARAM],
      });
    });
  });

  test('tokenMatches ignores CR and LF anywhere in the stored secret, not in the given token', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abc\r\n')).toBe(true);
    expect(tokenMatches('abc', 'a\nb\rc\n\n')).toBe(true);
    expect(tokenMatches('abc\n', 'abc')).toBe(false);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches('abc', 'abc ')).toBe(false);
  });

  describe('signingKey', () => {
    const key16 = Buffer.from('0123456789abcdef');
    test.each([
      ['whsec_ + base64', `whsec_${SIGNING_KEY.toString('base64')}`, SIGNING_KEY],
      ['plain base64', SIGNING_KEY.toString('base64'), SIGNING_KEY],
      ['surrounding whitespace and a trailing newline', `  whsec_${SIGNING_KEY.toString('base64')}\n`, SIGNING_KEY],
      ['exactly 16 bytes', key16.toString('base64'), key16],
      ['one padding character', Buffer.alloc(17, 1).toString('base64'), Buffer.alloc(17, 1)],
      ['base64 with + and /', Buffer.alloc(18, 0xfb).toString('base64'), Buffer.alloc(18, 0xfb)],
    ])('accepts %s', (_n, secret, key) => {
      expect(secret.trim().replace(/^whsec_/, '')).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(signingKey(secret)).toEqual(key);
    });
    test.each([
      ['15 bytes', Buffer.alloc(15, 1).toString('base64')],
      ['not base64', 'whsec_!!not-base64!!'],
      ['base64url characters', `whsec_${Buffer.alloc(18, 0xfb).toString('base64url')}`],
      ['a prefix not at the start', `xwhsec_${SIGNING_KEY.toString('base64')}`],
      ['three padding characters', `${Buffer.alloc(16, 1).toString('base64')}=`],
      ['padding in the middle', `AAAA=${Buffer.alloc(16, 1).toString('base64')}`],
      ['an empty secret', ''],
      ['only the prefix', 'whsec_'],
      ['a space inside', `${key16.toString('base64').slice(0, 8)} ${key16.toString('base64').slice(8)}`],
    ])('refuses %s', (_n, secret) => {
      let err: unknown;
      try {
        signingKey(secret);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SigningSecretFormatError);
      expect(err).toMatchObject({ name: 'SigningSecretFormatError', message: 'the signing secret is not "whsec_<base64>" (or plain base64) of at least 16 bytes' });
    });
  });

  test('computeSignature is HMAC-SHA256 over "<id>.<timestamp>.<body>"', () => {
    const body = Buffer.from('{"a":"✓"}');
    expect(computeSignature(SIGNING_KEY, 'msg_1', '1700000000', body)).toEqual(createHmac('sha256', SIGNING_KEY).update('msg_1.1700000000.{"a":"✓"}', 'utf8').digest());
  });
});

describe('handler: exact replies and log lines', () => {
  let aws: FakeAws;
  beforeEach(() => {
    aws = new FakeAws();
    jest.useFakeTimers({ now: NOW_MS, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    aws.restore();
  });

  const HEADERS = deliveryHeaders();
  const IDEMPOTENCY = HEADERS['Idempotency-Key'] as string;
  const PUSH = fixture<{ before: string; after: string }>('push.json');
  /** The fields every line of a request carries (the child logger's). */
  const REQUEST = {
    requestId: 'lambda-req-1',
    apiRequestId: 'api-req-1',
    gitlabEvent: 'Push Hook',
    eventUuid: HEADERS['X-Gitlab-Event-UUID'],
    webhookUuid: HEADERS['X-Gitlab-Webhook-UUID'],
  };
  const QUEUED = { deliveryKey: IDEMPOTENCY, project: 'acme/web-shop', ref: 'refs/heads/main', commit: PUSH.after, targetKey: 'software/acme/main.zip' };

  /** A handler with a clock that advances 7 ms on every read (durationMs is then exact). */
  const make = (overrides: Partial<WebhookEnvironmentInput> = {}, secrets?: SecretSource) => {
    const out: string[] = [];
    let clock = NOW_MS;
    const reads: number[] = [];
    const settings = parseSettings(envOf(overrides));
    const ssm = new SSMClient({ region: 'eu-west-1' });
    const sqs = new SQSClient({ region: 'eu-west-1' });
    const handle = createHandler({
      settings,
      clients: { sqs: () => sqs },
      secrets: secrets ?? ssmSecretSource(() => ssm, 60, () => clock),
      log: createLogger('debug', (l) => out.push(l)),
      now: () => {
        reads.push(clock);
        const t = clock;
        clock += 7;
        return t;
      },
    });
    return { handle, out, reads };
  };

  test('202: body, one summary line with every field, and the queued message', async () => {
    const { handle, out } = make();
    const res = await handle(pushEvent(), { awsRequestId: 'lambda-req-1' });
    expect(res).toEqual({ statusCode: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'queued', deliveryKey: IDEMPOTENCY }) });
    // now() is read for the start, the auth time, receivedAt and the duration: 3 steps of 7 ms.
    expect(untimed(out)).toEqual([{ level: 'info', msg: 'webhook handled', ...REQUEST, status: 202, durationMs: 21, ...QUEUED, messageId: 'msg-1' }]);
    expect(aws.sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: aws.sent[0]?.MessageBody, MessageAttributes: { deliveryKey: { DataType: 'String', StringValue: IDEMPOTENCY } } },
    ]);
    expect(JSON.parse(aws.sent[0]?.MessageBody ?? '{}')).toMatchObject({ version: 1, environment: 'dev', eventUuid: REQUEST.eventUuid, receivedAt: new Date(NOW_MS + 14).toISOString() });
  });

  test('a request without context, request context or GitLab headers logs nulls; an absent event UUID is null in the message', async () => {
    const { handle, out } = make();
    const event = pushEvent();
    const headers = { ...(event.headers as Record<string, string>) };
    delete headers['X-Gitlab-Event-UUID'];
    delete headers['X-Gitlab-Webhook-UUID'];
    const res = await handle({ ...event, headers, requestContext: undefined } as unknown as typeof event);
    expect(res.statusCode).toBe(202);
    expect(untimed(out)).toEqual([{ level: 'info', msg: 'webhook handled', requestId: null, apiRequestId: null, gitlabEvent: 'Push Hook', eventUuid: null, webhookUuid: null, status: 202, durationMs: 21, ...QUEUED, messageId: 'msg-1' }]);
    expect(JSON.parse(aws.sent[0]?.MessageBody ?? '{}')).toMatchObject({ eventUuid: null });
  });

  test('a missing X-Gitlab-Event is logged as null', async () => {
    const { handle, out } = make();
    const headers: Record<string, string> = { ...HEADERS, 'X-Gitlab-Token': TOKEN };
    delete headers['X-Gitlab-Event'];
    const res = await handle(apiEvent({ body: fixtureText('push.json'), headers }), {});
    expect(res).toEqual({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"missing X-Gitlab-Event header"}' });
    expect(untimed(out)).toEqual([{ level: 'info', msg: 'webhook handled', ...REQUEST, requestId: null, gitlabEvent: null, status: 400, durationMs: 14, reason: 'missing X-Gitlab-Event header' }]);
  });

  test('long header values are cut in the log fields (event 60, UUIDs 64 characters)', async () => {
    const { handle, out } = make();
    await handle(pushEvent({ headers: { 'X-Gitlab-Event': 'E'.repeat(100), 'X-Gitlab-Event-UUID': 'u'.repeat(100), 'X-Gitlab-Webhook-UUID': 'w'.repeat(100) } }));
    const [line] = lines(out);
    expect(line).toMatchObject({ gitlabEvent: 'E'.repeat(60), eventUuid: 'u'.repeat(64), webhookUuid: 'w'.repeat(64), status: 200, reason: `event "${'E'.repeat(60)}" needs no build` });
  });

  test('405 for another method, with Allow: POST', async () => {
    const { handle, out } = make();
    const res = await handle(apiEvent({ method: 'GET', headers: { 'X-Gitlab-Token': TOKEN } }), { awsRequestId: 'r' });
    expect(res).toEqual({ statusCode: 405, headers: { 'content-type': 'application/json', allow: 'POST' }, body: '{"error":"only POST is accepted"}' });
    expect(untimed(out)).toEqual([{ level: 'info', msg: 'webhook handled', requestId: 'r', apiRequestId: 'api-req-1', gitlabEvent: null, eventUuid: null, webhookUuid: null, status: 405, durationMs: 7, reason: 'method' }]);
    expect(aws.calls('GetParameter')).toBe(0);
  });

  test('an event without an HTTP method (direct invocation) is handled as a POST', async () => {
    const { handle } = make();
    const event = pushEvent();
    const res = await handle({ ...event, requestContext: { ...event.requestContext, http: undefined } } as unknown as typeof event);
    expect(res.statusCode).toBe(202);
  });

  test('413 names the limit; a body of exactly the limit is accepted', async () => {
    const { handle, out } = make({ maxBodyBytes: 4096 });
    const over = `{"pad":"${'x'.repeat(4096 - 9)}"}`; // 4097 bytes
    expect(Buffer.byteLength(over)).toBe(4097);
    const res = await handle(pushEvent({ body: over }));
    expect(res).toEqual({ statusCode: 413, headers: { 'content-type': 'application/json' }, body: '{"error":"the body is larger than 4096 bytes"}' });
    expect(untimed(out)[0]).toMatchObject({ status: 413, bodyBytes: 4097 });
    expect(untimed(out)[0]).not.toHaveProperty('reason');
    const exact = `{"pad":"${'x'.repeat(4096 - 10)}"}`;
    expect(Buffer.byteLength(exact)).toBe(4096);
    // Authenticated and parsed (a push without the push fields is a 400, not a 413).
    expect((await handle(pushEvent({ body: exact }))).statusCode).toBe(400);
  });

  test('401 logs the reason; the body says only "unauthorized"', async () => {
    const { handle, out } = make();
    const res = await handle(pushEvent({ headers: { 'X-Gitlab-Token': 'nope' } }), { awsRequestId: 'lambda-req-1' });
    expect(res).toEqual({ statusCode: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"unauthorized"}' });
    expect(untimed(out)).toEqual([{ level: 'info', msg: 'webhook handled', ...REQUEST, status: 401, durationMs: 14, reason: 'wrong X-Gitlab-Token' }]);
  });

  test('the auth settings reach authenticate: mode, parameters, tolerance and the time in whole seconds', async () => {
    const body = Buffer.from(fixtureText('push.json'));
    const { handle } = make({ authMode: 'token-and-signature', signatureToleranceSeconds: 10 });
    const atSecond = (s: number) => ({ ...HEADERS, ...signatureHeaders(body, { timestampSeconds: s }), 'X-Gitlab-Token': TOKEN });
    const nowS = NOW_MS / 1000;
    expect((await handle(apiEvent({ body: body.toString(), headers: atSecond(nowS - 10) }))).statusCode).toBe(202);
    expect((await handle(apiEvent({ body: body.toString(), headers: { ...atSecond(nowS - 11), 'Idempotency-Key': 'k2' } }))).statusCode).toBe(401);
    expect((await handle(apiEvent({ body: body.toString(), headers: { ...atSecond(nowS + 10), 'Idempotency-Key': 'k3' } }))).statusCode).toBe(202);
    expect(aws.ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input.Name)).toEqual([TOKEN_PARAM, SIGNING_PARAM]);
  });

  test('the signature time is floor(now / 1000), not rounded', async () => {
    const body = Buffer.from(fixtureText('push.json'));
    const settings = parseSettings(envOf({ authMode: 'signature', signatureToleranceSeconds: 1 }));
    const sqs = new SQSClient({ region: 'eu-west-1' });
    const ssm = new SSMClient({ region: 'eu-west-1' });
    const handle = createHandler({ settings, clients: { sqs: () => sqs }, secrets: ssmSecretSource(() => ssm, 60), log: createLogger('error', () => undefined), now: () => NOW_MS + 999 });
    const nowS = NOW_MS / 1000;
    // now is nowS + 0.999 s: floor gives nowS, so nowS + 1 is within a 1 s tolerance and nowS + 2 is not.
    expect((await handle(apiEvent({ body: body.toString(), headers: { ...HEADERS, ...signatureHeaders(body, { timestampSeconds: nowS - 1 }) } }))).statusCode).toBe(202);
    expect((await handle(apiEvent({ body: body.toString(), headers: { ...HEADERS, ...signatureHeaders(body, { timestampSeconds: nowS + 1 }), 'Idempotency-Key': 'k2' } }))).statusCode).toBe(202);
    expect((await handle(apiEvent({ body: body.toString(), headers: { ...HEADERS, ...signatureHeaders(body, { timestampSeconds: nowS + 2 }), 'Idempotency-Key': 'k3' } }))).statusCode).toBe(401);
  });

  test('an unusable signing secret: 500 "server misconfigured" and an error line naming the problem', async () => {
    aws.restore();
    aws = new FakeAws({ [SIGNING_PARAM]: 'whsec_c2hvcnQ=' });
    const body = Buffer.from(fixtureText('push.json'));
    const { handle, out } = make({ authMode: 'signature' });
    const res = await handle(apiEvent({ body: body.toString(), headers: { ...HEADERS, ...signatureHeaders(body) } }), { awsRequestId: 'lambda-req-1' });
    expect(res).toEqual({ statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"server misconfigured"}' });
    expect(untimed(out)).toEqual([
      { level: 'error', msg: 'webhook signing secret is unusable', ...REQUEST, errorName: 'SigningSecretFormatError', errorMessage: 'the signing secret is not "whsec_<base64>" (or plain base64) of at least 16 bytes' },
      { level: 'info', msg: 'webhook handled', ...REQUEST, status: 500, durationMs: 14, reason: 'signing secret format' },
    ]);
  });

  test.each([
    ['throttled', () => throttled(), 503, { errorName: 'ThrottlingException', errorMessage: 'Rate exceeded', awsStatus: 400 }],
    ['not found', () => Object.assign(new Error('parameter missing'), { name: 'ParameterNotFound', $metadata: { httpStatusCode: 400 } }), 502, { errorName: 'ParameterNotFound', errorMessage: 'parameter missing', awsStatus: 400 }],
  ])('SSM %s: %d "secret store unavailable", an error line with the AWS error', async (_n, error, status, fields) => {
    const { handle, out } = make({}, { get: async () => Promise.reject(error()) });
    const res = await handle(pushEvent(), { awsRequestId: 'lambda-req-1' });
    expect(res).toEqual({ statusCode: status, headers: { 'content-type': 'application/json' }, body: '{"error":"secret store unavailable; retry later"}' });
    expect(untimed(out)).toEqual([
      { level: 'error', msg: 'reading the webhook secret failed', ...REQUEST, ...fields },
      { level: 'info', msg: 'webhook handled', ...REQUEST, status, durationMs: 14, reason: 'ssm' },
    ]);
    expect(aws.calls('SendMessage')).toBe(0);
  });

  test('an invalid Idempotency-Key: 400 with the allowed form', async () => {
    const { handle, out } = make();
    const res = await handle(pushEvent({ headers: { 'Idempotency-Key': 'a/b' } }));
    expect(res).toEqual({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'Idempotency-Key must be 1-128 characters of A-Z, a-z, 0-9, "_" and "-"' }) });
    expect(untimed(out)[0]).toMatchObject({ status: 400, reason: 'idempotency-key' });
    expect(aws.calls('SendMessage')).toBe(0);
  });

  test('an empty Idempotency-Key counts as absent: the delivery key is the sha256 of the push', async () => {
    const { handle } = make();
    const res = await handle(pushEvent({ headers: { 'Idempotency-Key': '' } }));
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body ?? '{}').deliveryKey).toMatch(/^[0-9a-f]{64}$/);
  });

  test('ignored events: 200 with the reason, logged as the reason', async () => {
    const { handle, out } = make();
    const res = await handle(pushEvent({ event: 'System Hook' }));
    expect(res).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'ignored', reason: 'system hooks are not used; configure a project or group webhook' }) });
    expect(untimed(out)[0]).toMatchObject({ status: 200, reason: 'system hooks are not used; configure a project or group webhook' });
  });

  test('rejected payloads: 400 with the message, logged as the reason', async () => {
    const { handle, out } = make();
    const res = await handle(pushEvent({ body: '[]' }));
    expect(res).toEqual({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"the body must be a JSON object"}' });
    expect(untimed(out)[0]).toMatchObject({ status: 400, reason: 'the body must be a JSON object' });
  });

  test.each([
    ['throttled', () => throttled(), 503],
    ['denied', () => Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), 502],
  ])('SQS %s: %d, an error line with the delivery and the AWS error', async (_n, error, status) => {
    aws.failNext('SendMessage', 1, error);
    const { handle, out } = make();
    const res = await handle(pushEvent(), { awsRequestId: 'lambda-req-1' });
    expect(res).toEqual({ statusCode: status, headers: { 'content-type': 'application/json' }, body: '{"error":"could not record the delivery; retry later"}' });
    const e = error();
    expect(untimed(out)).toEqual([
      { level: 'error', msg: 'queueing the delivery failed', ...REQUEST, ...QUEUED, errorName: e.name, errorMessage: e.message, awsStatus: e.$metadata.httpStatusCode },
      { level: 'info', msg: 'webhook handled', ...REQUEST, status, durationMs: 21, ...QUEUED, reason: 'sqs' },
    ]);
  });

  test('an unexpected error: 500 "internal error", logged', async () => {
    const { handle, out } = make();
    const event = pushEvent();
    Object.defineProperty(event, 'body', {
      get: () => {
        throw new TypeError('body exploded');
      },
    });
    const res = await handle(event, { awsRequestId: 'lambda-req-1' });
    expect(res).toEqual({ statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' });
    expect(untimed(out)).toEqual([
      { level: 'error', msg: 'unexpected error', ...REQUEST, errorName: 'TypeError', errorMessage: 'body exploded' },
      { level: 'info', msg: 'webhook handled', ...REQUEST, status: 500, durationMs: 7, reason: 'unexpected' },
    ]);
  });

  test('an undefined event is refused (401, no token), not a crash', async () => {
    const { handle, out } = make();
    const res = await handle(undefined as unknown as ReturnType<typeof pushEvent>);
    expect(res.statusCode).toBe(401);
    expect(untimed(out)).toEqual([{ level: 'info', msg: 'webhook handled', requestId: null, apiRequestId: null, gitlabEvent: null, eventUuid: null, webhookUuid: null, status: 401, durationMs: 14, reason: 'missing X-Gitlab-Token' }]);
  });

  test('without an injected clock the handler uses Date.now', async () => {
    const settings = parseSettings(envOf());
    const sqs = new SQSClient({ region: 'eu-west-1' });
    const ssm = new SSMClient({ region: 'eu-west-1' });
    const out: string[] = [];
    const handle = createHandler({ settings, clients: { sqs: () => sqs }, secrets: ssmSecretSource(() => ssm, 60), log: createLogger('info', (l) => out.push(l)) });
    expect((await handle(pushEvent())).statusCode).toBe(202);
    expect(JSON.parse(aws.sent[0]?.MessageBody ?? '{}')).toMatchObject({ receivedAt: new Date(NOW_MS).toISOString() });
    expect(lines(out)[0]).toMatchObject({ durationMs: 0 });
  });
});

describe('settings: messages, defaults and bounds', () => {
  const base = envOf();

  test('SettingsError: one problem, several problems', () => {
    const one = new SettingsError(['A is required']);
    expect(one).toMatchObject({ name: 'SettingsError', problems: ['A is required'], message: 'Invalid gitlab-webhook settings: 1 problem\n  - A is required' });
    expect(new SettingsError(['a', 'b']).message).toBe('Invalid gitlab-webhook settings: 2 problems\n  - a\n  - b');
    expect(() => parseSettings({ ...base, ENVIRONMENT: 'Dev!' })).toThrow(new SettingsError(['ENVIRONMENT="Dev!" is not an environment name (2-10 of a-z, 0-9, starting with a letter)']));
  });

  test.each([
    ['missing', undefined],
    ['empty', ''],
  ])('AUTH_MODE %s', (_n, value) => {
    expect(settingsProblemsOf({ ...base, AUTH_MODE: value })).toEqual(['AUTH_MODE is required (one of token, signature, token-and-signature)']);
  });

  test.each(['token', 'signature', 'token-and-signature'] as const)('AUTH_MODE=%s is used', (mode) => {
    expect(parseSettings({ ...base, AUTH_MODE: mode }).authMode).toBe(mode);
  });

  test('token-and-signature needs both parameters', () => {
    expect(settingsProblemsOf({ ...base, AUTH_MODE: 'token-and-signature', WEBHOOK_TOKEN_PARAMETER: '', WEBHOOK_SIGNING_SECRET_PARAMETER: undefined })).toEqual([
      'WEBHOOK_TOKEN_PARAMETER is required when AUTH_MODE is token-and-signature (an SSM parameter name)',
      'WEBHOOK_SIGNING_SECRET_PARAMETER is required when AUTH_MODE is token-and-signature (an SSM parameter name)',
    ]);
  });

  test('an unneeded parameter may be absent (undefined) but must be a valid name when given', () => {
    const s = parseSettings({ ...base, AUTH_MODE: 'token', WEBHOOK_SIGNING_SECRET_PARAMETER: '' });
    expect(s.webhookSigningSecretParameter).toBeUndefined();
    expect(s.webhookTokenParameter).toBe(TOKEN_PARAM);
    expect(settingsProblemsOf({ ...base, AUTH_MODE: 'token', WEBHOOK_SIGNING_SECRET_PARAMETER: 'has space' })).toEqual(['WEBHOOK_SIGNING_SECRET_PARAMETER="has space" is not an SSM parameter name']);
    expect(settingsProblemsOf({ ...base, WEBHOOK_TOKEN_PARAMETER: '/a//b' })).toEqual(['WEBHOOK_TOKEN_PARAMETER="/a//b" is not an SSM parameter name']);
    expect(parseSettings({ ...base, WEBHOOK_TOKEN_PARAMETER: 'plain-name' }).webhookTokenParameter).toBe('plain-name');
  });

  test.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
  ])('TAG_PUSHES=%j → %s', (value, tagPushes) => {
    expect(parseSettings({ ...base, TAG_PUSHES: value }).tagPushes).toBe(tagPushes);
  });

  test.each(['TRUE', '1', 'False'])('TAG_PUSHES=%s is a problem', (value) => {
    expect(settingsProblemsOf({ ...base, TAG_PUSHES: value })).toEqual([`TAG_PUSHES=${JSON.stringify(value)} must be "true" or "false"`]);
  });

  test.each([
    ['SECRET_CACHE_TTL_SECONDS', 'secretCacheTtlSeconds', 0, 3600],
    ['MAX_BODY_BYTES', 'maxBodyBytes', 1024, 6 * 1024 * 1024],
    ['SIGNATURE_TOLERANCE_SECONDS', 'signatureToleranceSeconds', 1, 3600],
  ] as const)('%s accepts %s..%s (its bounds included) and names them', (name, field, min, max) => {
    expect(parseSettings({ ...base, [name]: String(min) })[field]).toBe(min);
    expect(parseSettings({ ...base, [name]: String(max) })[field]).toBe(max);
    expect(settingsProblemsOf({ ...base, [name]: String(max + 1) })).toEqual([`${name}="${max + 1}" must be an integer from ${min} to ${max}`]);
    if (min > 0) expect(settingsProblemsOf({ ...base, [name]: String(min - 1) })).toEqual([`${name}="${min - 1}" must be an integer from ${min} to ${max}`]);
  });

  test('defaults when the tunables are unset', () => {
    const s = parseSettings(base);
    expect([s.secretCacheTtlSeconds, s.maxBodyBytes, s.signatureToleranceSeconds, s.logLevel]).toEqual([60, 4 * 1024 * 1024, 300, 'info']);
    expect(parseSettings({ ...base, LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
  });

  test.each([
    ['https://gitlab.example.com', 'https://gitlab.example.com'],
    ['https://gitlab.example.com/', 'https://gitlab.example.com'],
    ['https://gitlab.example.com/gitlab///', 'https://gitlab.example.com/gitlab'],
    ['https://gitlab.example.com/gitlab?x=1#frag', 'https://gitlab.example.com/gitlab'],
    ['http://gitlab.internal:8080/', 'http://gitlab.internal:8080'],
    ['HTTPS://GitLab.Example.com/Root', 'https://gitlab.example.com/Root'],
  ])('GITLAB_URL %s → %s', (raw, url) => {
    const problems: string[] = [];
    expect(parseGitlabUrl(raw, problems)).toBe(url);
    expect(problems).toEqual([]);
  });

  test.each([
    [undefined, undefined, []],
    ['', undefined, []],
    ['gitlab.example.com', undefined, ['GITLAB_URL="gitlab.example.com" is not a URL']],
    ['ftp://gitlab.example.com', undefined, ['GITLAB_URL="ftp://gitlab.example.com" must be an http(s) URL']],
    ['ssh://git@gitlab.example.com', undefined, ['GITLAB_URL="ssh://git@gitlab.example.com" must be an http(s) URL']],
  ])('GITLAB_URL %j → %j', (raw, url, expected) => {
    const problems: string[] = [];
    expect(parseGitlabUrl(raw, problems)).toBe(url);
    expect(problems).toEqual(expected);
    expect(settingsProblemsOf({ ...base, GITLAB_URL: raw })).toEqual(expected);
  });

  describe('ROUTES', () => {
    const routesOf = (raw: string | undefined) => {
      const problems: string[] = [];
      return { routes: parseRoutes(raw, problems), problems };
    };
    const ok = { path: 'acme/shop', kind: 'software', customer: 'acme', branches: ['main'] };

    test.each([undefined, ''])('%j is required', (raw) => {
      expect(routesOf(raw)).toEqual({ routes: [], problems: ['ROUTES is required (a JSON array of {path, kind, customer, branches}; "[]" routes nothing)'] });
    });

    test('invalid JSON names the parser error', () => {
      let parserMessage = '';
      try {
        JSON.parse('[{');
      } catch (e) {
        parserMessage = (e as Error).message;
      }
      expect(routesOf('[{')).toEqual({ routes: [], problems: [`ROUTES is not valid JSON: ${parserMessage}`] });
    });

    test.each(['{}', '"acme/shop"', '3', 'null'])('%s is not an array', (raw) => {
      expect(routesOf(raw)).toEqual({ routes: [], problems: ['ROUTES must be a JSON array'] });
    });

    test('entries that are not objects', () => {
      expect(routesOf(JSON.stringify([null, [ok], 'acme/shop', 3, ok]))).toEqual({
        routes: [ok],
        problems: ['ROUTES[0] must be an object', 'ROUTES[1] must be an object', 'ROUTES[2] must be an object', 'ROUTES[3] must be an object'],
      });
    });

    test('only entries without problems are routes; an earlier bad entry does not drop a later good one', () => {
      const other = { path: 'acme/infra', kind: 'infrastructure', customer: 'acme-eu', branches: ['main', 'release'] };
      const { routes, problems } = routesOf(JSON.stringify([ok, { ...ok, path: 'acme/bad', kind: 'app' }, other]));
      expect(routes).toEqual([ok, other]);
      expect(problems).toEqual(['ROUTES[1].kind must be "software" or "infrastructure"']);
    });

    test.each([
      ['a missing path', { ...ok, path: undefined }, ['ROUTES[0].path must be a GitLab project path such as group/project']],
      ['a numeric path', { ...ok, path: 7 }, ['ROUTES[0].path must be a GitLab project path such as group/project']],
      ['a missing kind', { ...ok, kind: undefined }, ['ROUTES[0].kind must be "software" or "infrastructure"']],
      ['a missing customer', { ...ok, customer: undefined }, ['ROUTES[0].customer must be a customer name (2-20 characters of a-z, 0-9 and single "-")']],
      ['a numeric customer', { ...ok, customer: 12 }, ['ROUTES[0].customer must be a customer name (2-20 characters of a-z, 0-9 and single "-")']],
      ['missing branches', { ...ok, branches: undefined }, ['ROUTES[0].branches must be a non-empty array of branch names']],
      ['branches as a string', { ...ok, branches: 'main' }, ['ROUTES[0].branches must be a non-empty array of branch names']],
      ['no branches', { ...ok, branches: [] }, ['ROUTES[0].branches must be a non-empty array of branch names']],
      ['an empty branch name', { ...ok, branches: ['main', ''] }, ['ROUTES[0].branches must be a non-empty array of branch names']],
      ['a numeric branch name', { ...ok, branches: ['main', 1] }, ['ROUTES[0].branches must be a non-empty array of branch names']],
      ['two unknown fields', { ...ok, extra: 1, more: 2 }, ['ROUTES[0] has unknown field(s) extra, more']],
      ['a path in an array', { ...ok, path: ['acme/shop'] }, ['ROUTES[0].path must be a GitLab project path such as group/project']],
      ['a branch name in an array', { ...ok, branches: ['main', ['dev']] }, ['ROUTES[0].branches must be a non-empty array of branch names']],
    ])('an entry with %s', (_n, entry, problems) => {
      expect(routesOf(JSON.stringify([entry]))).toEqual({ routes: [], problems });
    });

    test('each route is a copy with only the known fields', () => {
      const { routes } = routesOf(JSON.stringify([ok]));
      expect(routes).toEqual([ok]);
      expect(Object.keys(routes[0] ?? {})).toEqual(['path', 'kind', 'customer', 'branches']);
    });

    test('a path listed twice (any case) is a problem; paths that are not strings are not compared', () => {
      expect(routesOf(JSON.stringify([ok, { ...ok, path: 'ACME/Shop' }])).problems).toEqual(['ROUTES[1].path "ACME/Shop" is listed twice']);
      expect(routesOf(JSON.stringify([{ ...ok, path: 1 }, { ...ok, path: 1 }])).problems).toEqual([
        'ROUTES[0].path must be a GitLab project path such as group/project',
        'ROUTES[1].path must be a GitLab project path such as group/project',
      ]);
      expect(routesOf(JSON.stringify([ok, { ...ok, path: 'acme/other' }])).problems).toEqual([]);
      // Compared in lower case: "ß" and "ss" differ (upper case would make both "SS").
      expect(routesOf(JSON.stringify([{ ...ok, path: 'acme/ßhop' }, { ...ok, path: 'acme/sshop' }])).problems).toEqual(['ROUTES[0].path must be a GitLab project path such as group/project']);
    });
  });

  describe('containerSettings (process.env, once per container)', () => {
    const saved = process.env;
    afterEach(() => {
      process.env = saved;
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fresh = () => coldLoad<typeof import('../../lambdas/gitlab-webhook/settings')>(() => require('../../lambdas/gitlab-webhook/settings'));

    test('settings are parsed once and kept', () => {
      const m = fresh();
      process.env = { ...envOf() };
      const first = m.containerSettings();
      expect(first.environment).toBe('dev');
      process.env = { ...envOf(), ENVIRONMENT: 'prod' };
      expect(m.containerSettings()).toBe(first);
    });

    test('the value patterns match whole values (a freshly loaded module)', () => {
      const m = fresh();
      const junk = {
        ARTIFACT_BUCKET: 'Bad_Name/wvm-dev-artifacts',
        ARTIFACT_KMS_KEY_ARN: `x${KMS_KEY_ARN}`,
        CODEBUILD_PROJECT_SOFTWARE: '-x/wvm-dev-source-fetch',
        WEBHOOK_TOKEN_PARAMETER: 'bad name/wvm/dev/token',
        DELIVERY_QUEUE_URL: `x${QUEUE_URL}`,
      };
      const tails = {
        ARTIFACT_BUCKET: 'wvm-dev-artifacts/',
        ARTIFACT_KMS_KEY_ARN: `${KMS_KEY_ARN} `,
        CODEBUILD_PROJECT_SOFTWARE: 'wvm-dev-source-fetch/',
        WEBHOOK_TOKEN_PARAMETER: '/wvm/dev/token/',
        DELIVERY_QUEUE_URL: `${QUEUE_URL}/`,
      };
      for (const values of [junk, tails]) {
        process.env = { ...envOf(), ...values };
        const problems = (() => {
          try {
            m.parseSettings(process.env);
            return [];
          } catch (e) {
            return (e as SettingsError).problems;
          }
        })();
        expect(problems.map((p) => p.slice(0, p.indexOf('=')))).toEqual(['ARTIFACT_BUCKET', 'ARTIFACT_KMS_KEY_ARN', 'CODEBUILD_PROJECT_SOFTWARE', 'WEBHOOK_TOKEN_PARAMETER', 'DELIVERY_QUEUE_URL']);
      }
      // A relative SSM name and an ARN of another partition are fine.
      process.env = { ...envOf(), WEBHOOK_TOKEN_PARAMETER: 'wvm-dev-token', ARTIFACT_KMS_KEY_ARN: KMS_KEY_ARN.replace('arn:aws:', 'arn:aws-cn:') };
      expect(m.containerSettings()).toMatchObject({ webhookTokenParameter: 'wvm-dev-token', artifactKmsKeyArn: KMS_KEY_ARN.replace('arn:aws:', 'arn:aws-cn:') });
    });

    test('a SettingsError is kept too: fixing the env needs a new container', () => {
      const m = fresh();
      process.env = { ...envOf(), ENVIRONMENT: '' };
      expect(() => m.containerSettings()).toThrow(m.SettingsError);
      process.env = { ...envOf() };
      expect(() => m.containerSettings()).toThrow('ENVIRONMENT is required');
    });

    test('any other error is thrown and not kept', () => {
      const m = fresh();
      process.env = Object.defineProperty({ ...envOf() }, 'ROUTES', {
        enumerable: true,
        get: () => {
          throw new TypeError('env unreadable');
        },
      });
      expect(() => m.containerSettings()).toThrow(new TypeError('env unreadable'));
      process.env = { ...envOf() };
      expect(m.containerSettings().environment).toBe('dev');
    });
  });
});

describe('index.handler (the Lambda entry)', () => {
  const entry = webhookEntry();

  test('SDK clients answer within GitLab\'s 10 s: 2 attempts, 1 s to connect, 2.5 s per request', async () => {
    const { handler } = entry.load(envOf());
    expect((await handler(pushEvent())).statusCode).toBe(202);
    for (const call of [entry.aws.ssm.call(0), entry.aws.sqs.call(0)]) {
      const client = call.thisValue as SSMClient | SQSClient;
      expect(await client.config.maxAttempts()).toBe(2);
      const handlerConfig = await (client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider;
      expect(handlerConfig).toMatchObject({ connectionTimeout: 1000, requestTimeout: 2500 });
    }
  });

  test('the logger uses LOG_LEVEL; the summary line goes to stdout', async () => {
    const quiet = entry.load({ ...envOf(), LOG_LEVEL: 'warn' });
    expect((await quiet.handler(pushEvent())).statusCode).toBe(202);
    expect(entry.out).toEqual([]);
    const chatty = entry.load(envOf());
    await chatty.handler(pushEvent(), { awsRequestId: 'req-9' });
    expect(entry.out).toHaveLength(1);
    expect(JSON.parse(entry.out[0] ?? '{}')).toMatchObject({ level: 'info', msg: 'webhook handled', requestId: 'req-9', status: 202 });
  });

  test('the secret cache TTL comes from SECRET_CACHE_TTL_SECONDS', async () => {
    const cached = entry.load(envOf());
    await cached.handler(pushEvent({ event: 'Merge Request Hook' }));
    await cached.handler(pushEvent({ event: 'Merge Request Hook' }));
    expect(entry.aws.calls('GetParameter')).toBe(1);
    const uncached = entry.load(envOf({ secretCacheTtlSeconds: 0 }));
    await uncached.handler(pushEvent({ event: 'Merge Request Hook' }));
    await uncached.handler(pushEvent({ event: 'Merge Request Hook' }));
    expect(entry.aws.calls('GetParameter')).toBe(3);
  });

  test('invalid settings: 500 and one error line with every problem, on every request', async () => {
    const { handler } = entry.load({ ...envOf(), ENVIRONMENT: '' });
    const res = await handler(pushEvent(), { awsRequestId: 'req-1' });
    expect(res).toEqual({ statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"server misconfigured"}' });
    const { time: _t, ...line } = JSON.parse(entry.out[0] ?? '{}') as Record<string, unknown>;
    expect(line).toEqual({
      level: 'error',
      msg: 'invalid settings; every request fails until the function configuration is fixed',
      requestId: 'req-1',
      problems: ['ENVIRONMENT is required (an environment name (2-10 of a-z, 0-9, starting with a letter))'],
    });
    expect((await handler(pushEvent())).statusCode).toBe(500);
    expect(JSON.parse(entry.out[1] ?? '{}')).toMatchObject({ requestId: null });
  });

  test('an error other than bad settings is logged by name and message', async () => {
    const env = Object.defineProperty({ ...entry.saved, ...envOf() }, 'ROUTES', {
      enumerable: true,
      get: () => {
        throw new TypeError('env unreadable');
      },
    });
    process.env = env;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = coldLoad<typeof import('../../lambdas/gitlab-webhook/index')>(() => require('../../lambdas/gitlab-webhook/index'));
    const res = await mod.handler(pushEvent(), { awsRequestId: 'req-2' });
    expect(res.statusCode).toBe(500);
    const { time: _t, ...line } = JSON.parse(entry.out[0] ?? '{}') as Record<string, unknown>;
    expect(line).toEqual({ level: 'error', msg: 'invalid settings; every request fails until the function configuration is fixed', requestId: 'req-2', errorName: 'TypeError', errorMessage: 'env unreadable' });
  });

  // Through a freshly loaded module graph: the module-level helpers (auth's and payload's result
  // constructors, the SDK loaders) are the ones this container uses.
  test('refusals, ignores and rejections through the entry', async () => {
    const { handler } = entry.load(envOf());
    expect(await handler(pushEvent({ headers: { 'X-Gitlab-Token': '' } }))).toEqual({ statusCode: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"unauthorized"}' });
    expect(await handler(pushEvent({ headers: { 'X-Gitlab-Token': 'wrong' } }))).toEqual({ statusCode: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"unauthorized"}' });
    expect(await handler(pushEvent({ event: 'Note Hook' }))).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ignored","reason":"event \\"Note Hook\\" needs no build"}' });
    expect(await handler(pushEvent({ body: '[]' }))).toEqual({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"the body must be a JSON object"}' });
    expect(await handler(pushEvent({ body: fixtureText('tag-push.json'), event: 'Tag Push Hook' }))).toMatchObject({ statusCode: 200 });
    expect((await handler(pushEvent())).statusCode).toBe(202);
    expect(entry.out.map((l) => (JSON.parse(l) as { status: number; reason?: string }).reason ?? (JSON.parse(l) as { status: number }).status)).toEqual([
      'missing X-Gitlab-Token',
      'wrong X-Gitlab-Token',
      'event "Note Hook" needs no build',
      'the body must be a JSON object',
      'tag pushes are not built (TAG_PUSHES=false)',
      202,
    ]);
  });

  test('signature mode through the entry', async () => {
    const { handler } = entry.load(envOf({ authMode: 'signature' }));
    const body = Buffer.from(fixtureText('push.json'));
    const headers = { ...deliveryHeaders(), ...signatureHeaders(body, { timestampSeconds: Math.floor(Date.now() / 1000) }) };
    expect((await handler(apiEvent({ body: body.toString(), headers }))).statusCode).toBe(202);
    expect((await handler(apiEvent({ body: body.toString(), headers: { ...headers, 'webhook-signature': 'v2,x' } }))).statusCode).toBe(401);
    expect((await handler(apiEvent({ body: body.toString(), headers: { ...headers, 'webhook-timestamp': '1' } }))).statusCode).toBe(401);
  });

  test('the handler is created once per container', async () => {
    const { handler } = entry.load(envOf());
    await handler(pushEvent({ event: 'Merge Request Hook' }));
    await handler(pushEvent({ event: 'Merge Request Hook' }));
    // One secret source (one cache): the second request reads no secret.
    expect(entry.aws.calls('GetParameter')).toBe(1);
  });
});

describe('decide (payload)', () => {
  type Doc = Record<string, unknown> & { after: string; before: string; project: Record<string, unknown>; repository: Record<string, unknown>; commits: Array<Record<string, unknown>> };
  const push = (): Doc => fixture<Doc>('push.json');
  const tag = (): Doc => fixture<Doc>('tag-push.json');
  const ROUTE: Route = { path: 'acme/web-shop', kind: 'software', customer: 'acme', branches: ['main', 'v1.2.0'] };
  const CFG: RoutingConfig = { environment: 'dev', routes: [ROUTE], tagPushes: true, gitlabUrl: 'https://gitlab.example.com' };
  const HTTP = 'https://gitlab.example.com/acme/web-shop.git';
  const SSH = 'git@gitlab.example.com:acme/web-shop.git';
  const P = push();
  const decideDoc = (doc: unknown, event = 'Push Hook', cfg: Partial<RoutingConfig> = {}) => decide(event, Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)), { ...CFG, ...cfg });
  const rejected = (message: string) => ({ action: 'reject', message });
  const ignored = (reason: string) => ({ action: 'ignore', reason });

  test('a push: the whole decision', () => {
    const last = P.commits[1] as { id: string; message: string; timestamp: string; author: { name: string; email: string } };
    expect(decideDoc(P)).toEqual({
      action: 'build',
      push: {
        event: 'Push Hook',
        ref: 'refs/heads/main',
        refType: 'branch',
        branch: 'main',
        before: P.before,
        after: P.after,
        commit: { sha: P.after, message: last.message, authorName: last.author.name, authorEmail: last.author.email, timestamp: last.timestamp },
        project: { id: 4711, path: 'acme/web-shop', httpUrl: HTTP, sshUrl: SSH },
        route: ROUTE,
      },
    });
  });

  test('a tag push: the tagged commit (checkout_sha), tag ref type', () => {
    const T = tag();
    expect(decideDoc(T, 'Tag Push Hook')).toEqual({
      action: 'build',
      push: {
        event: 'Tag Push Hook',
        ref: 'refs/tags/v1.2.0',
        refType: 'tag',
        branch: 'v1.2.0',
        before: T.before,
        after: T.after,
        commit: expect.objectContaining({ sha: T.checkout_sha }),
        project: { id: 4711, path: 'acme/web-shop', httpUrl: HTTP, sshUrl: SSH },
        route: ROUTE,
      },
    });
  });

  test.each([
    ['no event header', undefined, ignored('x'), rejected('missing X-Gitlab-Event header')],
    ['an empty event header', '', ignored('x'), rejected('missing X-Gitlab-Event header')],
    ['a system hook', 'System Hook', null, ignored('system hooks are not used; configure a project or group webhook')],
    ['another event', 'Note Hook', null, ignored('event "Note Hook" needs no build')],
    ['a lower-case push event', 'push hook', null, ignored('event "push hook" needs no build')],
    ['a long event name (cut to 60)', 'N'.repeat(61), null, ignored(`event "${'N'.repeat(60)}" needs no build`)],
  ])('%s', (_n, event, _unused, decision) => {
    expect(decide(event, Buffer.from(JSON.stringify(P)), CFG)).toEqual(decision);
  });

  test('tag pushes while TAG_PUSHES=false are ignored before the body is read', () => {
    expect(decide('Tag Push Hook', Buffer.from('not json'), { ...CFG, tagPushes: false })).toEqual(ignored('tag pushes are not built (TAG_PUSHES=false)'));
    expect(decide('Push Hook', Buffer.from(JSON.stringify(P)), { ...CFG, tagPushes: false }).action).toBe('build');
  });

  test('body problems', () => {
    expect(decide('Push Hook', Buffer.alloc(0), CFG)).toEqual(rejected('the body is empty; expected a JSON push event'));
    let parserMessage = '';
    try {
      JSON.parse('{"a":');
    } catch (e) {
      parserMessage = (e as Error).message;
    }
    expect(decideDoc('{"a":')).toEqual(rejected(`the body is not valid JSON: ${parserMessage}`));
    const long = `{"${'k'.repeat(300)}`;
    const result = decideDoc(long) as { message: string };
    expect(result.message.length).toBeLessThanOrEqual('the body is not valid JSON: '.length + 200);
    expect(result.message.startsWith('the body is not valid JSON: ')).toBe(true);
    for (const v of ['null', '"push"', '3', '[]']) expect(decideDoc(v)).toEqual(rejected('the body must be a JSON object'));
  });

  test.each([
    ['object_kind of a tag push', { object_kind: 'tag_push' }, 'Push Hook', 'object_kind must be "push" for Push Hook, got "tag_push"'],
    ['object_kind of a push in a tag push', { object_kind: 'push' }, 'Tag Push Hook', 'object_kind must be "tag_push" for Tag Push Hook, got "push"'],
    ['no object_kind', { object_kind: undefined }, 'Push Hook', 'object_kind must be "push" for Push Hook, got (missing)'],
    ['a numeric ref', { ref: 7 }, 'Push Hook', 'ref must be a string starting with "refs/heads/", got 7'],
    ['a ref that is only the prefix', { ref: 'refs/heads/' }, 'Push Hook', 'ref must be a string starting with "refs/heads/", got "refs/heads/"'],
    ['a branch ref in a tag push', { object_kind: 'tag_push', ref: 'refs/heads/main' }, 'Tag Push Hook', 'ref must be a string starting with "refs/tags/", got "refs/heads/main"'],
    ['an upper-case after', { after: P.after.toUpperCase() }, 'Push Hook', `after must be a 40 or 64 hex digit commit id, got "${P.after.toUpperCase()}"`],
    ['a numeric after', { after: 12 }, 'Push Hook', 'after must be a 40 or 64 hex digit commit id, got 12'],
    ['a null before', { before: null }, 'Push Hook', 'before must be a 40 or 64 hex digit commit id, got null'],
    ['a short before', { before: 'abc' }, 'Push Hook', 'before must be a 40 or 64 hex digit commit id, got "abc"'],
    // An array of one commit id converts to that string: the type check, not the pattern, refuses it.
    ['an after in an array', { after: [P.after] }, 'Push Hook', `after must be a 40 or 64 hex digit commit id, got ["${P.after}"]`],
    ['a before in an array', { before: [P.before] }, 'Push Hook', `before must be a 40 or 64 hex digit commit id, got ["${P.before}"]`],
  ])('%s', (_n, change, event, message) => {
    expect(decideDoc({ ...push(), ...change }, event)).toEqual(rejected(message));
  });

  test('long values are cut to 77 characters and "..." in messages; 80 characters are shown whole', () => {
    const ref80 = `x${'y'.repeat(77)}`; // JSON-quoted: 80 characters
    expect(decideDoc({ ...push(), ref: ref80 })).toEqual(rejected(`ref must be a string starting with "refs/heads/", got "${ref80}"`));
    const ref81 = `${ref80}z`;
    expect(decideDoc({ ...push(), ref: ref81 })).toEqual(rejected(`ref must be a string starting with "refs/heads/", got ${JSON.stringify(ref81).slice(0, 77)}...`));
  });

  test('an all-zero after is a deletion (40 or 64 zeros), for branches and tags', () => {
    expect(decideDoc({ ...push(), after: '0'.repeat(40) })).toEqual(ignored('branch main was deleted'));
    expect(decideDoc({ ...push(), after: '0'.repeat(64) })).toEqual(ignored('branch main was deleted'));
    expect(decideDoc({ ...tag(), after: '0'.repeat(40) }, 'Tag Push Hook')).toEqual(ignored('tag v1.2.0 was deleted'));
    // Only all-zero: a commit id with leading zeros is built.
    expect(decideDoc({ ...push(), after: `0${P.after.slice(1)}` }).action).toBe('build');
    expect(decideDoc({ ...push(), after: `a${'0'.repeat(39)}` }).action).toBe('build');
  });

  test('a 64-digit (SHA-256) commit id is built', () => {
    const sha = 'a'.repeat(64);
    expect(decideDoc({ ...push(), after: sha, before: 'b'.repeat(64), commits: [] })).toMatchObject({ action: 'build', push: { after: sha, before: 'b'.repeat(64), commit: { sha } } });
  });

  test.each([
    ['no project', { project: undefined }],
    ['a project that is a string', { project: 'acme/web-shop' }],
    ['a project that is an array', { project: ['acme/web-shop'] }],
    ['an empty path', { project: { ...P.project, path_with_namespace: '' } }],
    ['a numeric path', { project: { ...P.project, path_with_namespace: 5 } }],
  ])('%s: the path is missing', (_n, change) => {
    expect(decideDoc({ ...push(), ...change })).toEqual(rejected('project.path_with_namespace is missing or not a string'));
  });

  test('routing: unknown repository, unrouted branch or tag', () => {
    expect(decideDoc(push(), 'Push Hook', { routes: [] })).toEqual(ignored('repository acme/web-shop is not routed to environment dev'));
    expect(decideDoc({ ...push(), ref: 'refs/heads/develop' }, 'Push Hook', { environment: 'prod' })).toEqual(ignored('branch develop of acme/web-shop is not routed to environment prod'));
    expect(decideDoc({ ...tag(), ref: 'refs/tags/v9' }, 'Tag Push Hook')).toEqual(ignored('tag v9 of acme/web-shop is not routed to environment dev'));
    // Branch names match exactly.
    expect(decideDoc({ ...push(), ref: 'refs/heads/Main' })).toEqual(ignored('branch Main of acme/web-shop is not routed to environment dev'));
    // The first route with the path (any case) is used.
    const infra: Route = { ...ROUTE, kind: 'infrastructure', path: 'ACME/WEB-SHOP', customer: 'other' };
    expect(decideDoc(push(), 'Push Hook', { routes: [{ ...ROUTE, path: 'acme/other' }, infra] })).toMatchObject({ action: 'build', push: { route: infra } });
  });

  test.each([
    ['project.id', { project: { ...P.project, id: 7 } }, 7],
    ['project_id when project.id is absent', { project: { ...P.project, id: undefined }, project_id: 8 }, 8],
    ['project.id over project_id', { project: { ...P.project, id: 9 }, project_id: 8 }, 9],
    ['project_id when project.id is null', { project: { ...P.project, id: null }, project_id: 8 }, 8],
    ['id 0', { project: { ...P.project, id: 0 } }, 0],
  ])('the project id: %s', (_n, change, id) => {
    expect(decideDoc({ ...push(), ...change })).toMatchObject({ action: 'build', push: { project: { id } } });
  });

  test.each([
    ['a string id', '"4711"'],
    ['a negative id', -1],
    ['a fraction', 1.5],
    ['an unsafe integer', 2 ** 53],
  ])('the project id: %s is refused', (_n, id) => {
    const value = typeof id === 'string' ? JSON.parse(id) : id;
    expect(decideDoc({ ...push(), project_id: undefined, project: { ...P.project, id: value } })).toEqual(rejected(`project.id is missing or not an integer, got ${JSON.stringify(value)}`));
  });

  test('clone URLs: project.git_*_url, then project.*_url, then repository.git_*_url; empty strings are skipped', () => {
    const other = 'https://gitlab.example.com/acme/Web-Shop';
    const otherSsh = 'git@gitlab.example.com:acme/Web-Shop';
    const pick = (project: Record<string, unknown>, repository: unknown) =>
      (decideDoc({ ...push(), project: { ...P.project, git_http_url: undefined, http_url: undefined, git_ssh_url: undefined, ssh_url: undefined, ...project }, repository }) as { push?: { project: unknown } }).push?.project;
    expect(pick({ git_http_url: HTTP, http_url: other, git_ssh_url: SSH, ssh_url: otherSsh }, { git_http_url: other, git_ssh_url: otherSsh })).toMatchObject({ httpUrl: HTTP, sshUrl: SSH });
    expect(pick({ git_http_url: '', http_url: HTTP, git_ssh_url: '', ssh_url: SSH }, { git_http_url: other, git_ssh_url: otherSsh })).toMatchObject({ httpUrl: HTTP, sshUrl: SSH });
    expect(pick({ http_url: 5, ssh_url: 6 }, { git_http_url: HTTP, git_ssh_url: SSH })).toMatchObject({ httpUrl: HTTP, sshUrl: SSH });
    expect(pick({ git_http_url: HTTP, git_ssh_url: SSH }, 'not an object')).toMatchObject({ httpUrl: HTTP, sshUrl: SSH });
    expect(decideDoc({ ...push(), project: { ...P.project, git_http_url: undefined, http_url: undefined }, repository: null })).toEqual(
      rejected('project.git_http_url (or repository.git_http_url) is missing'),
    );
    expect(decideDoc({ ...push(), project: { ...P.project, git_ssh_url: undefined, ssh_url: undefined }, repository: [] })).toEqual(rejected('project.git_ssh_url (or repository.git_ssh_url) is missing'));
  });

  test('clone URL problems name the URL', () => {
    expect(decideDoc({ ...push(), project: { ...P.project, git_http_url: 'https://evil.example.net/acme/web-shop.git' } })).toEqual(
      rejected('project.git_http_url "https://evil.example.net/acme/web-shop.git" is not under the configured GitLab URL https://gitlab.example.com'),
    );
    expect(decideDoc({ ...push(), project: { ...P.project, git_ssh_url: 'git@gitlab.example.com:evil/web-shop.git' } })).toEqual(
      rejected('project.git_ssh_url "git@gitlab.example.com:evil/web-shop.git" has the repository path "evil/web-shop.git", not the routed project acme/web-shop (compared case-insensitively, ".git" optional)'),
    );
  });

  test.each([
    ['missing', undefined, '(missing)'],
    ['null', null, 'null'],
    ['short', 'abc', '"abc"'],
    ['in an array', ['9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a09'], '["9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a09"]'],
  ])('a tag push with checkout_sha %s is refused', (_n, checkout, shown) => {
    expect(decideDoc({ ...tag(), checkout_sha: checkout }, 'Tag Push Hook')).toEqual(rejected(`checkout_sha must be the tagged commit id, got ${shown}`));
  });

  test('a branch push ignores checkout_sha', () => {
    expect(decideDoc({ ...push(), checkout_sha: null })).toMatchObject({ action: 'build', push: { commit: { sha: P.after } } });
    expect(decideDoc({ ...push(), checkout_sha: 'c'.repeat(40) })).toMatchObject({ action: 'build', push: { commit: { sha: P.after } } });
  });

  test.each([
    ['commits is not an array', { commits: { id: P.after } }, { message: null, authorName: null, authorEmail: null, timestamp: null }],
    ['the commit is not listed', { commits: [{ id: 'f'.repeat(40), message: 'm' }] }, { message: null, authorName: null, authorEmail: null, timestamp: null }],
    ['junk entries are skipped', { commits: [null, 'x', [P.after], { id: P.after, message: 'm', timestamp: 't', author: { name: 'n', email: 'e' } }] }, { message: 'm', authorName: 'n', authorEmail: 'e', timestamp: 't' }],
    ['the author is not an object', { commits: [{ id: P.after, message: 'm', author: 'Ada' }] }, { message: 'm', authorName: null, authorEmail: null, timestamp: null }],
    ['the author is an array', { commits: [{ id: P.after, message: 'm', author: ['Ada'] }] }, { message: 'm', authorName: null, authorEmail: null, timestamp: null }],
    ['fields are not strings', { commits: [{ id: P.after, message: 1, timestamp: 2, author: { name: 3, email: null } }] }, { message: null, authorName: null, authorEmail: null, timestamp: null }],
  ])('commit details: %s', (_n, change, details) => {
    expect(decideDoc({ ...push(), ...change })).toMatchObject({ action: 'build', push: { commit: { sha: P.after, ...details } } });
  });
});
