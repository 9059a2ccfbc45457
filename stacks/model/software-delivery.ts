/**
 * Pure rules of a customer's software delivery (pipeline → CodeDeploy in place on its auto scaling
 * group): how many web servers stay in service during a deployment, the CloudTrail event pattern
 * that starts a pipeline, and the limits the example appspec and the docs share.
 */

/** The CloudTrail S3 API calls that write an object (a new release zip). */
export const SOURCE_WRITE_EVENTS = ['PutObject', 'CompleteMultipartUpload', 'CopyObject'] as const;

/** EventBridge pattern of the CloudTrail events that write exactly one key of one bucket. */
export interface SourceKeyWrittenPattern {
  readonly source: readonly ['aws.s3'];
  readonly 'detail-type': readonly ['AWS API Call via CloudTrail'];
  readonly detail: {
    readonly eventSource: readonly ['s3.amazonaws.com'];
    readonly eventName: readonly string[];
    readonly requestParameters: { readonly bucketName: readonly [string]; readonly key: readonly [string] };
  };
}

/**
 * The pattern of a pipeline's source rule: a write of exactly `key` in `bucket` (exact string
 * matches, no prefix), so `software/shop/main.zip` never matches `software/shop/main.zip.tmp`,
 * `software/shop-2/main.zip` or `software/shop/maintenance.zip`.
 */
export function sourceKeyWrittenPattern(bucket: string, key: string): SourceKeyWrittenPattern {
  if (bucket.length === 0 || key.length === 0) throw new Error('sourceKeyWrittenPattern: bucket and key must not be empty');
  return {
    source: ['aws.s3'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['s3.amazonaws.com'],
      eventName: [...SOURCE_WRITE_EVENTS],
      requestParameters: { bucketName: [bucket], key: [key] },
    },
  };
}

/** CodeDeploy's minimum healthy hosts of a deployment configuration. */
export interface MinimumHealthyHosts {
  readonly type: 'HOST_COUNT' | 'FLEET_PERCENT';
  readonly value: number;
}

/**
 * The minimum healthy hosts of a customer's in-place deployments, from its auto scaling group's
 * minimum capacity `min`.
 *
 * - CodeDeploy fails a deployment at once when the minimum is not below the number of instances
 *   (percentages are rounded up). The group runs at `min` whenever it is not scaled out, so a
 *   minimum of `min` hosts would fail every such deployment: in place, at most `min - 1` can stay
 *   in service.
 * - `min >= 2` (every production customer): FLEET_PERCENT `floor(100 (min-1) / min)`. At `min`
 *   instances that rounds up to exactly `min - 1` in service (one instance at a time); scaled out to
 *   N instances, it keeps the same share of N in service, so a deployment under load never drops to
 *   one server (a HOST_COUNT of `min - 1` would take N - min + 1 at once).
 * - `min = 1` (the default outside production): HOST_COUNT 0. The one instance is taken out of the
 *   target group, updated and put back: the customer answers 503 for the deregistration delay
 *   (30 s) plus the hooks plus two health checks, about one to two minutes per release. Raise
 *   minCapacity to 2 for zero-downtime releases there too.
 */
export function minimumHealthyHosts(min: number): MinimumHealthyHosts {
  if (!Number.isInteger(min) || min < 1 || min > 100) throw new Error(`minimumHealthyHosts: min must be a whole number from 1 to 100, got ${min}`);
  if (min === 1) return { type: 'HOST_COUNT', value: 0 };
  return { type: 'FLEET_PERCENT', value: Math.floor((100 * (min - 1)) / min) };
}

/** Instances CodeDeploy keeps in service among `instances` under a minimum (percentages rounded up, as CodeDeploy does). */
export function instancesKeptInService(m: MinimumHealthyHosts, instances: number): number {
  return m.type === 'HOST_COUNT' ? m.value : Math.ceil((m.value * instances) / 100);
}

/** Longest timeout of one appspec hook the platform accepts (CodeDeploy allows 3600 s). */
export const MAX_HOOK_TIMEOUT_SECONDS = 300;
/** Minutes a production release waits for its approval before CodePipeline fails it (AWS default: 7 days). */
export const APPROVAL_TIMEOUT_MINUTES = 24 * 60;
/** The lifecycle hooks of an in-place EC2 deployment, in the order CodeDeploy runs them (traffic hooks are CodeDeploy's own). */
export const APPSPEC_HOOKS = ['ApplicationStop', 'BeforeInstall', 'AfterInstall', 'ApplicationStart', 'ValidateService'] as const;
