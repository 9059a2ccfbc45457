/**
 * The key layout of an environment's artifact bucket: one module, so the pipelines, the GitLab
 * ingestion, the bucket policy, the lifecycle rules, the CloudTrail data-event selectors and the IAM
 * policies all use the same prefixes. Every prefix is literal and ends in "/".
 *
 *   software/<customer>/<branch>.zip        application sources, read by the web servers
 *   infrastructure/<customer>/<branch>.zip  customer infrastructure sources
 *   webhook/<env>/<delivery>.json           configuration files of the GitLab webhook (+ build records)
 *   tooling/gitlab-source-fetch.zip         the clone-and-upload program CodeBuild runs
 *   logs/cloudtrail/AWSLogs/<account>/...   CloudTrail log files (expire)
 *   logs/vpc-flow/AWSLogs/<account>/...     VPC flow logs (expire)
 */
import { RepositoryKind } from './config/schema';

export const ARTIFACT_PREFIXES = {
  /** Application sources (a `software` repository's pushes); the web servers read these. */
  software: 'software/',
  /** Customer infrastructure sources (an `infrastructure` repository's pushes). */
  infrastructure: 'infrastructure/',
  /** Configuration files of the GitLab webhook. */
  webhook: 'webhook/',
  /** Programs the platform's builds run (the GitLab source fetch). */
  tooling: 'tooling/',
  /** Every log object; expires after `security.s3LogExpirationDays`. */
  logs: 'logs/',
  /** CloudTrail log files (CloudTrail appends `AWSLogs/<account>/CloudTrail/...`). */
  cloudTrailLogs: 'logs/cloudtrail/',
  /** VPC flow logs (log delivery appends `AWSLogs/<account>/vpcflowlogs/...`). */
  vpcFlowLogs: 'logs/vpc-flow/',
} as const;

export type ArtifactPrefix = keyof typeof ARTIFACT_PREFIXES;

/** The prefix a repository kind's sources are written under. */
export function sourcePrefix(kind: RepositoryKind): string {
  return ARTIFACT_PREFIXES[kind];
}

/** CloudTrail's `s3_key_prefix` argument: the log prefix without its trailing "/". */
export const CLOUDTRAIL_S3_KEY_PREFIX = ARTIFACT_PREFIXES.cloudTrailLogs.replace(/\/$/, '');

/** Key pattern of the objects a log-delivering service writes for an account under a prefix. */
export function deliveredLogKeys(prefix: string, account: string): string {
  return `${prefix}AWSLogs/${account}/*`;
}

/** Keys VPC flow logs of one account and region write under `logs/vpc-flow/` (plain-text files, no Hive partitions). */
export function flowLogKeys(account: string, region: string): string {
  return `${ARTIFACT_PREFIXES.vpcFlowLogs}AWSLogs/${account}/vpcflowlogs/${region}/*`;
}
