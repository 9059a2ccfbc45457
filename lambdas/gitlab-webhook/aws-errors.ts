/**
 * Classification of AWS SDK errors. Failures of S3, CodeBuild or SSM are never the client's fault:
 * they map to 503 (throttling, conflicts, service unavailable: try again) or 502 (anything else),
 * so GitLab records the delivery as failed and it can be resent.
 */

interface SdkErrorShape {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: { readonly throttling?: boolean };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'AccountLimitExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

export function httpStatusOf(e: unknown): number | undefined {
  return (e as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

/** S3 answered a conditional write (If-None-Match: *) with 412: the object already exists. */
export function isPreconditionFailed(e: unknown): boolean {
  return httpStatusOf(e) === 412 || (e as SdkErrorShape | null)?.name === 'PreconditionFailed';
}

/** S3 GetObject of a key that does not exist (needs s3:ListBucket, else S3 answers 403). */
export function isNotFound(e: unknown): boolean {
  const name = (e as SdkErrorShape | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(e) === 404;
}

/** 503 for errors worth retrying soon, 502 for other upstream failures. */
export function upstreamStatus(e: unknown): 502 | 503 {
  const err = e as SdkErrorShape | null;
  const status = err?.$metadata?.httpStatusCode;
  if (err?.$retryable?.throttling === true || THROTTLING.has(err?.name ?? '') || status === 429 || status === 503 || status === 409) return 503;
  return 502;
}
