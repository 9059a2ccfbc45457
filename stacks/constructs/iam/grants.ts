/**
 * Typed IAM statements for the usual grants on the environment's storage, key and logs, so that
 * every role (the pipeline roles here, the webhook Lambda and CodeBuild roles later) is built from
 * the same least-privilege pieces. Every statement is scoped to literal ARNs, except the KMS key,
 * whose ARN is known only after apply.
 */
import { ArnScope, Statement, regionalArn } from '../../model/iam-policy';

/** What a role may do with the objects under a prefix. */
export type ObjectAccess = 'read' | 'write' | 'read-write';

const OBJECT_ACTIONS: Record<ObjectAccess, readonly string[]> = {
  read: ['s3:GetObject', 's3:GetObjectVersion'],
  write: ['s3:PutObject'],
  'read-write': ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
};

function checkPrefix(fn: string, prefix: string): void {
  if (!/^[^*?]+\/$/.test(prefix)) throw new Error(`${fn}: prefix must be a literal key prefix ending in "/", got ${JSON.stringify(prefix)}`);
}

/** Objects under one literal prefix of a bucket (given by its literal ARN). */
export function s3ObjectAccess(sid: string, bucketArn: string, prefix: string, access: ObjectAccess): Statement {
  checkPrefix('s3ObjectAccess', prefix);
  return { Sid: sid, Effect: 'Allow', Action: OBJECT_ACTIONS[access], Resource: `${bucketArn}/${prefix}*` };
}

/** Listing of one prefix of a bucket (and nothing else of it). */
export function s3ListPrefix(sid: string, bucketArn: string, prefix: string): Statement {
  checkPrefix('s3ListPrefix', prefix);
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: bucketArn,
    Condition: { StringLike: { 's3:prefix': [prefix, `${prefix}*`] } },
  };
}

/** KMS actions an S3 object access needs on the bucket's SSE-KMS key. */
export function kmsActionsFor(access: ObjectAccess): readonly string[] {
  // Reading decrypts the data key; writing generates one (multipart uploads also decrypt it).
  return access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'];
}

/**
 * Use of a KMS key only through one AWS service of the region (kms:ViaService), e.g. `s3`: the
 * role can decrypt objects it may read, but cannot call KMS directly with that key.
 */
export function kmsViaService(sid: string, keyArn: string, actions: readonly string[], service: string, region: string): Statement {
  if (actions.length === 0 || actions.some((a) => !a.startsWith('kms:') || a === 'kms:*')) {
    throw new Error(`kmsViaService: name the kms: actions (never kms:*), got ${JSON.stringify(actions)}`);
  }
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: actions,
    Resource: keyArn,
    Condition: { StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` } },
  };
}

/** Writing log events to one log group (its streams), which someone else creates. */
export function logGroupWrite(sid: string, scope: ArnScope, logGroupName: string): Statement {
  const group = regionalArn(scope, 'logs', `log-group:${logGroupName}`);
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [group, `${group}:log-stream:*`],
  };
}
