/**
 * Issue 10: a push starts the right pipeline and no other. The synthesized source rules of every
 * customer stack are evaluated against sample CloudTrail S3 data events with a local EventBridge
 * matcher (support/event-pattern.ts, which is first tested here on the documented rules).
 */
import * as fc from 'fast-check';
import { customerPipelineNames } from '../stacks/model/naming';
import { sourceKeyWrittenPattern } from '../stacks/model/software-delivery';
import { Pattern, checkPattern, matchesPattern } from './support/event-pattern';
import { resources, synthAllStacks } from './support/synth';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const PROJECT = 'acme-web';
const bucketOf = (env: string) => `${PROJECT}-${env}-artifacts-${ACCOUNT}-${REGION}`;

/** A CloudTrail data event as EventBridge delivers it (shape of an S3 PutObject via CloudTrail). */
function cloudTrailS3Event(bucket: string, key: string, eventName = 'PutObject', over: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '6f1c1b2e-0000-4000-8000-000000000001',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.s3',
    account: ACCOUNT,
    time: '2025-01-01T12:00:00Z',
    region: REGION,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${PROJECT}-dev-gitlab-source-fetch-software/build` },
      eventTime: '2025-01-01T12:00:00Z',
      eventSource: 's3.amazonaws.com',
      eventName,
      awsRegion: REGION,
      requestParameters: { bucketName: bucket, Host: `${bucket}.s3.${REGION}.amazonaws.com`, key },
      responseElements: null,
      readOnly: false,
      resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }],
      eventType: 'AwsApiCall',
      managementEvent: false,
      eventCategory: 'Data',
      ...over,
    },
  };
}

describe('the matcher follows the documented rules', () => {
  const ev = { source: 'aws.s3', detail: { n: 5, s: 'Hello', list: ['a', 'b'], nested: { x: 'y' }, nul: null } };
  test.each<[string, Pattern, boolean]>([
    ['exact string', { source: ['aws.s3'] }, true],
    ['exact is case-sensitive', { source: ['AWS.S3'] }, false],
    ['array is OR', { source: ['aws.ec2', 'aws.s3'] }, true],
    ['all fields are AND', { source: ['aws.s3'], detail: { s: ['nope'] } }, false],
    ['nested object', { detail: { nested: { x: ['y'] } } }, true],
    ['nested object, wrong value', { detail: { nested: { x: ['z'] } } }, false],
    ['prefix', { detail: { s: [{ prefix: 'Hel' }] } }, true],
    ['prefix miss', { detail: { s: [{ prefix: 'hel' }] } }, false],
    ['suffix', { detail: { s: [{ suffix: 'llo' }] } }, true],
    ['equals-ignore-case', { detail: { s: [{ 'equals-ignore-case': 'hello' }] } }, true],
    ['anything-but value', { detail: { s: [{ 'anything-but': 'Bye' }] } }, true],
    ['anything-but list hit', { detail: { s: [{ 'anything-but': ['Bye', 'Hello'] }] } }, false],
    ['anything-but prefix', { detail: { s: [{ 'anything-but': { prefix: 'He' } }] } }, false],
    ['anything-but on a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
    ['exists true', { detail: { s: [{ exists: true }] } }, true],
    ['exists false on a present field', { detail: { s: [{ exists: false }] } }, false],
    ['exists false on a missing field', { detail: { missing: [{ exists: false }] } }, true],
    ['missing field never matches a literal', { detail: { missing: ['x'] } }, false],
    ['event array: any element', { detail: { list: ['b'] } }, true],
    ['event array: no element', { detail: { list: ['c'] } }, false],
    ['numeric range', { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric miss', { detail: { n: [{ numeric: ['<', 5] }] } }, false],
    ['number literal', { detail: { n: [5] } }, true],
    ['string "5" is not number 5', { detail: { n: ['5'] } }, false],
    ['null literal', { detail: { nul: [null] } }, true],
    ['wildcard', { detail: { s: [{ wildcard: 'H*o' }] } }, true],
  ])('%s', (_, pattern, expected) => {
    expect(matchesPattern(pattern, ev)).toBe(expected);
  });

  test('rejects patterns EventBridge rejects', () => {
    expect(() => checkPattern({ source: [] })).toThrow(/empty array/);
    expect(() => checkPattern({ source: 'aws.s3' })).toThrow(/leaf must be an array/);
    expect(() => checkPattern({ source: [{ regex: 'x' }] })).toThrow(/unknown filter/);
  });

  test('property: an exact key pattern matches exactly that key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 30 }), (a, b) => {
        const pattern = sourceKeyWrittenPattern('bkt', a) as unknown as Pattern;
        expect(matchesPattern(pattern, cloudTrailS3Event('bkt', b))).toBe(a === b);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The synthesized source rules of every customer stack
// ---------------------------------------------------------------------------------------------

const all = synthAllStacks();
interface Rule {
  readonly stack: string;
  readonly env: string;
  readonly customer: string;
  readonly branch: string;
  readonly pattern: Pattern;
  readonly target: string;
}
const rules: Rule[] = [];
for (const [stack, json] of all) {
  for (const [id, r] of Object.entries(resources(json, 'aws_cloudwatch_event_rule'))) {
    // Software rules only: the image pipelines' rules are tested in customer-image-pipeline.test.ts.
    if (!r.tags?.customer || String(r.name).endsWith('-image-source')) continue;
    const [env, customer] = [stack.split('-')[0]!, stack.slice(stack.indexOf('-') + 1)];
    const target = Object.values(resources(json, 'aws_cloudwatch_event_target')).find((t) => t.rule === `\${aws_cloudwatch_event_rule.${id}.name}`);
    const key: string = JSON.parse(r.event_pattern).detail.requestParameters.key[0];
    rules.push({ stack, env, customer, branch: key.replace(`software/${customer}/`, '').replace(/\.zip$/, ''), pattern: JSON.parse(r.event_pattern), target: target?.arn });
  }
}

/** Routed software branches of the example config, by stack. */
const ROUTED: Record<string, readonly string[]> = {
  'dev-shop': ['develop'],
  'dev-blog': ['main'],
  'dev-wiki': ['develop'],
  'staging-shop': ['release'],
  'prod-shop': ['main'],
  'prod-wiki': ['main'],
};

describe('source rules of the example config', () => {
  test('one rule per routed branch in every customer stack, each targeting its own pipeline', () => {
    expect(rules.map((r) => `${r.stack}:${r.branch}`).sort()).toEqual(Object.entries(ROUTED).flatMap(([s, bs]) => bs.map((b) => `${s}:${b}`)).sort());
    for (const r of rules) {
      const pipelineId = Object.entries(resources(all.get(r.stack)!, 'aws_codepipeline')).find(([, p]) => p.name === customerPipelineNames({ project: PROJECT, env: r.env }, r.customer, r.branch).pipeline)![0];
      expect(r.target).toBe(`\${aws_codepipeline.${pipelineId}.arn}`);
    }
  });

  test.each(['PutObject', 'CompleteMultipartUpload', 'CopyObject'])('%s of the right key matches exactly one rule: its own', (eventName) => {
    for (const r of rules) {
      const event = cloudTrailS3Event(bucketOf(r.env), `software/${r.customer}/${r.branch}.zip`, eventName);
      expect(rules.filter((x) => matchesPattern(x.pattern, event))).toEqual([r]);
    }
  });

  // Every other key a push, the platform or a neighbour writes: no rule of any stack may fire.
  const otherKeys = (r: Rule): string[] => [
    `software/${r.customer}/${r.branch}.zip.tmp`,
    `software/${r.customer}/${r.branch}-old.zip`,
    `software/${r.customer}/feature/${r.branch}.zip`,
    `software/${r.customer}/other-branch.zip`,
    `software/${r.customer}-2/${r.branch}.zip`,
    `software/${r.customer.slice(0, -1)}/${r.branch}.zip`,
    `software/${r.customer}/${r.branch.toUpperCase()}.zip`,
    `infrastructure/${r.customer}/${r.branch}.zip`,
    `webhook/${r.env}/${r.customer}-${r.branch}.json`,
    `webhook/${r.env}/software/${r.customer}/${r.branch}.zip`,
    `tooling/gitlab-source-fetch.zip`,
    `logs/cloudtrail/AWSLogs/${ACCOUNT}/software/${r.customer}/${r.branch}.zip`,
  ];

  test('other branches, other customers, webhook/, infrastructure/, tooling/ and logs/ match no rule', () => {
    for (const r of rules) {
      for (const key of otherKeys(r)) {
        const event = cloudTrailS3Event(bucketOf(r.env), key);
        const hits = rules.filter((x) => matchesPattern(x.pattern, event)).filter((x) => `software/${x.customer}/${x.branch}.zip` !== key);
        expect({ key, hits: hits.map((h) => h.stack) }).toEqual({ key, hits: [] });
      }
    }
  });

  test('other customers\' pushes never start a pipeline of this customer (every ordered pair, every environment)', () => {
    for (const r of rules) {
      for (const other of rules.filter((x) => x.customer !== r.customer)) {
        const event = cloudTrailS3Event(bucketOf(other.env), `software/${other.customer}/${other.branch}.zip`);
        expect(matchesPattern(r.pattern, event)).toBe(false);
      }
    }
  });

  test('the same key in another environment\'s bucket does not start this environment\'s pipeline', () => {
    const devShop = rules.find((r) => r.stack === 'dev-shop')!;
    expect(matchesPattern(devShop.pattern, cloudTrailS3Event(bucketOf('staging'), 'software/shop/develop.zip'))).toBe(false);
    expect(matchesPattern(devShop.pattern, cloudTrailS3Event(bucketOf('dev'), 'software/shop/develop.zip'))).toBe(true);
  });

  test('reads, deletes, tagging and non-S3 sources do not start a pipeline', () => {
    const r = rules[0]!;
    const key = `software/${r.customer}/${r.branch}.zip`;
    for (const eventName of ['GetObject', 'DeleteObject', 'PutObjectTagging', 'PutObjectAcl', 'CreateMultipartUpload', 'UploadPart']) {
      expect(matchesPattern(r.pattern, cloudTrailS3Event(bucketOf(r.env), key, eventName))).toBe(false);
    }
    const notS3 = { ...cloudTrailS3Event(bucketOf(r.env), key), source: 'aws.events' };
    expect(matchesPattern(r.pattern, notS3)).toBe(false);
    const notCloudTrail = { ...cloudTrailS3Event(bucketOf(r.env), key), 'detail-type': 'Object Created' };
    expect(matchesPattern(r.pattern, notCloudTrail)).toBe(false);
  });

  test('the environment\'s prefix rule (no target) still matches every push, so the two agree on what a push is', () => {
    // The audit trail's software-source rule matches the prefix; each customer rule one exact key under it.
    for (const env of ['dev', 'staging', 'prod']) {
      const envRule = Object.values(resources(all.get(env)!, 'aws_cloudwatch_event_rule')).find((x) => x.name === `${PROJECT}-${env}-software-source-written`)!;
      for (const r of rules.filter((x) => x.env === env)) {
        expect(matchesPattern(JSON.parse(envRule.event_pattern), cloudTrailS3Event(bucketOf(env), `software/${r.customer}/${r.branch}.zip`))).toBe(true);
      }
    }
  });
});
