/**
 * The source config file (lambdas/shared/source-config.ts): the contract between the webhook's
 * worker, which writes it, and the clone-and-upload program, which clones what it names. Every field
 * the clone program passes to git or uses as an S3 key is checked; these cases pin each refusal
 * with its exact message (the message is what an operator reads in the build log) and the exact
 * config a valid file yields.
 */
import { COMMIT_SHA, headMarkerKeyOf, parseSourceConfig, SourceConfig, SourceConfigError, SOURCE_CONFIG_VERSION, targetKeyOf } from '../../lambdas/shared/source-config';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C64 = 'c'.repeat(64);

/** A config as the worker writes it for a push to acme/web-shop main (fields as in the fixture push.json). */
const VALID: SourceConfig = {
  version: 1,
  environment: 'dev',
  deliveryKey: 'f6b5e0a1-3c2d-4e8f-9a7b-1c2d3e4f5a6b',
  eventUuid: '7d3e6c2a-1b4f-4a9e-8c5d-0e2f4a6b8c1d',
  event: 'Push Hook',
  receivedAt: '2025-03-01T10:30:00.000Z',
  project: { id: 4711, path: 'acme/web-shop', httpUrl: 'https://gitlab.example.com/acme/web-shop.git', sshUrl: 'git@gitlab.example.com:acme/web-shop.git' },
  ref: 'refs/heads/main',
  refType: 'branch',
  branch: 'main',
  before: A,
  after: B,
  commit: { sha: B, message: 'Fix checkout total\n', authorName: 'Bob Builder', authorEmail: 'bob@example.com', timestamp: '2025-03-01T11:20:30+01:00' },
  customer: 'acme',
  kind: 'software',
  targetKey: 'software/acme/main.zip',
};

type Doc = Record<string, unknown>;
const text = (over: (d: Doc) => void): string => {
  const d = JSON.parse(JSON.stringify(VALID)) as Doc;
  over(d);
  return JSON.stringify(d);
};
const project = (d: Doc) => d.project as Doc;
const commit = (d: Doc) => d.commit as Doc;
/** The ref, branch and target key of one branch (they must agree). */
const onBranch = (branch: string) => (d: Doc) => {
  d.branch = branch;
  d.ref = `refs/heads/${branch}`;
  d.targetKey = `software/acme/${branch}.zip`;
};

const refusal = (t: string): string => {
  try {
    parseSourceConfig(t);
  } catch (e) {
    expect(e).toBeInstanceOf(SourceConfigError);
    expect((e as Error).name).toBe('SourceConfigError');
    return (e as Error).message;
  }
  throw new Error('the config was accepted');
};

describe('parseSourceConfig', () => {
  test('a valid file yields exactly its config', () => {
    expect(parseSourceConfig(JSON.stringify(VALID))).toEqual(VALID);
    expect(SOURCE_CONFIG_VERSION).toBe(1);
  });

  test('unknown fields are dropped; null and missing optional strings are null', () => {
    const t = text((d) => {
      d.extra = 'ignored';
      project(d).namespace = 'acme';
      d.eventUuid = null;
      delete commit(d).message;
      commit(d).authorName = null;
      delete commit(d).authorEmail;
      commit(d).timestamp = null;
      commit(d).extra = 1;
    });
    expect(parseSourceConfig(t)).toEqual({ ...VALID, eventUuid: null, commit: { sha: B, message: null, authorName: null, authorEmail: null, timestamp: null } });
  });

  test('a tag: refs/tags/<tag>, 64-digit commit ids, project id 0, an http clone URL with a port are accepted as they are', () => {
    const t = text((d) => {
      d.refType = 'tag';
      d.ref = 'refs/tags/v1.2.0';
      d.branch = 'v1.2.0';
      d.kind = 'infrastructure';
      d.targetKey = 'infrastructure/acme/v1.2.0.zip';
      d.before = C64;
      d.after = C64;
      commit(d).sha = C64;
      project(d).id = 0;
      project(d).httpUrl = 'http://gitlab.example.com:8080/acme/web-shop.git';
    });
    expect(parseSourceConfig(t)).toMatchObject({ refType: 'tag', ref: 'refs/tags/v1.2.0', branch: 'v1.2.0', kind: 'infrastructure', targetKey: 'infrastructure/acme/v1.2.0.zip', before: C64, after: C64, commit: { sha: C64 }, project: { id: 0, httpUrl: 'http://gitlab.example.com:8080/acme/web-shop.git' } });
  });

  test.each(['feature/checkout-v2', 'release_2025.03', 'a', 'fix@home', 'x.y-z'])('branch %s is a safe ref name', (branch) => {
    expect(parseSourceConfig(text(onBranch(branch))).branch).toBe(branch);
  });

  test('a file that is not JSON names the parser error', () => {
    let parserMessage = '';
    try {
      JSON.parse('{"version": 1,');
    } catch (e) {
      parserMessage = (e as Error).message;
    }
    expect(refusal('{"version": 1,')).toBe(`the config file is not JSON: ${parserMessage}`);
  });

  test.each(['null', '[1]', '"config"', '1'])('a root of %s is refused', (t) => {
    expect(refusal(t)).toBe('(root) must be an object');
  });

  test.each<[string, (d: Doc) => void, string]>([
    ['version missing', (d) => delete d.version, 'unsupported config version undefined; expected 1'],
    ['version 2', (d) => (d.version = 2), 'unsupported config version 2; expected 1'],
    ['version "1"', (d) => (d.version = '1'), 'unsupported config version "1"; expected 1'],
    ['project missing', (d) => delete d.project, 'project must be an object'],
    ['project null', (d) => (d.project = null), 'project must be an object'],
    ['project an array', (d) => (d.project = []), 'project must be an object'],
    ['commit a string', (d) => (d.commit = B), 'commit must be an object'],
    ['refType missing', (d) => delete d.refType, 'refType must be one of branch, tag, got undefined'],
    ['refType heads', (d) => (d.refType = 'heads'), 'refType must be one of branch, tag, got "heads"'],
    ['refType a number', (d) => (d.refType = 1), 'refType must be one of branch, tag, got 1'],
    ['kind unknown', (d) => (d.kind = 'model'), 'kind must be one of software, infrastructure, got "model"'],
    ['ref missing', (d) => delete d.ref, 'ref must be a non-empty string'],
    ['branch empty', (d) => (d.branch = ''), 'branch must be a non-empty string'],
    ['ref of another branch', (d) => (d.ref = 'refs/heads/develop'), 'ref "refs/heads/develop" does not match refType branch and branch "main"'],
    ['a tag ref for a branch', (d) => (d.ref = 'refs/tags/main'), 'ref "refs/tags/main" does not match refType branch and branch "main"'],
    ['a branch ref for a tag', (d) => (d.refType = 'tag'), 'ref "refs/heads/main" does not match refType tag and branch "main"'],
    ['customer a number', (d) => (d.customer = 7), 'customer must be a non-empty string'],
    ['customer upper case', (d) => ((d.customer = 'Acme'), (d.targetKey = 'software/Acme/main.zip')), 'customer "Acme" is not a valid customer name'],
    ['customer with a slash', (d) => ((d.customer = 'acme/../x'), (d.targetKey = 'software/acme/../x/main.zip')), 'customer "acme/../x" is not a valid customer name'],
    ['targetKey missing', (d) => delete d.targetKey, 'targetKey must be a non-empty string'],
    ['targetKey of another customer', (d) => (d.targetKey = 'software/other/main.zip'), 'targetKey "software/other/main.zip" is not "software/acme/main.zip"'],
    ['targetKey of another kind', (d) => (d.targetKey = 'infrastructure/acme/main.zip'), 'targetKey "infrastructure/acme/main.zip" is not "software/acme/main.zip"'],
    ['project.id a string', (d) => (project(d).id = '4711'), 'project.id must be a non-negative integer, got "4711"'],
    ['project.id missing', (d) => delete project(d).id, 'project.id must be a non-negative integer, got undefined'],
    ['project.id negative', (d) => (project(d).id = -1), 'project.id must be a non-negative integer, got -1'],
    ['project.id a fraction', (d) => (project(d).id = 1.5), 'project.id must be a non-negative integer, got 1.5'],
    ['project.id beyond 2^53', (d) => (project(d).id = 2 ** 53), 'project.id must be a non-negative integer, got 9007199254740992'],
    ['environment missing', (d) => delete d.environment, 'environment must be a non-empty string'],
    ['deliveryKey empty', (d) => (d.deliveryKey = ''), 'deliveryKey must be a non-empty string'],
    ['eventUuid a number', (d) => (d.eventUuid = 5), 'eventUuid must be a string or null'],
    ['event missing', (d) => delete d.event, 'event must be a non-empty string'],
    ['receivedAt empty', (d) => (d.receivedAt = ''), 'receivedAt must be a non-empty string'],
    ['project.path missing', (d) => delete project(d).path, 'project.path must be a non-empty string'],
    ['project.httpUrl empty', (d) => (project(d).httpUrl = ''), 'project.httpUrl must be a non-empty string'],
    ['project.httpUrl not a URL', (d) => (project(d).httpUrl = 'gitlab.example.com/acme/web-shop.git'), 'project.httpUrl is not a URL'],
    ['project.httpUrl a file URL', (d) => (project(d).httpUrl = 'file:///etc/passwd'), 'project.httpUrl must be an http(s) URL'],
    ['project.httpUrl ext:: transport', (d) => (project(d).httpUrl = 'ext::sh -c touch% /tmp/pwned'), 'project.httpUrl must be an http(s) URL'],
    ['project.httpUrl with a user', (d) => (project(d).httpUrl = 'https://oauth2@gitlab.example.com/acme/web-shop.git'), 'project.httpUrl must not carry credentials'],
    ['project.httpUrl with a password only', (d) => (project(d).httpUrl = 'https://:glpat-x@gitlab.example.com/acme/web-shop.git'), 'project.httpUrl must not carry credentials'],
    ['project.sshUrl missing', (d) => delete project(d).sshUrl, 'project.sshUrl must be a non-empty string'],
    ['before empty', (d) => (d.before = ''), 'before must be a non-empty string'],
    ['before short', (d) => (d.before = 'abc1234'), 'before must be a 40 or 64 hex digit commit id, got "abc1234"'],
    ['after upper case', (d) => (d.after = B.toUpperCase()), `after must be a 40 or 64 hex digit commit id, got "${B.toUpperCase()}"`],
    ['after an option', (d) => (d.after = '--upload-pack=x'), 'after must be a 40 or 64 hex digit commit id, got "--upload-pack=x"'],
    ['commit.sha 41 digits', (d) => (commit(d).sha = `${B}b`), `commit.sha must be a 40 or 64 hex digit commit id, got "${B}b"`],
    ['commit.message a number', (d) => (commit(d).message = 1), 'commit.message must be a string or null'],
    ['commit.authorName an object', (d) => (commit(d).authorName = {}), 'commit.authorName must be a string or null'],
    ['commit.authorEmail false', (d) => (commit(d).authorEmail = false), 'commit.authorEmail must be a string or null'],
    ['commit.timestamp a number', (d) => (commit(d).timestamp = 1740824430), 'commit.timestamp must be a string or null'],
  ])('%s is refused', (_, over, message) => {
    expect(refusal(text(over))).toBe(message);
  });

  test.each([
    ['-main', 'an option'],
    ['a..b', 'a range'],
    ['a b', 'a space'],
    ['a\tb', 'a tab'],
    ['a\\b', 'a backslash'],
    ['a:b', 'a colon'],
    ['a~1', 'a tilde'],
    ['a^1', 'a caret'],
    ['a?', 'a question mark'],
    ['a*', 'a star'],
    ['a[0]', 'a bracket'],
    ['main ', 'a trailing space'],
    [' main', 'a leading space'],
  ])('branch %j (%s) is not a safe git ref name', (branch) => {
    expect(refusal(text(onBranch(branch)))).toBe(`branch ${JSON.stringify(branch)} is not a safe git ref name`);
  });
});

describe('keys', () => {
  test('targetKeyOf: <kind>/<customer>/<branch>.zip', () => {
    expect(targetKeyOf('software', 'acme', 'main')).toBe('software/acme/main.zip');
    expect(targetKeyOf('infrastructure', 'globex', 'release/2025')).toBe('infrastructure/globex/release/2025.zip');
  });

  test('headMarkerKeyOf: webhook/<env>/heads/<kind>/<customer>/<branch>/<sha>', () => {
    expect(headMarkerKeyOf('dev', 'software', 'acme', 'main', B)).toBe(`webhook/dev/heads/software/acme/main/${B}`);
    expect(headMarkerKeyOf('prod', 'infrastructure', 'globex', 'release/2025', C64)).toBe(`webhook/prod/heads/infrastructure/globex/release/2025/${C64}`);
  });

  test('COMMIT_SHA: 40 or 64 lower-case hex digits', () => {
    for (const ok of [A, C64, '0123456789abcdef0123456789abcdef01234567']) expect(COMMIT_SHA.test(ok)).toBe(true);
    for (const bad of ['', 'a'.repeat(39), 'a'.repeat(41), 'a'.repeat(63), 'a'.repeat(65), 'A'.repeat(40), 'g'.repeat(40), ` ${A}`]) expect(COMMIT_SHA.test(bad)).toBe(false);
  });
});
