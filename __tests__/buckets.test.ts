/**
 * Every S3 bucket of every stack (bootstrap and each environment) is encrypted, versioned, fully
 * blocked from public access and TLS-only. Generic on purpose: a bucket added later by anyone is
 * checked too, by finding its companion resources through their bucket reference.
 */
import { exampleConfig } from './support/config';
import { StackJson, resources, synthStack } from './support/synth';

const cfg = exampleConfig();
const STACKS = ['bootstrap', ...cfg.environments.map((e) => e.name)];

/** The resources of a type that configure the bucket with this logical id. */
function companions(json: StackJson, type: string, bucketId: string): any[] {
  const refs = [`\${aws_s3_bucket.${bucketId}.id}`, `\${aws_s3_bucket.${bucketId}.bucket}`];
  return Object.values(resources(json, type)).filter((r) => refs.includes(r.bucket));
}

const cases = STACKS.flatMap((stack) => {
  const json = synthStack(stack, cfg);
  return Object.entries(resources(json, 'aws_s3_bucket')).map(([id, b]) => [stack, b.bucket as string, json, id] as const);
});

test('every stack has at least one bucket to check', () => {
  expect(new Set(cases.map(([stack]) => stack))).toEqual(new Set(STACKS));
});

describe.each(cases)('%s: bucket %s', (_stack, name, json, id) => {
  test('has default encryption (SSE-KMS, or SSE-S3 where a service requires it)', () => {
    const [enc, ...more] = companions(json, 'aws_s3_bucket_server_side_encryption_configuration', id);
    expect(more).toEqual([]);
    expect(['aws:kms', 'AES256']).toContain(enc.rule[0].apply_server_side_encryption_by_default.sse_algorithm);
  });

  test('is versioned', () => {
    expect(companions(json, 'aws_s3_bucket_versioning', id).map((v) => v.versioning_configuration.status)).toEqual(['Enabled']);
  });

  test('blocks every kind of public access', () => {
    const [pab] = companions(json, 'aws_s3_bucket_public_access_block', id);
    expect(pab).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
  });

  test('has a policy that denies every request without TLS', () => {
    const [policy, ...more] = companions(json, 'aws_s3_bucket_policy', id);
    expect(more).toEqual([]);
    const arn = `arn:aws:s3:::${name}`;
    const deny = JSON.parse(policy.policy).Statement.find((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(deny).toMatchObject({ Principal: '*', Action: 's3:*' });
    expect([deny.Resource].flat().sort()).toEqual([arn, `${arn}/*`]);
  });
});
