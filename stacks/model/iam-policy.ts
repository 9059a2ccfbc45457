/**
 * Typed IAM policy documents. Every policy in the platform is built from these objects and
 * serialised once by `policyJson`, never assembled by string concatenation, so that tests can
 * inspect and simulate exactly what is deployed.
 */

export type ConditionOperator =
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringLike'
  | 'StringNotLike'
  | 'ArnEquals'
  | 'ArnLike'
  | 'Bool'
  | 'NumericLessThanEquals'
  | 'ForAllValues:StringEquals'
  | 'ForAllValues:StringNotEquals'
  | 'ForAnyValue:StringEquals'
  | 'ForAnyValue:StringLike'
  | 'Null';

/** Condition block: operator → condition key → value(s). */
export type Conditions = Partial<Record<ConditionOperator, Record<string, string | readonly string[]>>>;

export type Principal = '*' | { readonly AWS?: string | readonly string[]; readonly Service?: string | readonly string[]; readonly Federated?: string };

export interface Statement {
  /** Statement id: says what the statement is for; unique within a document. */
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: Principal;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Conditions;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly Statement[];
}

/** A policy document from statements; rejects duplicate Sids and `"Action": "*"`. */
export function policyDocument(...statements: Statement[]): PolicyDocument {
  const sids = new Set<string>();
  for (const s of statements) {
    if (sids.has(s.Sid)) throw new Error(`duplicate statement id "${s.Sid}" in one policy document`);
    sids.add(s.Sid);
    const actions = typeof s.Action === 'string' ? [s.Action] : s.Action;
    if (actions.includes('*')) throw new Error(`statement "${s.Sid}" allows "Action": "*"; name the actions`);
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** Serialises a document for an IAM/KMS/S3 policy argument. */
export function policyJson(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

/** Trust policy for AWS services assuming a role. */
export function serviceTrust(services: readonly string[], condition?: Conditions): PolicyDocument {
  return policyDocument({
    Sid: 'TrustedServices',
    Effect: 'Allow',
    Principal: { Service: services.length === 1 ? services[0]! : services },
    Action: 'sts:AssumeRole',
    ...(condition ? { Condition: condition } : {}),
  });
}

/** The AWS partition of a region (aws, aws-us-gov, aws-cn), for literal ARNs. */
export function partitionOf(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/** Account and region of literal ARNs. */
export interface ArnScope {
  /** AWS account id (12 digits). */
  readonly account: string;
  /** AWS region; also gives the partition. */
  readonly region: string;
}

/** Literal ARN of a regional resource in the scope's account: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export function regionalArn(scope: ArnScope, service: string, resource: string): string {
  return `arn:${partitionOf(scope.region)}:${service}:${scope.region}:${scope.account}:${resource}`;
}

/** Literal ARN of an IAM resource of the scope's account, e.g. `role/<name>` or `root`. */
export function iamArn(scope: ArnScope, resource: string): string {
  return `arn:${partitionOf(scope.region)}:iam::${scope.account}:${resource}`;
}

/** Literal ARN of an S3 bucket, or of the objects under a key pattern (`software/*`). */
export function s3Arn(region: string, bucket: string, key?: string): string {
  return `arn:${partitionOf(region)}:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
}

/** Condition requiring that the resource carries this environment's tags. */
export function envResourceTags(project: string, env: string): Conditions {
  return { StringEquals: { 'aws:ResourceTag/project': project, 'aws:ResourceTag/environment': env } };
}

/** Condition requiring that a create call tags the new resource with this environment's tags. */
export function envRequestTags(project: string, env: string): Conditions {
  return { StringEquals: { 'aws:RequestTag/project': project, 'aws:RequestTag/environment': env } };
}

/**
 * Condition for tagging an existing resource: it must carry this environment's tags, the call must
 * name its tag keys, and none of them may be `project` or `environment` (so no resource can be moved
 * into or out of the environment by re-tagging it).
 */
export function envRetagging(project: string, env: string): Conditions {
  return {
    StringEquals: { 'aws:ResourceTag/project': project, 'aws:ResourceTag/environment': env },
    'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['project', 'environment'] },
    Null: { 'aws:TagKeys': 'false' },
  };
}

/** Merges condition blocks; the same operator and key twice is a programming error. */
export function allOf(...blocks: Conditions[]): Conditions {
  const out: Record<string, Record<string, string | readonly string[]>> = {};
  for (const block of blocks) {
    for (const [op, keys] of Object.entries(block)) {
      const target = (out[op] ??= {});
      for (const [key, value] of Object.entries(keys ?? {})) {
        if (key in target) throw new Error(`allOf: condition ${op} ${key} given twice`);
        target[key] = value;
      }
    }
  }
  return out as Conditions;
}

/** Tag key that customer stacks set on every resource (provider default_tags: `customer=<name>`). */
export const CUSTOMER_TAG = 'customer';

/** Condition: the resource carries this environment's tags AND a `customer` tag (no platform resource has one). */
export function customerResourceTags(project: string, env: string): Conditions {
  return allOf(envResourceTags(project, env), { Null: { [`aws:ResourceTag/${CUSTOMER_TAG}`]: 'false' } });
}

/** Condition: a create call tags the new resource with this environment's tags AND a `customer` tag. */
export function customerRequestTags(project: string, env: string): Conditions {
  return allOf(envRequestTags(project, env), { Null: { [`aws:RequestTag/${CUSTOMER_TAG}`]: 'false' } });
}

/**
 * Condition for tagging an existing customer resource: it carries this environment's tags and a
 * `customer` tag, the call names its tag keys, and none of them is `project`, `environment` or
 * `customer` (no resource moves between environments or customers, nor out of the customers).
 */
export function customerRetagging(project: string, env: string): Conditions {
  return {
    StringEquals: { 'aws:ResourceTag/project': project, 'aws:ResourceTag/environment': env },
    'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['project', 'environment', CUSTOMER_TAG] },
    Null: { 'aws:TagKeys': 'false', [`aws:ResourceTag/${CUSTOMER_TAG}`]: 'false' },
  };
}
