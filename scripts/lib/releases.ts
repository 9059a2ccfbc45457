/**
 * Release history and rollback of one customer in one environment (`npm run releases`,
 * `npm run rollback`). Everything here takes SDK clients and returns data and messages, so the
 * tests drive it with aws-sdk-client-mock; scripts/releases.ts and scripts/rollback.ts only wire
 * in the real clients, the config file and the terminal.
 *
 * Sources of truth (all names from `customerNames()` / `customerPipelineNames()`):
 * - software: CodeDeploy deployments of the customer's deployment group; the commit is the
 *   `commit-sha` metadata the source fetch writes on `software/<customer>/<branch>.zip`, read at
 *   the object version the release was built from; approvals (production) and that version come
 *   from the pipeline's action executions, best effort.
 * - machine image: the instance refreshes of the customer's auto scaling group and the versions
 *   of its launch template (image per version; the AMI's `commit` tag when it still exists).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  InstanceRefresh,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { BatchGetDeploymentsCommand, CodeDeployClient, CreateDeploymentCommand, DeploymentInfo, DeploymentStatus, ListDeploymentsCommand, S3Location } from '@aws-sdk/client-codedeploy';
import { ActionExecutionDetail, CodePipelineClient, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client, LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseCli } from './cli-args';
import type { EnvironmentConfig, PlatformConfig } from '../../stacks/model/config/validate';
import { artifactBucketName, customerNames, customerPipelineNames } from '../../stacks/model/naming';

export interface ReleaseClients {
  readonly codedeploy: CodeDeployClient;
  readonly codepipeline: CodePipelineClient;
  readonly s3: S3Client;
  readonly autoscaling: AutoScalingClient;
  readonly ec2: EC2Client;
}

/** Real clients for a region, on the default credential chain (AWS_PROFILE, SSO, env, instance role...). */
export function awsClients(region: string): ReleaseClients {
  return {
    codedeploy: new CodeDeployClient({ region }),
    codepipeline: new CodePipelineClient({ region }),
    s3: new S3Client({ region }),
    autoscaling: new AutoScalingClient({ region }),
    ec2: new EC2Client({ region }),
  };
}

/** A problem for the person at the terminal: printed without a stack trace, exit code 1. */
export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReleaseError';
  }
}

/** One customer in one environment, with every name the commands use. */
export interface Target {
  readonly customer: string;
  readonly env: EnvironmentConfig;
  readonly application: string;
  readonly deploymentGroup: string;
  readonly autoScalingGroup: string;
  readonly launchTemplate: string;
  readonly artifactBucket: string;
  /** The customer's software branches routed to this environment, with their pipelines and source keys. */
  readonly pipelines: readonly { branch: string; pipeline: string; sourceKey: string }[];
}

/** `dev (account 111111111111, region eu-west-1)`. */
export function where(t: Pick<Target, 'env'>): string {
  return `${t.env.name} (account ${t.env.account}, region ${t.env.region})`;
}

/** The target, or a ReleaseError naming what exists: an unknown environment or customer. */
export function resolveTarget(config: PlatformConfig, customer: string, envName: string): Target {
  const env = config.environments.find((e) => e.name === envName);
  if (!env) throw new ReleaseError(`no environment ${envName} in ${config.source}; environments: ${config.environments.map((e) => e.name).join(', ') || '(none)'}`);
  if (!env.customers.some((c) => c.name === customer)) {
    const there = env.customers.map((c) => c.name);
    throw new ReleaseError(`no customer ${customer} in ${envName}; customers there: ${there.length > 0 ? there.join(', ') : '(none)'}`);
  }
  const p = { project: env.project, env: env.name };
  const names = customerNames(p, customer);
  const branches = env.gitlab.repositories.filter((r) => r.kind === 'software' && r.customer === customer).flatMap((r) => r.routedBranches);
  return {
    customer,
    env,
    application: names.codeDeployApplication,
    deploymentGroup: names.deploymentGroup,
    autoScalingGroup: names.autoScalingGroup,
    launchTemplate: names.launchTemplate,
    artifactBucket: artifactBucketName({ project: env.project, env: env.name, account: env.account, region: env.region }),
    pipelines: branches.map((branch) => {
      const n = customerPipelineNames(p, customer, branch);
      return { branch, pipeline: n.pipeline, sourceKey: n.sourceKey };
    }),
  };
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'TokenRefreshRequired',
  'InvalidSignatureException',
]);

function errorName(e: unknown): string {
  return (e as { name?: string } | null)?.name ?? '';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs one AWS call; missing or invalid credentials and other failures become a ReleaseError naming the environment. */
async function aws<T>(t: Target, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ReleaseError) throw e;
    if (CREDENTIAL_ERRORS.has(errorName(e))) {
      throw new ReleaseError(`no AWS credentials for ${where(t)}: ${errorMessage(e)} (sign in to that account, e.g. AWS_PROFILE=... or aws sso login, and retry)`);
    }
    throw new ReleaseError(`${what} failed in ${where(t)}: ${errorName(e) || 'Error'}: ${errorMessage(e)}`);
  }
}

/** Like `aws`, but any failure other than missing credentials is returned as a note (best effort). */
async function bestEffort<T>(t: Target, what: string, call: () => Promise<T>): Promise<{ value?: T; note?: string }> {
  try {
    return { value: await aws(t, what, call) };
  } catch (e) {
    if (e instanceof ReleaseError && e.message.startsWith('no AWS credentials')) throw e;
    return { note: errorMessage(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Software history
// ---------------------------------------------------------------------------------------------

export interface SoftwareRelease {
  readonly deploymentId: string;
  readonly status: string;
  readonly createTime?: Date;
  readonly completeTime?: Date;
  /** The full commit sha, or undefined when it cannot be found (object version gone, no metadata). */
  readonly commit?: string;
  readonly branch?: string;
  readonly revision?: S3Location;
  /** Who started it: pipeline, auto-rollback, scale-out, or CodeDeploy's creator value. */
  readonly startedBy: string;
  /** `jane (Admin)` in production when the approval is found; `not required` outside production; else undefined. */
  readonly approvedBy?: string;
  readonly note?: string;
  live: boolean;
}

export interface SoftwareHistory {
  readonly releases: SoftwareRelease[];
  /** Why some columns may be unknown (best-effort look-ups that failed). */
  readonly notes: string[];
}

/** Pipeline facts per deployment: which execution, branch, source object version and approval. */
interface PipelineFacts {
  readonly branch: string;
  readonly sourceVersion?: string;
  readonly approval?: string;
}

const MAX_ACTION_PAGES = 10;

function approverOf(a: ActionExecutionDetail): string {
  // updatedBy is the approver's ARN: arn:aws:sts::111:assumed-role/Admin/jane -> jane (Admin).
  const arn = a.updatedBy ?? '';
  const resource = arn.split(':').slice(5).join(':');
  const parts = resource.split('/');
  let who = arn || 'unknown';
  if (parts[0] === 'assumed-role' && parts.length >= 3) who = `${parts.slice(2).join('/')} (${parts[1]})`;
  else if (parts.length >= 2) who = parts.slice(1).join('/');
  const summary = a.output?.executionResult?.externalExecutionSummary;
  const verdict = a.status === 'Succeeded' ? who : `rejected by ${who}`;
  return summary ? `${verdict}: ${summary}` : verdict;
}

async function pipelineFacts(c: ReleaseClients, t: Target, notes: string[]): Promise<Map<string, PipelineFacts>> {
  const byDeployment = new Map<string, PipelineFacts>();
  for (const p of t.pipelines) {
    const actions: ActionExecutionDetail[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const r = await bestEffort(t, `ListActionExecutions ${p.pipeline}`, () =>
        c.codepipeline.send(new ListActionExecutionsCommand({ pipelineName: p.pipeline, maxResults: 100, nextToken })),
      );
      if (r.note !== undefined) {
        notes.push(`pipeline ${p.pipeline} (branch ${p.branch}) not read, so approvals and some commits are unknown: ${r.note}`);
        break;
      }
      actions.push(...(r.value?.actionExecutionDetails ?? []));
      nextToken = r.value?.nextToken;
    } while (nextToken && ++pages < MAX_ACTION_PAGES);
    const byExecution = new Map<string, ActionExecutionDetail[]>();
    for (const a of actions) {
      if (!a.pipelineExecutionId) continue;
      byExecution.set(a.pipelineExecutionId, [...(byExecution.get(a.pipelineExecutionId) ?? []), a]);
    }
    for (const list of byExecution.values()) {
      const of = (category: string) => list.filter((a) => a.input?.actionTypeId?.category === category);
      const source = of('Source')[0];
      const approval = of('Approval').filter((a) => a.status === 'Succeeded' || a.status === 'Failed')[0];
      const sourceVersion = source?.output?.outputVariables?.VersionId ?? source?.output?.executionResult?.externalExecutionId;
      for (const deploy of of('Deploy')) {
        // For a CodeDeploy action, the external execution id is the deployment id.
        const id = deploy.output?.executionResult?.externalExecutionId;
        if (id) byDeployment.set(id, { branch: p.branch, sourceVersion, approval: approval ? approverOf(approval) : undefined });
      }
    }
  }
  return byDeployment;
}

async function listDeploymentIds(c: ReleaseClients, t: Target, statuses?: DeploymentStatus[]): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await aws(t, `ListDeployments ${t.deploymentGroup}`, async () => {
      try {
        return await c.codedeploy.send(
          new ListDeploymentsCommand({ applicationName: t.application, deploymentGroupName: t.deploymentGroup, includeOnlyStatuses: statuses, nextToken }),
        );
      } catch (e) {
        if (['ApplicationDoesNotExistException', 'DeploymentGroupDoesNotExistException'].includes(errorName(e))) {
          throw new ReleaseError(
            `no CodeDeploy deployment group ${t.deploymentGroup} (application ${t.application}) in ${where(t)}: is the customer stack ${t.env.name}-${t.customer} deployed?`,
          );
        }
        throw e;
      }
    });
    ids.push(...(r.deployments ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  return ids;
}

async function getDeployments(c: ReleaseClients, t: Target, ids: string[]): Promise<DeploymentInfo[]> {
  const out: DeploymentInfo[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const r = await aws(t, 'BatchGetDeployments', () => c.codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) })));
    out.push(...(r.deploymentsInfo ?? []));
  }
  return out;
}

/** The `commit-sha` metadata of an object version, or undefined (gone, no such version, no metadata). */
async function commitOf(c: ReleaseClients, t: Target, cache: Map<string, Promise<string | undefined>>, bucket: string, key: string, version?: string) {
  const k = `${bucket}\n${key}\n${version ?? ''}`;
  if (!cache.has(k)) {
    cache.set(
      k,
      bestEffort(t, 'HeadObject', () => c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: version }))).then((r) => r.value?.Metadata?.['commit-sha']),
    );
  }
  return cache.get(k)!;
}

function startedBy(d: DeploymentInfo, viaPipeline: boolean): string {
  if (viaPipeline) return 'pipeline';
  switch (d.creator) {
    case 'codeDeployRollback':
      return 'auto-rollback';
    case 'autoscaling':
      return 'scale-out';
    case undefined:
      return '—';
    default:
      return d.creator;
  }
}

function sameRevision(a?: S3Location, b?: S3Location): boolean {
  if (!a || !b) return false;
  return a.bucket === b.bucket && a.key === b.key && (a.version ?? '') === (b.version ?? '') && (a.eTag ?? '') === (b.eTag ?? '');
}

/** Every deployment of the customer's deployment group, newest first, the live one marked. */
export async function softwareHistory(c: ReleaseClients, t: Target): Promise<SoftwareHistory> {
  const notes: string[] = [];
  const infos = await getDeployments(c, t, await listDeploymentIds(c, t));
  const facts = await pipelineFacts(c, t, notes);
  const cache = new Map<string, Promise<string | undefined>>();
  const prefix = `software/${t.customer}/`;
  const releases: SoftwareRelease[] = [];
  for (const d of infos) {
    const loc = d.revision?.s3Location;
    const f = d.deploymentId ? facts.get(d.deploymentId) : undefined;
    let commit: string | undefined;
    let branch = f?.branch;
    if (loc?.bucket && loc.key?.startsWith(prefix)) {
      // The revision is the pushed zip itself: read its commit at the deployed version.
      commit = await commitOf(c, t, cache, loc.bucket, loc.key, loc.version);
      branch ??= loc.key.slice(prefix.length).replace(/\.zip$/, '');
    }
    if (!commit && f?.sourceVersion) {
      const p = t.pipelines.find((x) => x.branch === f.branch);
      if (p) commit = await commitOf(c, t, cache, t.artifactBucket, p.sourceKey, f.sourceVersion);
    }
    if (!commit && loc?.bucket && loc.key && !loc.key.startsWith(prefix)) commit = await commitOf(c, t, cache, loc.bucket, loc.key, loc.version);
    const rb = d.rollbackInfo;
    const note = rb?.rollbackDeploymentId
      ? `rolled back by ${rb.rollbackDeploymentId}`
      : rb?.rollbackTriggeringDeploymentId
        ? `rollback of ${rb.rollbackTriggeringDeploymentId}`
        : (d.errorInformation?.message ?? d.description);
    releases.push({
      deploymentId: d.deploymentId ?? '?',
      status: d.status ?? '?',
      createTime: d.createTime,
      completeTime: d.completeTime,
      commit,
      branch,
      revision: loc,
      startedBy: startedBy(d, f !== undefined),
      approvedBy: t.env.production ? f?.approval : 'not required',
      note,
      live: false,
    });
  }
  releases.sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0));
  // Live: the revision of the newest deployment that succeeded (a later failed one was rolled back,
  // or left the previous revision on the instances it did not reach).
  const live = releases.find((r) => r.status === 'Succeeded');
  if (live) live.live = true;
  return { releases, notes };
}

// ---------------------------------------------------------------------------------------------
// Machine-image history
// ---------------------------------------------------------------------------------------------

export interface ImageVersion {
  readonly version: number;
  readonly imageId?: string;
  readonly commit?: string;
  readonly createTime?: Date;
  readonly isDefault: boolean;
}

export interface ImageRollout {
  readonly refreshId: string;
  readonly status: string;
  readonly startTime?: Date;
  readonly endTime?: Date;
  readonly version?: number;
  /** True when the refresh named no version and the one shown is the newest created before it started. */
  readonly versionInferred: boolean;
  readonly imageId?: string;
  readonly commit?: string;
  readonly note?: string;
  live: boolean;
}

export interface ImageHistory {
  readonly rollouts: ImageRollout[];
  readonly versions: ImageVersion[];
  /** The launch template version the ASG runs now ($Latest/$Default resolved). */
  readonly live?: ImageVersion;
  /** What the ASG names: `3`, `$Latest` or `$Default`. */
  readonly liveSpec?: string;
  readonly notes: string[];
}

function resolveVersion(spec: string | undefined, versions: readonly ImageVersion[]): ImageVersion | undefined {
  if (spec === undefined || spec === '$Latest') return versions.reduce<ImageVersion | undefined>((m, v) => (!m || v.version > m.version ? v : m), undefined);
  if (spec === '$Default') return versions.find((v) => v.isDefault);
  return versions.find((v) => String(v.version) === spec);
}

function tagOf(tags: readonly { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((x) => x.Key === key)?.Value;
}

async function templateVersions(c: ReleaseClients, t: Target): Promise<LaunchTemplateVersion[]> {
  const out: LaunchTemplateVersion[] = [];
  let NextToken: string | undefined;
  do {
    const r = await aws(t, `DescribeLaunchTemplateVersions ${t.launchTemplate}`, () =>
      c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: t.launchTemplate, NextToken })),
    );
    out.push(...(r.LaunchTemplateVersions ?? []));
    NextToken = r.NextToken;
  } while (NextToken);
  return out;
}

async function autoScalingGroup(c: ReleaseClients, t: Target) {
  const r = await aws(t, `DescribeAutoScalingGroups ${t.autoScalingGroup}`, () =>
    c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [t.autoScalingGroup] })),
  );
  const g = r.AutoScalingGroups?.[0];
  if (!g) throw new ReleaseError(`no auto scaling group ${t.autoScalingGroup} in ${where(t)}: is the customer stack ${t.env.name}-${t.customer} deployed?`);
  return g;
}

async function instanceRefreshes(c: ReleaseClients, t: Target): Promise<InstanceRefresh[]> {
  const out: InstanceRefresh[] = [];
  let NextToken: string | undefined;
  do {
    const r = await aws(t, `DescribeInstanceRefreshes ${t.autoScalingGroup}`, () =>
      c.autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: t.autoScalingGroup, NextToken })),
    );
    out.push(...(r.InstanceRefreshes ?? []));
    NextToken = r.NextToken;
  } while (NextToken);
  return out;
}

/** The instance refreshes of the customer's ASG, newest first, with the image of each and the live one marked. */
export async function imageHistory(c: ReleaseClients, t: Target): Promise<ImageHistory> {
  const notes: string[] = [];
  const group = await autoScalingGroup(c, t);
  const spec = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const raw = await templateVersions(c, t);
  // The AMI's own `commit` tag (set by the image build); the template's instance tags as a fallback.
  const imageIds = [...new Set(raw.map((v) => v.LaunchTemplateData?.ImageId).filter((x): x is string => !!x && x.startsWith('ami-')))];
  const imageCommit = new Map<string, string>();
  if (imageIds.length > 0) {
    const r = await bestEffort(t, 'DescribeImages', () => c.ec2.send(new DescribeImagesCommand({ ImageIds: imageIds })));
    if (r.note !== undefined) notes.push(`images not read, commits come from the launch template's tags only: ${r.note}`);
    for (const img of r.value?.Images ?? []) {
      const commit = tagOf(img.Tags, 'commit');
      if (img.ImageId && commit) imageCommit.set(img.ImageId, commit);
    }
  }
  const versions: ImageVersion[] = raw
    .filter((v) => v.VersionNumber !== undefined)
    .map((v) => {
      const imageId = v.LaunchTemplateData?.ImageId;
      const instanceTags = v.LaunchTemplateData?.TagSpecifications?.find((s) => s.ResourceType === 'instance')?.Tags;
      return {
        version: v.VersionNumber!,
        imageId,
        commit: (imageId ? imageCommit.get(imageId) : undefined) ?? tagOf(instanceTags, 'commit'),
        createTime: v.CreateTime,
        isDefault: v.DefaultVersion === true,
      };
    })
    .sort((a, b) => b.version - a.version);
  const live = resolveVersion(spec?.Version, versions);
  const rollouts: ImageRollout[] = (await instanceRefreshes(c, t)).map((r) => {
    const desired = r.DesiredConfiguration?.LaunchTemplate ?? r.DesiredConfiguration?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    let v = desired?.Version ? resolveVersion(desired.Version, versions) : undefined;
    let inferred = false;
    if (!v && r.StartTime) {
      // No desired configuration: the refresh replaced instances with what the ASG named then,
      // normally the newest version created before it started.
      v = versions.find((x) => x.createTime && x.createTime.getTime() <= r.StartTime!.getTime());
      inferred = v !== undefined;
    }
    return {
      refreshId: r.InstanceRefreshId ?? '?',
      status: r.Status ?? '?',
      startTime: r.StartTime,
      endTime: r.EndTime,
      version: v?.version,
      versionInferred: inferred,
      imageId: v?.imageId,
      commit: v?.commit,
      note: r.StatusReason,
      live: false,
    };
  });
  rollouts.sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0));
  const liveRollout = rollouts.find((r) => live !== undefined && r.version === live.version && r.status === 'Successful');
  if (liveRollout) liveRollout.live = true;
  return { rollouts, versions, live, liveSpec: spec?.Version, notes };
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const DASH = '—';

export function formatTime(d?: Date): string {
  return d ? `${d.toISOString().slice(0, 16).replace('T', ' ')}Z` : DASH;
}

function shortSha(s?: string): string {
  return s ? s.slice(0, 12) : DASH;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

export function formatSoftwareHistory(t: Target, h: SoftwareHistory, limit: number): string[] {
  const out = [`Software releases of ${t.customer} in ${where(t)}: deployment group ${t.deploymentGroup}, newest first`];
  if (h.releases.length === 0) out.push('  (no deployments yet)');
  else {
    const shown = h.releases.slice(0, limit);
    out.push(
      ...table(
        ['live', 'deployment', 'commit', 'time (UTC)', 'status', 'branch', 'started by', 'approved by', 'note'],
        shown.map((r) => [
          r.live ? 'LIVE' : '',
          r.deploymentId,
          shortSha(r.commit),
          formatTime(r.createTime),
          r.status,
          r.branch ?? DASH,
          r.startedBy,
          r.approvedBy ?? DASH,
          r.note ?? '',
        ]),
      ),
    );
    if (h.releases.length > shown.length) out.push(`  ... ${h.releases.length - shown.length} older (--limit N to show more)`);
  }
  for (const n of h.notes) out.push(`  note: ${n}`);
  return out;
}

export function formatImageHistory(t: Target, h: ImageHistory, limit: number): string[] {
  const out = [`Machine-image rollouts of ${t.customer} in ${where(t)}: auto scaling group ${t.autoScalingGroup}, newest first`];
  if (h.rollouts.length === 0) out.push('  (no instance refreshes recorded)');
  else {
    const shown = h.rollouts.slice(0, limit);
    out.push(
      ...table(
        ['live', 'refresh', 'commit', 'time (UTC)', 'status', 'version', 'image', 'approved by', 'note'],
        shown.map((r) => [
          r.live ? 'LIVE' : '',
          r.refreshId,
          shortSha(r.commit),
          formatTime(r.startTime),
          r.status,
          r.version === undefined ? DASH : `${r.version}${r.versionInferred ? '?' : ''}`,
          r.imageId ?? DASH,
          DASH,
          r.note ?? '',
        ]),
      ),
    );
    if (h.rollouts.length > shown.length) out.push(`  ... ${h.rollouts.length - shown.length} older (--limit N to show more)`);
    if (shown.some((r) => r.versionInferred)) out.push('  version "N?": the refresh named no version; N is the newest one created before it started');
  }
  out.push(
    h.live
      ? `  live now: launch template ${t.launchTemplate} version ${h.live.version}${h.liveSpec !== String(h.live.version) ? ` (${h.liveSpec ?? '$Default'})` : ''}, image ${h.live.imageId ?? DASH}, commit ${shortSha(h.live.commit)}`
      : `  live now: unknown (the ASG names version ${h.liveSpec ?? '(none)'} of ${t.launchTemplate}, not found)`,
  );
  for (const n of h.notes) out.push(`  note: ${n}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rollback plans
// ---------------------------------------------------------------------------------------------

/** Statuses in which a deployment blocks a new one in the group. */
export const ACTIVE_DEPLOYMENT_STATUSES: DeploymentStatus[] = ['Created', 'Queued', 'Ready', 'InProgress', 'Baking'];
/** Statuses in which an instance refresh blocks a new one. */
export const ACTIVE_REFRESH_STATUSES = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];

export interface SoftwareRollbackPlan {
  readonly kind: 'software';
  readonly from?: SoftwareRelease;
  readonly to: SoftwareRelease;
  readonly revision: S3Location;
  readonly summary: string[];
}

export interface ImageRollbackPlan {
  readonly kind: 'image';
  readonly from: ImageVersion;
  readonly to: ImageVersion;
  readonly summary: string[];
}

function describeRelease(r: SoftwareRelease): string {
  return `commit ${shortSha(r.commit)} (deployment ${r.deploymentId} of ${formatTime(r.createTime)}${r.branch ? `, branch ${r.branch}` : ''})`;
}

/** `--to`: at least 7 hex digits. */
export const COMMIT_PREFIX = /^[0-9a-f]{7,40}$/i;

export async function planSoftwareRollback(c: ReleaseClients, t: Target, opts: { to?: string }): Promise<SoftwareRollbackPlan> {
  if (opts.to !== undefined && !COMMIT_PREFIX.test(opts.to)) throw new ReleaseError(`--to needs a commit: 7 to 40 hex digits, got ${JSON.stringify(opts.to)}`);
  const active = await listDeploymentIds(c, t, ACTIVE_DEPLOYMENT_STATUSES);
  if (active.length > 0) {
    const infos = await getDeployments(c, t, active);
    const list = infos.map((d) => `${d.deploymentId} (${d.status}, started ${formatTime(d.createTime)})`).join(', ') || active.join(', ');
    throw new ReleaseError(
      `a deployment is in progress in ${t.deploymentGroup} (${t.env.name}): ${list}. Wait for it, or stop it (aws deploy stop-deployment --deployment-id ${active[0]} --auto-rollback-enabled), then retry`,
    );
  }
  const { releases } = await softwareHistory(c, t);
  const live = releases.find((r) => r.live);
  const succeeded = releases.filter((r) => r.status === 'Succeeded' && r.revision?.bucket && r.revision.key);
  let to: SoftwareRelease | undefined;
  if (opts.to !== undefined) {
    const prefix = opts.to.toLowerCase();
    const matches = succeeded.filter((r) => r.commit?.toLowerCase().startsWith(prefix));
    const commits = [...new Set(matches.map((r) => r.commit!))];
    if (commits.length === 0) {
      const known = [...new Set(succeeded.map((r) => r.commit).filter((x): x is string => !!x))].map((s) => s.slice(0, 12));
      throw new ReleaseError(
        `no successful deployment of commit ${opts.to} for ${t.customer} in ${t.env.name}; successful commits: ${known.length > 0 ? known.join(', ') : '(none with a known commit)'}`,
      );
    }
    if (commits.length > 1) throw new ReleaseError(`commit ${opts.to} is ambiguous for ${t.customer} in ${t.env.name}: ${commits.join(', ')}; give more digits`);
    to = matches[0];
    if (live && sameRevision(to!.revision, live.revision)) throw new ReleaseError(`commit ${shortSha(to!.commit)} is already live for ${t.customer} in ${t.env.name} (${live.deploymentId}); nothing to do`);
  } else {
    const liveTime = live?.createTime?.getTime() ?? Number.POSITIVE_INFINITY;
    to = succeeded.find((r) => r !== live && (r.createTime?.getTime() ?? 0) < liveTime && !sameRevision(r.revision, live?.revision));
    if (!to) {
      throw new ReleaseError(
        live
          ? `no previous release of ${t.customer} in ${t.env.name}: no successful deployment before the live one (${live.deploymentId}) has a different revision`
          : `no previous release of ${t.customer} in ${t.env.name}: no deployment has succeeded yet`,
      );
    }
  }
  const chosen = to!;
  const rev = chosen.revision!;
  const summary = [
    `Roll back the software of ${t.customer} in ${where(t)}:`,
    `  live now:     ${live ? describeRelease(live) : '(nothing live)'}`,
    `  redeploy:     ${describeRelease(chosen)}`,
    `  revision:     s3://${rev.bucket}/${rev.key}${rev.version ? ` version ${rev.version}` : ''}${rev.eTag ? ` eTag ${rev.eTag}` : ''}`,
    `  how:          a new CodeDeploy deployment of that revision in ${t.deploymentGroup} (application ${t.application}),`,
    '                with the group\'s own deployment config, alarms and automatic rollback; existing files are overwritten',
  ];
  if (t.env.production) summary.push('  note:         this skips the pipeline and its approval; the next push deploys through the pipeline again');
  return { kind: 'software', from: live, to: chosen, revision: rev, summary };
}

export async function applySoftwareRollback(c: ReleaseClients, t: Target, plan: SoftwareRollbackPlan): Promise<string[]> {
  const rev = plan.revision;
  // The revision must still be there (artifact lifecycle rules may have expired it).
  const head = await bestEffort(t, 'HeadObject', () => c.s3.send(new HeadObjectCommand({ Bucket: rev.bucket, Key: rev.key, VersionId: rev.version })));
  if (head.note !== undefined) throw new ReleaseError(`the revision s3://${rev.bucket}/${rev.key} of ${plan.to.deploymentId} cannot be read any more (${head.note}); pick another with --to`);
  const r = await aws(t, 'CreateDeployment', () =>
    c.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: t.application,
        deploymentGroupName: t.deploymentGroup,
        revision: { revisionType: 'S3', s3Location: { bucket: rev.bucket, key: rev.key, bundleType: 'zip', version: rev.version, eTag: rev.eTag } },
        fileExistsBehavior: 'OVERWRITE',
        description: `npm run rollback: back to commit ${shortSha(plan.to.commit)} (from ${plan.to.deploymentId})`,
      }),
    ),
  );
  return [
    `started deployment ${r.deploymentId ?? '?'} of commit ${shortSha(plan.to.commit)} in ${t.deploymentGroup}`,
    `follow it: aws deploy get-deployment --region ${t.env.region} --deployment-id ${r.deploymentId ?? '?'} --query deploymentInfo.status`,
  ];
}

export async function planImageRollback(c: ReleaseClients, t: Target): Promise<ImageRollbackPlan> {
  const refreshes = await instanceRefreshes(c, t);
  const active = refreshes.filter((r) => ACTIVE_REFRESH_STATUSES.includes(r.Status ?? ''));
  if (active.length > 0) {
    const list = active.map((r) => `${r.InstanceRefreshId} (${r.Status}, started ${formatTime(r.StartTime)})`).join(', ');
    throw new ReleaseError(`an instance refresh is in progress in ${t.autoScalingGroup} (${t.env.name}): ${list}. Wait for it, or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${t.autoScalingGroup}), then retry`);
  }
  const h = await imageHistory(c, t);
  if (!h.live) throw new ReleaseError(`cannot tell which launch template version ${t.autoScalingGroup} runs (it names ${h.liveSpec ?? 'none'} of ${t.launchTemplate})`);
  const live = h.live;
  const to = h.versions.find((v) => v.version < live.version && v.imageId !== undefined && v.imageId !== live.imageId);
  if (!to) throw new ReleaseError(`no previous image for ${t.customer} in ${t.env.name}: no launch template version before ${live.version} runs an image other than ${live.imageId ?? '(none)'}`);
  const summary = [
    `Roll back the machine image of ${t.customer} in ${where(t)}:`,
    `  live now:     launch template ${t.launchTemplate} version ${live.version}, image ${live.imageId ?? DASH}, commit ${shortSha(live.commit)}`,
    `  roll out:     version ${to.version}, image ${to.imageId}, commit ${shortSha(to.commit)} (created ${formatTime(to.createTime)})`,
    `  how:          set ${t.autoScalingGroup} to version ${to.version}, then a rolling instance refresh that keeps 100% healthy`,
    '                (new instances first, up to 200%); no automatic rollback: this is already the way back',
    `  afterwards:   Terraform still names the version it last applied; the next apply of ${t.env.name}-${t.customer} may set it back (docs/RUNBOOK.md)`,
  ];
  return { kind: 'image', from: live, to, summary };
}

export async function applyImageRollback(c: ReleaseClients, t: Target, plan: ImageRollbackPlan): Promise<string[]> {
  await aws(t, 'UpdateAutoScalingGroup', () =>
    c.autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: t.autoScalingGroup, LaunchTemplate: { LaunchTemplateName: t.launchTemplate, Version: String(plan.to.version) } }),
    ),
  );
  // Auto-rollback stays off: the ASG already names the known-good version before the refresh
  // starts, so an automatic rollback would "roll back" to that same version (the loop of
  // terraform-provider-aws #34189). This is a roll forward to a version that served before; if it
  // fails, the refresh stops with the old instances still serving (MinHealthyPercentage 100), and
  // the operator decides.
  const r = await aws(t, 'StartInstanceRefresh', () =>
    c.autoscaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: t.autoScalingGroup,
        Strategy: 'Rolling',
        Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, AutoRollback: false, SkipMatching: true },
      }),
    ),
  );
  return [
    `set ${t.autoScalingGroup} to launch template version ${plan.to.version} (image ${plan.to.imageId}) and started instance refresh ${r.InstanceRefreshId ?? '?'}`,
    `follow it: aws autoscaling describe-instance-refreshes --region ${t.env.region} --auto-scaling-group-name ${t.autoScalingGroup} --max-records 1`,
  ];
}

// ---------------------------------------------------------------------------------------------
// The two commands
// ---------------------------------------------------------------------------------------------

export interface CliDeps {
  /** The validated platform config (PLATFORM_CONFIG or config/platform.yaml). */
  loadConfig(): PlatformConfig;
  clients(region: string): ReleaseClients;
  /** Whether stdin and stdout are a terminal a person can answer on. */
  readonly isTTY: boolean;
  ask(question: string): Promise<string>;
  out(line: string): void;
  err(line: string): void;
}

export const RELEASES_USAGE = 'usage: npm run releases -- <customer> <env> [--software | --image] [--limit N]';
export const ROLLBACK_USAGE = 'usage: npm run rollback -- <customer> <env> [--to <commit> | --image] [--yes]';

function positionalTarget(deps: CliDeps, positionals: string[], usage: string): Target | number {
  if (positionals.length !== 2) {
    deps.err(`expected <customer> <env>, got ${positionals.length} argument(s)\n${usage}`);
    return 2;
  }
  return resolveTarget(deps.loadConfig(), positionals[0]!, positionals[1]!);
}

/** Runs a command body; ReleaseError (and config errors) print as one message with exit code 1. */
async function guarded(deps: CliDeps, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ReleaseError || errorName(e) === 'ConfigError') {
      deps.err(e instanceof Error ? e.message : String(e));
      return 1;
    }
    throw e;
  }
}

/** `npm run releases -- <customer> <env>`: exit 0, 1 (AWS or lookup problem) or 2 (usage). */
export async function runReleases(argv: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCli(argv, { software: { type: 'boolean' }, image: { type: 'boolean' }, limit: { type: 'string' } } as const, { positionals: true });
  if (parsed.kind === 'help') {
    deps.out(RELEASES_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    deps.err(`${parsed.message}\n${RELEASES_USAGE}`);
    return 2;
  }
  const limit = parsed.values.limit === undefined ? 20 : Number(parsed.values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    deps.err(`--limit needs a whole number of at least 1, got ${JSON.stringify(parsed.values.limit)}\n${RELEASES_USAGE}`);
    return 2;
  }
  const both = !parsed.values.software && !parsed.values.image;
  return guarded(deps, async () => {
    const t = positionalTarget(deps, parsed.positionals, RELEASES_USAGE);
    if (typeof t === 'number') return t;
    const c = deps.clients(t.env.region);
    if (both || parsed.values.software) for (const l of formatSoftwareHistory(t, await softwareHistory(c, t), limit)) deps.out(l);
    if (both) deps.out('');
    if (both || parsed.values.image) for (const l of formatImageHistory(t, await imageHistory(c, t), limit)) deps.out(l);
    return 0;
  });
}

/**
 * Asks before a change: --yes skips the question; without a terminal and without --yes it
 * refuses (a pipeline or a pipe must say --yes explicitly).
 */
export async function confirm(deps: Pick<CliDeps, 'isTTY' | 'ask'>, yes: boolean, question: string): Promise<boolean> {
  if (yes) return true;
  if (!deps.isTTY) throw new ReleaseError('refusing to roll back without confirmation: no terminal to ask on; rerun with --yes to proceed');
  const answer = await deps.ask(`${question} [y/N] `);
  return /^\s*y(es)?\s*$/i.test(answer);
}

/** `npm run rollback -- <customer> <env> [--to <commit>] [--image] [--yes]`: exit 0, 1 or 2. */
export async function runRollback(argv: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCli(argv, { to: { type: 'string' }, image: { type: 'boolean' }, yes: { type: 'boolean' } } as const, { positionals: true });
  if (parsed.kind === 'help') {
    deps.out(ROLLBACK_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    deps.err(`${parsed.message}\n${ROLLBACK_USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.image && v.to !== undefined) {
    deps.err(`--to picks a software commit; --image rolls back to the previous image: give one of them\n${ROLLBACK_USAGE}`);
    return 2;
  }
  return guarded(deps, async () => {
    const t = positionalTarget(deps, parsed.positionals, ROLLBACK_USAGE);
    if (typeof t === 'number') return t;
    const c = deps.clients(t.env.region);
    const plan = v.image ? await planImageRollback(c, t) : await planSoftwareRollback(c, t, { to: v.to });
    for (const l of plan.summary) deps.out(l);
    if (!(await confirm(deps, v.yes === true, 'Proceed?'))) {
      deps.err('not rolled back: nothing changed');
      return 1;
    }
    const done = plan.kind === 'image' ? await applyImageRollback(c, t, plan) : await applySoftwareRollback(c, t, plan);
    for (const l of done) deps.out(l);
    return 0;
  });
}
