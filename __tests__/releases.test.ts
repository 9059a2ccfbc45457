/**
 * `npm run releases` and `npm run rollback` (scripts/lib/releases.ts) against aws-sdk-client-mock:
 * history order and the live marker, approvals in production, unknown customer and environment,
 * missing credentials, no previous release, a deployment or instance refresh in progress, --to
 * (unknown, ambiguous, chosen), and the confirmation (no terminal, --yes, y/N).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  InstanceRefresh,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { BatchGetDeploymentsCommand, CodeDeployClient, CreateDeploymentCommand, DeploymentInfo, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { CodePipelineClient, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client, LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClients, CliDeps, resolveTarget, runReleases, runRollback } from '../scripts/lib/releases';
import { customerPipelineNames } from '../stacks/model/naming';
import { exampleConfig } from './support/config';

const cd = mockClient(CodeDeployClient);
const cp = mockClient(CodePipelineClient);
const s3 = mockClient(S3Client);
const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);

const BUCKET = 'acme-web-dev-artifacts-111111111111-eu-west-1';
const APP = 'acme-web-dev-shop';
const GROUP = 'acme-web-dev-shop-web';
const A = `abcdef1${'a'.repeat(33)}`;
const B = `abcdef1${'b'.repeat(33)}`;
const C = `0123456${'c'.repeat(33)}`;
const COMMITS: Record<string, string> = { v1: A, v2: B, v3: C };

const at = (day: number, minute = 0) => new Date(Date.UTC(2026, 0, day, 12, minute));

function deployment(id: string, status: DeploymentInfo['status'], day: number, version: string, extra: Partial<DeploymentInfo> = {}): DeploymentInfo {
  return {
    deploymentId: id,
    status,
    createTime: at(day),
    completeTime: at(day, 5),
    creator: 'user',
    revision: { revisionType: 'S3', s3Location: { bucket: BUCKET, key: 'software/shop/develop.zip', bundleType: 'zip', version, eTag: `etag-${version}` } },
    ...extra,
  };
}

/** d-1 (A) ok, d-2 (B) ok, d-3 (C) failed and rolled back by d-4 (B): B is live, A is the previous release. */
const HISTORY: DeploymentInfo[] = [
  deployment('d-2', 'Succeeded', 2, 'v2'),
  deployment('d-4', 'Succeeded', 3, 'v2', { createTime: at(3, 10), creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-3' } }),
  deployment('d-1', 'Succeeded', 1, 'v1'),
  deployment('d-3', 'Failed', 3, 'v3', { rollbackInfo: { rollbackDeploymentId: 'd-4' } }),
];

/** Mocks CodeDeploy with these deployments (`active`: returned for the in-progress statuses) and S3 with the commits. */
function software(history: DeploymentInfo[], active: DeploymentInfo[] = []) {
  const all = [...history, ...active];
  cd.on(ListDeploymentsCommand).callsFake((input) => ({
    deployments: (input.includeOnlyStatuses ? active : history).map((d) => d.deploymentId!),
  }));
  cd.on(BatchGetDeploymentsCommand).callsFake((input) => ({ deploymentsInfo: all.filter((d) => input.deploymentIds.includes(d.deploymentId)) }));
  cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-new' });
  s3.on(HeadObjectCommand).callsFake((input) => {
    const commit = COMMITS[input.VersionId ?? ''];
    if (!commit) throw Object.assign(new Error('Not Found'), { name: 'NotFound' });
    return { Metadata: { 'commit-sha': commit } };
  });
  cp.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });
}

function version(n: number, imageId: string, day: number, commit?: string): LaunchTemplateVersion {
  return {
    VersionNumber: n,
    CreateTime: at(day),
    DefaultVersion: n === 1,
    LaunchTemplateData: { ImageId: imageId, TagSpecifications: commit ? [{ ResourceType: 'instance', Tags: [{ Key: 'commit', Value: commit }] }] : undefined },
  };
}

/** v4 and v3 run ami-new (v4 changed only user data), v2 ami-old, v1 ami-oldest; the ASG runs v4. */
function images(refreshes: InstanceRefresh[]) {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [{ AutoScalingGroupName: GROUP, LaunchTemplate: { LaunchTemplateName: GROUP, Version: '4' } } as never],
  });
  asg.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: refreshes });
  asg.on(UpdateAutoScalingGroupCommand).resolves({});
  asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-new' });
  ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({
    LaunchTemplateVersions: [version(1, 'ami-oldest', 1), version(2, 'ami-old', 2, 'old-commit-from-template'), version(3, 'ami-new', 3), version(4, 'ami-new', 4)],
  });
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-new', Tags: [{ Key: 'commit', Value: 'feedface0001' }] }] });
}

const REFRESHES: InstanceRefresh[] = [
  { InstanceRefreshId: 'r-2', Status: 'Successful', StartTime: at(2, 30), AutoScalingGroupName: GROUP },
  { InstanceRefreshId: 'r-3', Status: 'Successful', StartTime: at(3, 30), DesiredConfiguration: { LaunchTemplate: { LaunchTemplateName: GROUP, Version: '3' } }, AutoScalingGroupName: GROUP },
  { InstanceRefreshId: 'r-4', Status: 'Successful', StartTime: at(4, 30), DesiredConfiguration: { LaunchTemplate: { LaunchTemplateName: GROUP, Version: '4' } }, AutoScalingGroupName: GROUP },
];

interface Run {
  code: number;
  out: string[];
  err: string[];
  asked: string[];
}

async function run(cmd: 'releases' | 'rollback', argv: string[], opts: { isTTY?: boolean; answer?: string } = {}): Promise<Run> {
  const r: Run = { code: -1, out: [], err: [], asked: [] };
  const deps: CliDeps = {
    loadConfig: () => exampleConfig(),
    clients: awsClients,
    isTTY: opts.isTTY ?? false,
    ask: async (q) => {
      r.asked.push(q);
      return opts.answer ?? '';
    },
    out: (l) => r.out.push(l),
    err: (l) => r.err.push(l),
  };
  r.code = await (cmd === 'releases' ? runReleases : runRollback)(argv, deps);
  return r;
}

beforeEach(() => {
  for (const m of [cd, cp, s3, asg, ec2]) m.reset();
});

describe('the target', () => {
  test('names come from customerNames and customerPipelineNames', () => {
    const t = resolveTarget(exampleConfig(), 'shop', 'dev');
    expect(t).toMatchObject({ application: APP, deploymentGroup: GROUP, autoScalingGroup: GROUP, launchTemplate: GROUP, artifactBucket: BUCKET });
    expect(t.pipelines).toEqual([{ branch: 'develop', pipeline: customerPipelineNames({ project: 'acme-web', env: 'dev' }, 'shop', 'develop').pipeline, sourceKey: 'software/shop/develop.zip' }]);
  });

  test.each(['releases', 'rollback'] as const)('%s: an unknown customer names the customers of the environment', async (cmd) => {
    const r = await run(cmd, ['nope', 'dev']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toBe('no customer nope in dev; customers there: shop, blog, wiki');
    // wiki has no branch routed to staging.
    expect((await run(cmd, ['wiki', 'staging'])).err.join('\n')).toBe('no customer wiki in staging; customers there: shop');
    expect(cd.calls()).toHaveLength(0);
  });

  test.each(['releases', 'rollback'] as const)('%s: an unknown environment names the environments', async (cmd) => {
    const r = await run(cmd, ['shop', 'qa']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toBe('no environment qa in example; environments: dev, staging, prod');
  });

  test('usage errors exit 2', async () => {
    expect((await run('releases', ['shop'])).code).toBe(2);
    expect((await run('rollback', ['shop', 'dev', '--nope'])).err[0]).toMatch(/^unknown option --nope/);
    expect((await run('rollback', ['shop', 'dev', '--image', '--to', 'abcdef1'])).code).toBe(2);
  });

  test.each(['releases', 'rollback'] as const)('%s: no credentials is one clear message naming the account and region', async (cmd) => {
    cd.on(ListDeploymentsCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const r = await run(cmd, ['shop', 'dev', ...(cmd === 'rollback' ? ['--yes'] : [])]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/^no AWS credentials for dev \(account 111111111111, region eu-west-1\): Could not load credentials from any providers/);
  });

  test('no credentials for the image side either (expired token)', async () => {
    asg.on(DescribeInstanceRefreshesCommand).rejects(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredToken' }));
    const r = await run('rollback', ['shop', 'prod', '--image', '--yes']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/^no AWS credentials for prod \(account 111111111111, region eu-west-1\): The security token/);
  });

  test('a customer stack that is not deployed says so', async () => {
    cd.on(ListDeploymentsCommand).rejects(Object.assign(new Error('No application found'), { name: 'ApplicationDoesNotExistException' }));
    const r = await run('releases', ['shop', 'dev', '--software']);
    expect(r.err.join('\n')).toContain(`no CodeDeploy deployment group ${GROUP} (application ${APP}) in dev (account 111111111111, region eu-west-1): is the customer stack dev-shop deployed?`);
  });
});

describe('npm run releases', () => {
  test('software: newest first, commits from the zip versions, the live one marked', async () => {
    software(HISTORY);
    const r = await run('releases', ['shop', 'dev', '--software']);
    expect(r.code).toBe(0);
    const rows = r.out.filter((l) => /^\s+(LIVE\s+)?d-\d/.test(l));
    expect(rows.map((l) => l.match(/d-\d/)![0])).toEqual(['d-4', 'd-3', 'd-2', 'd-1']);
    expect(rows[0]).toMatch(/^\s+LIVE\s+d-4\s+abcdef1bbbbb\s+2026-01-03 12:10Z\s+Succeeded\s+develop\s+auto-rollback\s+not required\s+rollback of d-3$/);
    expect(rows[1]).toMatch(/d-3\s+0123456ccccc .*Failed .*rolled back by d-4/);
    expect(rows.filter((l) => l.includes('LIVE'))).toHaveLength(1);
    expect(cd.commandCalls(ListDeploymentsCommand)[0]!.args[0].input).toEqual({ applicationName: APP, deploymentGroupName: GROUP });
  });

  test('a missing object version leaves the commit unknown, not an error', async () => {
    software([deployment('d-9', 'Succeeded', 9, 'v-gone')]);
    const r = await run('releases', ['shop', 'dev', '--software']);
    expect(r.code).toBe(0);
    expect(r.out.find((l) => l.includes('d-9'))).toMatch(/LIVE\s+d-9\s+—\s+/);
  });

  test('production: the approver and the commit come from the pipeline (revision is a pipeline artifact)', async () => {
    const pipeline = customerPipelineNames({ project: 'acme-web', env: 'prod' }, 'shop', 'main').pipeline;
    const prodBucket = 'acme-web-prod-artifacts-111111111111-eu-west-1';
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-p1'] });
    cd.on(BatchGetDeploymentsCommand).resolves({
      deploymentsInfo: [
        {
          deploymentId: 'd-p1',
          status: 'Succeeded',
          createTime: at(5),
          creator: 'user',
          revision: { revisionType: 'S3', s3Location: { bucket: prodBucket, key: 'shop-0123456789abcde/SourceArti/xyz', bundleType: 'zip', eTag: 'e1' } },
        },
      ],
    });
    cp.on(ListActionExecutionsCommand, { pipelineName: pipeline }).resolves({
      actionExecutionDetails: [
        { pipelineExecutionId: 'x1', actionName: 'Source', status: 'Succeeded', input: { actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' } }, output: { outputVariables: { VersionId: 'v1' } } },
        {
          pipelineExecutionId: 'x1',
          actionName: 'Approve',
          status: 'Succeeded',
          updatedBy: 'arn:aws:sts::111111111111:assumed-role/Admin/jane',
          input: { actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' } },
          output: { executionResult: { externalExecutionSummary: 'staging ok' } },
        },
        { pipelineExecutionId: 'x1', actionName: 'Deploy', status: 'Succeeded', input: { actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' } }, output: { executionResult: { externalExecutionId: 'd-p1' } } },
      ],
    });
    s3.on(HeadObjectCommand, { Bucket: prodBucket, Key: 'software/shop/main.zip', VersionId: 'v1' }).resolves({ Metadata: { 'commit-sha': A } });
    const r = await run('releases', ['shop', 'prod', '--software']);
    expect(r.code).toBe(0);
    expect(r.out.find((l) => l.includes('d-p1'))).toMatch(/LIVE\s+d-p1\s+abcdef1aaaaa\s+.*Succeeded\s+main\s+pipeline\s+jane \(Admin\): staging ok/);
  });

  test('approvals are best effort: a pipeline that cannot be read is a note', async () => {
    software(HISTORY);
    cp.on(ListActionExecutionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const r = await run('releases', ['shop', 'dev', '--software']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/note: pipeline .* \(branch develop\) not read, so approvals and some commits are unknown: .*AccessDeniedException/);
  });

  test('images: refreshes newest first with version, image and commit; the live one marked', async () => {
    images(REFRESHES);
    const r = await run('releases', ['shop', 'dev', '--image']);
    expect(r.code).toBe(0);
    const rows = r.out.filter((l) => /r-\d/.test(l));
    expect(rows.map((l) => l.match(/r-\d/)![0])).toEqual(['r-4', 'r-3', 'r-2']);
    expect(rows[0]).toMatch(/^\s+LIVE\s+r-4\s+feedface0001\s+2026-01-04 12:30Z\s+Successful\s+4\s+ami-new/);
    // r-2 named no version: the newest created before it started (v2), marked as inferred.
    expect(rows[2]).toMatch(/r-2\s+old-commit-\S*\s+.*Successful\s+2\?\s+ami-old/);
    expect(r.out.join('\n')).toContain(`live now: launch template ${GROUP} version 4, image ami-new, commit feedface0001`);
  });

  test('both parts by default', async () => {
    software(HISTORY);
    images(REFRESHES);
    const r = await run('releases', ['shop', 'dev']);
    expect(r.out.join('\n')).toMatch(/Software releases of shop[\s\S]*Machine-image rollouts of shop/);
  });
});

describe('npm run rollback (software)', () => {
  test('plans the previous different revision, and refuses without a terminal and without --yes', async () => {
    software(HISTORY);
    const r = await run('rollback', ['shop', 'dev']);
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/live now: +commit abcdef1bbbbb \(deployment d-4[\s\S]*redeploy: +commit abcdef1aaaaa \(deployment d-1/);
    expect(r.err.join('\n')).toMatch(/refusing to roll back without confirmation: no terminal .* --yes/);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  test('--yes deploys the earlier revision with OVERWRITE', async () => {
    software(HISTORY);
    const r = await run('rollback', ['shop', 'dev', '--yes']);
    expect(r.code).toBe(0);
    const calls = cd.commandCalls(CreateDeploymentCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({
      applicationName: APP,
      deploymentGroupName: GROUP,
      fileExistsBehavior: 'OVERWRITE',
      revision: { revisionType: 'S3', s3Location: { bucket: BUCKET, key: 'software/shop/develop.zip', bundleType: 'zip', version: 'v1', eTag: 'etag-v1' } },
    });
    expect(r.out.join('\n')).toContain('started deployment d-new of commit abcdef1aaaaa');
  });

  test('on a terminal it asks; anything but y changes nothing', async () => {
    software(HISTORY);
    const no = await run('rollback', ['shop', 'dev'], { isTTY: true, answer: '' });
    expect(no.asked).toEqual(['Proceed? [y/N] ']);
    expect(no.code).toBe(1);
    expect(no.err).toEqual(['not rolled back: nothing changed']);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
    const yes = await run('rollback', ['shop', 'dev'], { isTTY: true, answer: 'y' });
    expect(yes.code).toBe(0);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(1);
  });

  test('no previous release', async () => {
    software([deployment('d-1', 'Succeeded', 1, 'v1'), deployment('d-2', 'Succeeded', 2, 'v1', { creator: 'autoscaling' })]);
    const r = await run('rollback', ['shop', 'dev', '--yes']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toBe('no previous release of shop in dev: no successful deployment before the live one (d-2) has a different revision');
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  test('nothing succeeded yet', async () => {
    software([deployment('d-1', 'Failed', 1, 'v1')]);
    expect((await run('rollback', ['shop', 'dev', '--yes'])).err.join('\n')).toBe('no previous release of shop in dev: no deployment has succeeded yet');
  });

  test('refuses while a deployment is in progress, naming it', async () => {
    software(HISTORY, [deployment('d-5', 'InProgress', 4, 'v3')]);
    const r = await run('rollback', ['shop', 'dev', '--yes']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/^a deployment is in progress in acme-web-dev-shop-web \(dev\): d-5 \(InProgress, started 2026-01-04 12:00Z\)/);
    const statuses = cd.commandCalls(ListDeploymentsCommand)[0]!.args[0].input.includeOnlyStatuses;
    expect(statuses).toEqual(expect.arrayContaining(['InProgress', 'Queued', 'Ready', 'Created']));
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  test('--to: a unique prefix picks the newest successful deployment of that commit', async () => {
    software([...HISTORY, deployment('d-0', 'Succeeded', 0, 'v1')]);
    const r = await run('rollback', ['shop', 'dev', '--to', 'ABCDEF1A', '--yes']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/redeploy: +commit abcdef1aaaaa \(deployment d-1 /);
  });

  test('--to: unknown, ambiguous, too short, already live', async () => {
    software(HISTORY);
    expect((await run('rollback', ['shop', 'dev', '--to', '1234567', '--yes'])).err.join('\n')).toBe(
      'no successful deployment of commit 1234567 for shop in dev; successful commits: abcdef1bbbbb, abcdef1aaaaa',
    );
    expect((await run('rollback', ['shop', 'dev', '--to', 'abcdef1', '--yes'])).err.join('\n')).toBe(`commit abcdef1 is ambiguous for shop in dev: ${B}, ${A}; give more digits`);
    // C only failed: not a good release to go back to.
    expect((await run('rollback', ['shop', 'dev', '--to', '0123456', '--yes'])).err.join('\n')).toMatch(/^no successful deployment of commit 0123456/);
    expect((await run('rollback', ['shop', 'dev', '--to', 'abc', '--yes'])).err.join('\n')).toMatch(/^--to needs a commit: 7 to 40 hex digits/);
    expect((await run('rollback', ['shop', 'dev', '--to', 'abcdef1b', '--yes'])).err.join('\n')).toMatch(/^commit abcdef1bbbbb is already live/);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });
});

describe('npm run rollback --image', () => {
  test('picks the previous version with a different image and refreshes without dropping below 100%', async () => {
    images(REFRESHES);
    const r = await run('rollback', ['shop', 'dev', '--image', '--yes']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/roll out: +version 2, image ami-old, commit old-commit-f/);
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({ AutoScalingGroupName: GROUP, LaunchTemplate: { LaunchTemplateName: GROUP, Version: '2' } });
    expect(asg.commandCalls(StartInstanceRefreshCommand)[0]!.args[0].input).toMatchObject({
      AutoScalingGroupName: GROUP,
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, AutoRollback: false },
    });
    // The ASG is pointed at the version before the refresh starts.
    const order = asg.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(order.indexOf('UpdateAutoScalingGroupCommand')).toBeLessThan(order.indexOf('StartInstanceRefreshCommand'));
  });

  test.each(['InProgress', 'Pending'])('refuses while a refresh is %s', async (status) => {
    images([...REFRESHES, { InstanceRefreshId: 'r-5', Status: status as never, StartTime: at(5), AutoScalingGroupName: GROUP }]);
    const r = await run('rollback', ['shop', 'dev', '--image', '--yes']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(new RegExp(`^an instance refresh is in progress in ${GROUP} \\(dev\\): r-5 \\(${status}`));
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  test('no earlier version with another image', async () => {
    images(REFRESHES);
    ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [version(3, 'ami-new', 3), version(4, 'ami-new', 4)] });
    const r = await run('rollback', ['shop', 'dev', '--image', '--yes']);
    expect(r.err.join('\n')).toBe('no previous image for shop in dev: no launch template version before 4 runs an image other than ami-new');
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });
});
