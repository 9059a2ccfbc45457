/**
 * The AWS SDK packages, loaded on first use. Loading one SDK client package costs ~100 ms, so a
 * request that is refused before authentication loads none, an ignored event loads only SSM, and
 * SQS loads when a delivery is queued (the worker loads S3 and CodeBuild). In the bundle these stay plain `require` calls
 * of the runtime-provided SDK.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type * as CodeBuild from '@aws-sdk/client-codebuild';
import type * as SSM from '@aws-sdk/client-ssm';
import type * as SQS from '@aws-sdk/client-sqs';

/** Evaluates `make` once, on the first call. */
export function once<T>(make: () => T): () => T {
  let made: { readonly value: T } | undefined;
  return () => {
    if (made === undefined) made = { value: make() };
    return made.value;
  };
}

export const sdk = {
  s3: once(() => require('@aws-sdk/client-s3') as typeof S3),
  codebuild: once(() => require('@aws-sdk/client-codebuild') as typeof CodeBuild),
  ssm: once(() => require('@aws-sdk/client-ssm') as typeof SSM),
  sqs: once(() => require('@aws-sdk/client-sqs') as typeof SQS),
} as const;
