/**
 * Issue 10: the image pipeline's rollout program against aws-sdk-client-mock: a new launch
 * template version from the live one with only the image changed, an instance refresh to exactly
 * that version (100 % healthy, auto-rollback, the customer's alarms), and a non-zero exit on every
 * outcome that leaves the new image out of service.
 *
 * The assertions are exact (whole API inputs, whole log transcripts, whole error messages and exit
 * codes): they are what the operator reads in the CodeBuild log and what AWS receives, and a
 * regression in any of them must fail a test (the image-rollout mutation area, docs/MUTATION.md).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeInstanceRefreshesCommandInput,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, DescribeLaunchTemplateVersionsCommandInput, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ACTIVE_STATUSES, EXIT, FAILED_STATUSES, RolloutClients, RolloutFailure, RolloutSettings, main, readSettings, rollout } from '../../lambdas/image-rollout/rollout';

const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const COMMIT = 'a'.repeat(40);
const NEW_AMI = 'ami-0123456789abcdef1';
const OLD_AMI = 'ami-0123456789abcdef0';
const LT = 'lt-0123456789abcdef0';
const ASG = 'acme-web-dev-shop-web';
const WHERE = `${ASG} (shop in dev)`;
/** sha256 of "lt-0123456789abcdef0\n3\nami-0123456789abcdef1": the same build step retried reuses the version. */
const TOKEN_FROM_3 = '2c524a03f6fbca2bba777e5e1126c6fb36ae873da6c2eeedfe4bca948144e7db';
const TOKEN_FROM_5 = '714855b0b7221f340d640df5800a63a746dd9d2f543e2eaf5c65566776fa5959';
const settings: RolloutSettings = {
  customer: 'shop',
  environment: 'dev',
  autoScalingGroup: ASG,
  alarms: ['acme-web-dev-shop-unhealthy-hosts', 'acme-web-dev-shop-target-5xx'],
  instanceWarmupSeconds: 300,
  imageId: NEW_AMI,
  commit: COMMIT,
  timeoutMinutes: 1,
  pollSeconds: 10,
};

let clock = 0;
const logs: string[] = [];
const sleeps: number[] = [];
const deps = {
  log: (l: string) => logs.push(l),
  sleep: async (ms: number) => {
    // A poll loop that never ends fails the test at once instead of hanging it.
    if (sleeps.push(ms) > 1000) throw new Error('runaway poll loop');
    clock += ms;
  },
  now: () => clock,
};
const clients = (): RolloutClients => ({ autoscaling: new AutoScalingClient({ region: 'eu-west-1' }), ec2: new EC2Client({ region: 'eu-west-1' }) });

const TAGS = [
  { Key: 'customer', Value: 'shop' },
  { Key: 'environment', Value: 'dev' },
  { Key: 'commit', Value: COMMIT },
];
/** One DescribeInstanceRefreshes answer of the poll loop: refresh r-1 in `Status`. */
const poll = (Status: string, extra: object = {}) => ({ InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status, ...extra }] });

interface World {
  /** The DescribeImages answer. */
  images?: object;
  /** The DescribeAutoScalingGroups answer. */
  group?: object;
  /** DescribeLaunchTemplateVersions answers by requested version. */
  versions?: Record<string, object>;
  created?: object;
  started?: object;
  /** The refreshes of the group (the "already active" check), by NextToken ('' = first page). */
  refreshes?: Record<string, object>;
  /** The poll answers in order; the last one repeats. */
  polls?: object[];
}

/** A group running version 3 of LT with OLD_AMI; $Latest is version 3; the refresh r-1 ends per `polls`. */
function world(w: World = {}) {
  ec2.on(DescribeImagesCommand).resolves(w.images ?? { Images: [{ ImageId: NEW_AMI, State: 'available', Tags: TAGS }] });
  asg.on(DescribeAutoScalingGroupsCommand).resolves(w.group ?? { AutoScalingGroups: [{ AutoScalingGroupName: ASG, LaunchTemplate: { LaunchTemplateId: LT, Version: '3' } } as any] });
  const versions: Record<string, object> = {
    '3': { LaunchTemplateVersions: [{ VersionNumber: 3, VersionDescription: 'Web servers of shop in dev', LaunchTemplateData: { ImageId: OLD_AMI } }] },
    $Latest: { LaunchTemplateVersions: [{ VersionNumber: 3, VersionDescription: 'Web servers of shop in dev', LaunchTemplateData: { ImageId: OLD_AMI } }] },
    ...w.versions,
  };
  ec2.on(DescribeLaunchTemplateVersionsCommand).callsFake(async (i: DescribeLaunchTemplateVersionsCommandInput) => versions[i.Versions![0]!] ?? {});
  ec2.on(CreateLaunchTemplateVersionCommand).resolves(w.created ?? { LaunchTemplateVersion: { VersionNumber: 4 } });
  asg.on(StartInstanceRefreshCommand).resolves(w.started ?? { InstanceRefreshId: 'r-1' });
  asg.on(RollbackInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
  const refreshes = w.refreshes ?? { '': { InstanceRefreshes: [{ InstanceRefreshId: 'r-0', Status: 'Successful' }] } };
  const polls = [...(w.polls ?? [poll('Successful')])];
  asg.on(DescribeInstanceRefreshesCommand).callsFake(async (i: DescribeInstanceRefreshesCommandInput) => {
    if (!i.InstanceRefreshIds) return refreshes[i.NextToken ?? ''] ?? {};
    return polls.length > 1 ? polls.shift() : polls[0];
  });
}

/** What a rejected rollout/readSettings tells: its class, exit code and message. */
async function failure(p: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return { failure: e instanceof RolloutFailure, exitCode: (e as RolloutFailure).exitCode, message: (e as Error).message };
  }
  throw new Error('expected a failure');
}
const rolloutFailure = (exitCode: number, message: string) => ({ failure: true, exitCode, message });

const input = <T>(calls: { args: [{ input: T }] }[]) => calls.map((c) => c.args[0].input);

beforeEach(() => {
  asg.reset();
  ec2.reset();
  clock = 0;
  logs.length = 0;
  sleeps.length = 0;
});

test('the exit codes per outcome (CodeBuild and the runbook read them)', () => {
  expect(EXIT).toEqual({ ok: 0, unexpected: 1, settings: 2, image: 3, busy: 4, failed: 5, timeout: 6 });
  expect(ACTIVE_STATUSES).toEqual(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);
  expect(FAILED_STATUSES).toEqual(['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed']);
});

describe('success', () => {
  test('a new version from the live one with only the image changed, then a refresh to exactly that version', async () => {
    world({ polls: [poll('Pending'), poll('InProgress'), poll('Successful')] });
    const r = await rollout(clients(), settings, deps);
    expect(r).toEqual({ status: 'Successful', launchTemplateId: LT, previousVersion: '3', version: '4', imageId: NEW_AMI, previousImageId: OLD_AMI, refreshId: 'r-1' });
    expect(input(ec2.commandCalls(DescribeImagesCommand))).toEqual([{ ImageIds: [NEW_AMI] }]);
    expect(input(asg.commandCalls(DescribeAutoScalingGroupsCommand))).toEqual([{ AutoScalingGroupNames: [ASG] }]);
    expect(input(ec2.commandCalls(DescribeLaunchTemplateVersionsCommand))).toEqual([
      { LaunchTemplateId: LT, Versions: ['3'] },
      { LaunchTemplateId: LT, Versions: ['$Latest'] },
    ]);
    expect(input(ec2.commandCalls(CreateLaunchTemplateVersionCommand))).toEqual([
      { LaunchTemplateId: LT, SourceVersion: '3', VersionDescription: 'Web servers of shop in dev', LaunchTemplateData: { ImageId: NEW_AMI }, ClientToken: TOKEN_FROM_3 },
    ]);
    expect(input(asg.commandCalls(StartInstanceRefreshCommand))).toEqual([
      {
        AutoScalingGroupName: ASG,
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: LT, Version: '4' } },
        Preferences: {
          MinHealthyPercentage: 100,
          MaxHealthyPercentage: 200,
          AutoRollback: true,
          AlarmSpecification: { Alarms: settings.alarms },
          InstanceWarmup: 300,
          SkipMatching: true,
        },
      },
    ]);
    // One look for active refreshes of the group, then one poll per status, for r-1 only.
    expect(input(asg.commandCalls(DescribeInstanceRefreshesCommand))).toEqual([
      { AutoScalingGroupName: ASG, InstanceRefreshIds: undefined, NextToken: undefined },
      ...Array(3).fill({ AutoScalingGroupName: ASG, InstanceRefreshIds: ['r-1'], NextToken: undefined }),
    ]);
    // The group is never pointed at the new version directly (#34189): only the refresh does that.
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(0);
    expect(sleeps).toEqual([10_000, 10_000]);
    expect(logs).toEqual([
      `${WHERE} runs launch template ${LT} version 3 (image ${OLD_AMI})`,
      `created launch template version 4: version 3 with image ${NEW_AMI} (commit ${COMMIT})`,
      'started instance refresh r-1 (min healthy 100 %, auto-rollback on failure and on alarms acme-web-dev-shop-unhealthy-hosts, acme-web-dev-shop-target-5xx)',
      'refresh r-1: Pending',
      'refresh r-1: InProgress',
      'refresh r-1: Successful',
      `image ${NEW_AMI} (commit ${COMMIT}) is live in ${WHERE}: launch template version 4; previous version 3 (image ${OLD_AMI}) kept for rollback`,
    ]);
  });

  test('progress lines: logged only when they change, with the percentage (0 % too) and the status reason', async () => {
    world({
      polls: [
        poll('Pending'),
        poll('Pending'),
        poll('InProgress', { PercentageComplete: 0 }),
        poll('InProgress', { PercentageComplete: 0 }),
        poll('InProgress', { PercentageComplete: 50, StatusReason: 'Waiting for instances to warm up' }),
        poll('InProgress', { PercentageComplete: 50, StatusReason: 'Waiting for instances to warm up' }),
        poll('InProgress', { PercentageComplete: 50 }),
        poll('Successful', { PercentageComplete: 100 }),
      ],
    });
    await rollout(clients(), { ...settings, timeoutMinutes: 10 }, deps);
    expect(logs.filter((l) => l.startsWith('refresh '))).toEqual([
      'refresh r-1: Pending',
      'refresh r-1: InProgress 0%',
      'refresh r-1: InProgress 50% (Waiting for instances to warm up)',
      'refresh r-1: InProgress 50%',
      'refresh r-1: Successful 100%',
    ]);
    expect(sleeps).toEqual(Array(7).fill(10_000));
  });

  test('a poll that does not return the refresh reads Unknown; only the refresh r-1 counts', async () => {
    world({
      polls: [
        { InstanceRefreshes: [] },
        {},
        // Another refresh first: its status is not r-1's.
        { InstanceRefreshes: [{ InstanceRefreshId: 'r-0', Status: 'Failed', StatusReason: 'old' }, { InstanceRefreshId: 'r-1', Status: 'Successful' }] },
      ],
    });
    await expect(rollout(clients(), settings, deps)).resolves.toMatchObject({ status: 'Successful' });
    expect(logs.filter((l) => l.startsWith('refresh '))).toEqual(['refresh r-1: Unknown', 'refresh r-1: Successful']);
  });

  test('a live version without image data: "unknown" in the log and the result', async () => {
    world({ versions: { '3': { LaunchTemplateVersions: [{ VersionNumber: 3, VersionDescription: 'd' }] }, $Latest: { LaunchTemplateVersions: [{ VersionNumber: 3 }] } } });
    await expect(rollout(clients(), settings, deps)).resolves.toEqual({ status: 'Successful', launchTemplateId: LT, previousVersion: '3', version: '4', imageId: NEW_AMI, previousImageId: undefined, refreshId: 'r-1' });
    expect(logs[0]).toBe(`${WHERE} runs launch template ${LT} version 3 (image unknown)`);
    expect(logs[logs.length - 1]).toBe(`image ${NEW_AMI} (commit ${COMMIT}) is live in ${WHERE}: launch template version 4; previous version 3 (image unknown) kept for rollback`);
  });

  test('the image already live → nothing to do, nothing changed', async () => {
    world({ images: { Images: [{ ImageId: OLD_AMI, State: 'available', Tags: TAGS }] } });
    await expect(rollout(clients(), { ...settings, imageId: OLD_AMI }, deps)).resolves.toEqual({ status: 'AlreadyLive', launchTemplateId: LT, previousVersion: '3', imageId: OLD_AMI, previousImageId: OLD_AMI });
    expect(logs).toEqual([`${WHERE} runs launch template ${LT} version 3 (image ${OLD_AMI})`, `image ${OLD_AMI} is already live; nothing to do`]);
    expect(input(ec2.commandCalls(DescribeLaunchTemplateVersionsCommand))).toEqual([{ LaunchTemplateId: LT, Versions: ['3'] }]);
    expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
    expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });
});

describe('the base of the new version', () => {
  test('a newer Terraform version of the template (same image) is the base: its change rolls out with the image', async () => {
    world({ versions: { $Latest: { LaunchTemplateVersions: [{ VersionNumber: 5, VersionDescription: 'terraform', LaunchTemplateData: { ImageId: OLD_AMI } }] } } });
    await rollout(clients(), settings, deps);
    expect(input(ec2.commandCalls(CreateLaunchTemplateVersionCommand))).toEqual([
      { LaunchTemplateId: LT, SourceVersion: '5', VersionDescription: 'terraform', LaunchTemplateData: { ImageId: NEW_AMI }, ClientToken: TOKEN_FROM_5 },
    ]);
    expect(logs.slice(0, 3)).toEqual([
      `${WHERE} runs launch template ${LT} version 3 (image ${OLD_AMI})`,
      'version 5 is newer than the live version 3 with the same image (a Terraform change of the template): the new version is built on it and carries it along',
      `created launch template version 4: version 5 with image ${NEW_AMI} (commit ${COMMIT})`,
    ]);
  });

  test.each([
    ['another image (a failed rollout)', { LaunchTemplateVersions: [{ VersionNumber: 5, VersionDescription: 'x', LaunchTemplateData: { ImageId: 'ami-0badbadbadbadbad0' } }] }],
    ['no image data', { LaunchTemplateVersions: [{ VersionNumber: 5, VersionDescription: 'x' }] }],
    ['an older version with the same image', { LaunchTemplateVersions: [{ VersionNumber: 2, VersionDescription: 'x', LaunchTemplateData: { ImageId: OLD_AMI } }] }],
    ['no version number', { LaunchTemplateVersions: [{ VersionDescription: 'x', LaunchTemplateData: { ImageId: OLD_AMI } }] }],
    ['no versions', { LaunchTemplateVersions: [] }],
    ['an empty answer', {}],
  ])('$Latest with %s is never the base: the live version is', async (_, latest) => {
    world({ versions: { $Latest: latest } });
    await rollout(clients(), settings, deps);
    expect(input(ec2.commandCalls(CreateLaunchTemplateVersionCommand))).toEqual([
      { LaunchTemplateId: LT, SourceVersion: '3', VersionDescription: 'Web servers of shop in dev', LaunchTemplateData: { ImageId: NEW_AMI }, ClientToken: TOKEN_FROM_3 },
    ]);
    expect(logs.slice(0, 2)).toEqual([`${WHERE} runs launch template ${LT} version 3 (image ${OLD_AMI})`, `created launch template version 4: version 3 with image ${NEW_AMI} (commit ${COMMIT})`]);
  });
});

describe('refused before anything changes', () => {
  const nothingChanged = () => {
    expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
    expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  };

  test.each([
    ['not found', { Images: [] }, `image ${NEW_AMI} not found`],
    ['not found (no list)', {}, `image ${NEW_AMI} not found`],
    ['pending', { Images: [{ ImageId: NEW_AMI, State: 'pending', Tags: TAGS }] }, `image ${NEW_AMI} is pending, not available`],
    ['without a state', { Images: [{ ImageId: NEW_AMI, Tags: TAGS }] }, `image ${NEW_AMI} is in an unknown state, not available`],
    ['without tags', { Images: [{ ImageId: NEW_AMI, State: 'available' }] }, `image ${NEW_AMI} has tag customer=(none), expected shop: refusing to roll it out`],
    ['of another customer', { Images: [{ ImageId: NEW_AMI, State: 'available', Tags: [{ Key: 'customer', Value: 'blog' }, ...TAGS.slice(1)] }] }, `image ${NEW_AMI} has tag customer=blog, expected shop: refusing to roll it out`],
    ['of another environment', { Images: [{ ImageId: NEW_AMI, State: 'available', Tags: [TAGS[0], { Key: 'environment', Value: 'prod' }, TAGS[2]] }] }, `image ${NEW_AMI} has tag environment=prod, expected dev: refusing to roll it out`],
    ['without the commit tag', { Images: [{ ImageId: NEW_AMI, State: 'available', Tags: TAGS.slice(0, 2) }] }, `image ${NEW_AMI} has tag commit=(none), expected ${COMMIT}: refusing to roll it out`],
    [
      'listed after another image',
      { Images: [{ ImageId: 'ami-0ther000000000000', State: 'available', Tags: [] }, { ImageId: NEW_AMI, State: 'pending', Tags: TAGS }] },
      `image ${NEW_AMI} is pending, not available`,
    ],
  ])('an image %s', async (_, images, message) => {
    world({ images });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.image, message));
    expect(asg.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(0);
    nothingChanged();
  });

  test.each(ACTIVE_STATUSES)('a refresh in %s → busy', async (status) => {
    world({ refreshes: { '': { InstanceRefreshes: [{ InstanceRefreshId: 'r-0', Status: status }] } } });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(
      rolloutFailure(EXIT.busy, `an instance refresh is already active in ${WHERE}: r-0 (${status}); nothing was changed. Let it finish (or cancel it), then retry this pipeline execution`),
    );
    nothingChanged();
  });

  test('every active refresh is named, on every page of the answer; ended ones are not', async () => {
    world({
      refreshes: {
        '': { InstanceRefreshes: [{ InstanceRefreshId: 'r-a', Status: 'InProgress' }, { InstanceRefreshId: 'r-x', Status: 'Successful' }, { InstanceRefreshId: 'r-y' }], NextToken: 't1' },
        t1: { InstanceRefreshes: [{ InstanceRefreshId: 'r-z', Status: 'RollbackFailed' }, { InstanceRefreshId: 'r-b', Status: 'Baking' }] },
      },
    });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(
      rolloutFailure(EXIT.busy, `an instance refresh is already active in ${WHERE}: r-a (InProgress), r-b (Baking); nothing was changed. Let it finish (or cancel it), then retry this pipeline execution`),
    );
    expect(input(asg.commandCalls(DescribeInstanceRefreshesCommand))).toEqual([
      { AutoScalingGroupName: ASG, InstanceRefreshIds: undefined, NextToken: undefined },
      { AutoScalingGroupName: ASG, InstanceRefreshIds: undefined, NextToken: 't1' },
    ]);
    nothingChanged();
  });

  test.each([...FAILED_STATUSES, 'Successful', undefined])('an old refresh in %s does not block', async (status) => {
    world({ refreshes: { '': { InstanceRefreshes: [{ InstanceRefreshId: 'r-0', Status: status }] } } });
    await expect(rollout(clients(), settings, deps)).resolves.toMatchObject({ status: 'Successful' });
  });

  test('a group without any refresh (no list in the answer) does not block', async () => {
    world({ refreshes: { '': {} } });
    await expect(rollout(clients(), settings, deps)).resolves.toMatchObject({ status: 'Successful' });
  });

  const noLaunchTemplate = `${WHERE} has no launch template (mixed instances policies are not supported)`;
  test.each([
    ['no group (no list)', {}, `auto scaling group ${ASG} not found`],
    ['no group', { AutoScalingGroups: [] }, `auto scaling group ${ASG} not found`],
    ['a mixed instances policy', { AutoScalingGroups: [{ AutoScalingGroupName: ASG, MixedInstancesPolicy: {} }] }, noLaunchTemplate],
    ['a launch template without a version', { AutoScalingGroups: [{ AutoScalingGroupName: ASG, LaunchTemplate: { LaunchTemplateId: LT } }] }, noLaunchTemplate],
    ['a launch template without an id', { AutoScalingGroups: [{ AutoScalingGroupName: ASG, LaunchTemplate: { Version: '3' } }] }, noLaunchTemplate],
  ])('%s → settings', async (_, group, message) => {
    world({ group });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.settings, message));
    expect(ec2.commandCalls(DescribeLaunchTemplateVersionsCommand)).toHaveLength(0);
    nothingChanged();
  });

  test.each([
    ['no answer', {}],
    ['no version', { LaunchTemplateVersions: [] }],
    ['no version number', { LaunchTemplateVersions: [{ LaunchTemplateData: { ImageId: OLD_AMI } }] }],
  ])('the live version not found (%s) → settings', async (_, current) => {
    world({ versions: { '3': current } });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.settings, `version 3 of launch template ${LT} not found`));
    expect(logs).toEqual([]);
    nothingChanged();
  });
});

describe('AWS answers without the id the program needs', () => {
  test('no version number from CreateLaunchTemplateVersion → unexpected, no refresh', async () => {
    world({ created: {} });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.unexpected, 'CreateLaunchTemplateVersion returned no version number'));
    expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  test('no refresh id from StartInstanceRefresh → unexpected, no wait', async () => {
    world({ started: {} });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.unexpected, 'StartInstanceRefresh returned no refresh id'));
    expect(asg.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(1);
  });
});

describe('a refresh that does not succeed', () => {
  const serving = `the group still names version 3: shop is serving on the previous AMI ${OLD_AMI}`;
  test.each([
    ['Failed', undefined, `instance refresh r-1 ended Failed; ${serving}`],
    ['Failed', 'instances failed to launch', `instance refresh r-1 ended Failed (instances failed to launch); ${serving}`],
    ['Cancelled', undefined, `instance refresh r-1 ended Cancelled; ${serving}`],
    ['RollbackSuccessful', 'alarm acme-web-dev-shop-target-5xx in ALARM', `instance refresh r-1 ended RollbackSuccessful (alarm acme-web-dev-shop-target-5xx in ALARM); ${serving}`],
    ['RollbackFailed', undefined, 'instance refresh r-1 ended RollbackFailed; the rollback itself failed: check the group now (npm run releases, docs/RUNBOOK.md)'],
    ['RollbackFailed', 'no capacity', 'instance refresh r-1 ended RollbackFailed (no capacity); the rollback itself failed: check the group now (npm run releases, docs/RUNBOOK.md)'],
  ])('%s (reason %s) → failed, and nothing but the refresh touched the group', async (status, StatusReason, message) => {
    world({ polls: [poll('InProgress'), poll(status, { StatusReason })] });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.failed, message));
    expect(logs.slice(3)).toEqual(['refresh r-1: InProgress', `refresh r-1: ${status}${StatusReason ? ` (${StatusReason})` : ''}`]);
    expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(0);
    expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(1);
  });

  test('failed, the live version without image data: the message ends with "previous AMI"', async () => {
    world({ versions: { '3': { LaunchTemplateVersions: [{ VersionNumber: 3 }] } }, polls: [poll('Failed')] });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(rolloutFailure(EXIT.failed, 'instance refresh r-1 ended Failed; the group still names version 3: shop is serving on the previous AMI'));
  });

  test('timeout exactly at the deadline → the refresh of the group is rolled back', async () => {
    world({ polls: [poll('InProgress', { PercentageComplete: 40 })] });
    expect(await failure(rollout(clients(), settings, deps))).toEqual(
      rolloutFailure(EXIT.timeout, `instance refresh r-1 did not finish within 1 minutes (last status InProgress); rolled it back; shop returns to version 3 (image ${OLD_AMI})`),
    );
    expect(input(asg.commandCalls(RollbackInstanceRefreshCommand))).toEqual([{ AutoScalingGroupName: ASG }]);
    // Polls at 0, 10, ..., 60 s: the one at the deadline is the last.
    expect(sleeps).toEqual(Array(6).fill(10_000));
    expect(clock).toBe(60_000);
    expect(asg.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(1 + 7);
    expect(logs.filter((l) => l.startsWith('refresh '))).toEqual(['refresh r-1: InProgress 40%']);
  });

  test('timeout, the live version without image data', async () => {
    world({ versions: { '3': { LaunchTemplateVersions: [{ VersionNumber: 3 }] } }, polls: [poll('Pending')] });
    expect(await failure(rollout(clients(), { ...settings, timeoutMinutes: 2, pollSeconds: 30 }, deps))).toEqual(
      rolloutFailure(EXIT.timeout, 'instance refresh r-1 did not finish within 2 minutes (last status Pending); rolled it back; shop returns to version 3 (image unknown)'),
    );
    expect(clock).toBe(120_000);
  });

  test('timeout and the rollback fails → the message says so', async () => {
    world({ polls: [poll('InProgress')] });
    asg.on(RollbackInstanceRefreshCommand).rejects(Object.assign(new Error('No in progress or pending Instance Refresh found'), { name: 'ActiveInstanceRefreshNotFound' }));
    expect(await failure(rollout(clients(), settings, deps))).toEqual(
      rolloutFailure(
        EXIT.timeout,
        'instance refresh r-1 did not finish within 1 minutes (last status InProgress); and could not roll it back (ActiveInstanceRefreshNotFound: No in progress or pending Instance Refresh found): check the group now',
      ),
    );
  });
});

describe('readSettings', () => {
  const env = { IMAGE_FILE: '/x/image.json', CUSTOMER: 'shop', ENVIRONMENT: 'dev', AUTO_SCALING_GROUP: 'g', ALARMS: 'a,b' };
  const bake = { imageId: NEW_AMI, commit: COMMIT, customer: 'shop', environment: 'dev' };
  const file = (o: object) => () => JSON.stringify(o);
  const read = (e: NodeJS.ProcessEnv, o: object = bake) => readSettings(e, file(o));

  test('reads the bake output and the project variables, with the defaults', () => {
    expect(read(env)).toEqual({
      customer: 'shop',
      environment: 'dev',
      autoScalingGroup: 'g',
      alarms: ['a', 'b'],
      instanceWarmupSeconds: 300,
      imageId: NEW_AMI,
      commit: COMMIT,
      timeoutMinutes: 45,
      pollSeconds: 15,
    });
  });

  test('values are trimmed; empty alarm names are dropped', () => {
    expect(read({ IMAGE_FILE: ' /x/image.json ', CUSTOMER: ' shop ', ENVIRONMENT: '\tdev\n', AUTO_SCALING_GROUP: ' g ', ALARMS: ' a , b ,, c,' })).toMatchObject({
      customer: 'shop',
      environment: 'dev',
      autoScalingGroup: 'g',
      alarms: ['a', 'b', 'c'],
    });
  });

  test('reads image.json from disk by default', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-rollout-'));
    try {
      fs.writeFileSync(path.join(dir, 'image.json'), JSON.stringify(bake));
      expect(readSettings({ ...env, IMAGE_FILE: path.join(dir, 'image.json') })).toMatchObject({ imageId: NEW_AMI, commit: COMMIT });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable image.json → settings, with the reason', async () => {
    const readFile = () => {
      throw new Error('ENOENT: no such file');
    };
    expect(await failure(() => readSettings(env, readFile))).toEqual(rolloutFailure(EXIT.settings, "cannot read /x/image.json (the bake's output): ENOENT: no such file"));
  });

  describe.each(['IMAGE_FILE', 'CUSTOMER', 'ENVIRONMENT', 'AUTO_SCALING_GROUP', 'ALARMS'])('%s', (name) => {
    test.each([
      ['unset', undefined],
      ['empty', ''],
      ['whitespace', ' \t '],
    ])('%s → settings', async (_, value) => {
      const e: NodeJS.ProcessEnv = { ...env, [name]: value };
      if (value === undefined) delete e[name];
      expect(await failure(() => read(e))).toEqual(rolloutFailure(EXIT.settings, `environment variable ${name} is not set`));
    });
  });

  test.each([
    [{ ...bake, imageId: 'ami-x' }, '/x/image.json has no AMI id: "ami-x"'],
    [{ ...bake, imageId: undefined }, '/x/image.json has no AMI id: undefined'],
    [{ ...bake, imageId: [NEW_AMI] }, `/x/image.json has no AMI id: ["${NEW_AMI}"]`],
    [{ ...bake, imageId: `x${NEW_AMI}` }, `/x/image.json has no AMI id: "x${NEW_AMI}"`],
    [{ ...bake, imageId: `${NEW_AMI}x` }, `/x/image.json has no AMI id: "${NEW_AMI}x"`],
    [{ ...bake, commit: 'main' }, '/x/image.json has no commit: "main"'],
    [{ ...bake, commit: [COMMIT] }, `/x/image.json has no commit: ["${COMMIT}"]`],
    [{ ...bake, commit: `x${COMMIT}` }, `/x/image.json has no commit: "x${COMMIT}"`],
    [{ ...bake, commit: `${COMMIT}x` }, `/x/image.json has no commit: "${COMMIT}x"`],
    [{ ...bake, customer: 'blog' }, '/x/image.json is an image of blog in dev, not of shop in dev'],
    [{ ...bake, environment: 'prod' }, '/x/image.json is an image of shop in prod, not of shop in dev'],
    [{ imageId: NEW_AMI, commit: COMMIT }, '/x/image.json is an image of undefined in undefined, not of shop in dev'],
  ])('refuses the bake output %j', async (o, message) => {
    expect(await failure(() => read(env, o))).toEqual(rolloutFailure(EXIT.settings, message));
  });

  test.each([
    ['INSTANCE_WARMUP_SECONDS', 'instanceWarmupSeconds', 300, 0, 3600],
    ['TIMEOUT_MINUTES', 'timeoutMinutes', 45, 1, 600],
    ['POLL_SECONDS', 'pollSeconds', 15, 0, 300],
  ] as const)('%s: the default when unset or empty, any number from min to max, nothing else', async (name, key, fallback, min, max) => {
    expect(read(env)[key]).toBe(fallback);
    expect(read({ ...env, [name]: '' })[key]).toBe(fallback);
    for (const v of [min, min + 1, max - 1, max]) expect(read({ ...env, [name]: String(v) })[key]).toBe(v);
    for (const raw of [String(min - 1), String(max + 1), 'abc', 'Infinity', `${min}m`]) {
      expect(await failure(() => read({ ...env, [name]: raw }))).toEqual(rolloutFailure(EXIT.settings, `${name} must be a number from ${min} to ${max}, got "${raw}"`));
    }
  });
});

describe('main', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-rollout-'));
  const imageFile = path.join(dir, 'image.json');
  fs.writeFileSync(imageFile, JSON.stringify({ imageId: NEW_AMI, commit: COMMIT, customer: 'shop', environment: 'dev' }));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { IMAGE_FILE: imageFile, CUSTOMER: 'shop', ENVIRONMENT: 'dev', AUTO_SCALING_GROUP: ASG, ALARMS: settings.alarms.join(','), TIMEOUT_MINUTES: '1', POLL_SECONDS: '0' };
  const resultLine = JSON.stringify({ status: 'Successful', launchTemplateId: LT, previousVersion: '3', version: '4', imageId: NEW_AMI, previousImageId: OLD_AMI, refreshId: 'r-1' });
  /** A fake clock and sleep that fail loudly instead of looping for ever. */
  const fakeTime = () => {
    let nows = 0;
    return {
      sleep: async (ms: number) => {
        if (sleeps.push(ms) > 50) throw new Error('runaway sleep');
        clock += 10_000;
      },
      now: () => {
        if (++nows > 100) throw new Error('runaway clock');
        return clock;
      },
    };
  };

  test('success: exit 0, the result as the last log line; the given clients, log, sleep and clock are used', async () => {
    world({ polls: [poll('InProgress'), poll('Successful')] });
    const c = clients();
    const autoscaling = { send: jest.fn((cmd) => c.autoscaling.send(cmd)) } as unknown as AutoScalingClient;
    const ec2Client = { send: jest.fn((cmd) => c.ec2.send(cmd)) } as unknown as EC2Client;
    expect(await main(env, { autoscaling, ec2: ec2Client }, { log: deps.log, ...fakeTime() })).toBe(EXIT.ok);
    expect(logs).toHaveLength(7);
    expect(logs[logs.length - 1]).toBe(resultLine);
    expect(sleeps).toEqual([0]);
    expect(clock).toBe(10_000);
    expect((autoscaling.send as jest.Mock).mock.calls).toHaveLength(5);
    expect((ec2Client.send as jest.Mock).mock.calls).toHaveLength(4);
  });

  test('the settings from the environment reach AWS', async () => {
    world();
    expect(await main({ ...env, INSTANCE_WARMUP_SECONDS: '120', ALARMS: 'one' }, clients(), { log: deps.log, ...fakeTime() })).toBe(EXIT.ok);
    expect(input(asg.commandCalls(StartInstanceRefreshCommand))[0]!.Preferences).toMatchObject({ AlarmSpecification: { Alarms: ['one'] }, InstanceWarmup: 120 });
  });

  test('timeout: the injected clock decides, exit 6', async () => {
    world({ polls: [poll('InProgress')] });
    expect(await main(env, clients(), { log: deps.log, ...fakeTime() })).toBe(EXIT.timeout);
    expect(logs[logs.length - 1]).toBe(`error: instance refresh r-1 did not finish within 1 minutes (last status InProgress); rolled it back; shop returns to version 3 (image ${OLD_AMI})`);
    expect(sleeps).toHaveLength(6);
  });

  const outcomes: [string, { env?: NodeJS.ProcessEnv; world?: World }, number][] = [
    ['ok', {}, EXIT.ok],
    ['settings', { env: { ...env, POLL_SECONDS: '-1' } }, EXIT.settings],
    ['image', { world: { images: { Images: [] } } }, EXIT.image],
    ['busy', { world: { refreshes: { '': { InstanceRefreshes: [{ InstanceRefreshId: 'r-0', Status: 'Pending' }] } } } }, EXIT.busy],
    ['failed', { world: { polls: [poll('Cancelled')] } }, EXIT.failed],
    ['timeout', { world: { polls: [poll('Pending')] } }, EXIT.timeout],
    ['unexpected', { world: { started: {} } }, EXIT.unexpected],
  ];
  test.each(outcomes)('outcome %s → exit code', async (_, o, code) => {
    world(o.world);
    expect(await main(o.env ?? env, clients(), { log: deps.log, ...fakeTime() })).toBe(code);
  });

  test.each([
    ['an AWS error: its name first', Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }), 'error: AccessDenied: User is not authorized'],
    ['a TypeError: its name first', new TypeError('x is undefined'), 'error: TypeError: x is undefined'],
    ['a plain Error: the message only', new Error('socket hang up'), 'error: socket hang up'],
    ['not an Error: as a string', 'boom', 'error: boom'],
  ])('%s, exit 1', async (_, thrown, line) => {
    const throwing = { send: () => Promise.reject(thrown) };
    expect(await main(env, { autoscaling: throwing as unknown as AutoScalingClient, ec2: throwing as unknown as EC2Client }, { log: deps.log })).toBe(EXIT.unexpected);
    expect(logs).toEqual([line]);
  });

  test('a RolloutFailure: the message only', async () => {
    expect(await main({ ...env, CUSTOMER: '' }, clients(), { log: deps.log })).toBe(EXIT.settings);
    expect(logs).toEqual(['error: environment variable CUSTOMER is not set']);
  });

  describe('without injected dependencies', () => {
    let out: string[];
    let err: string[];
    beforeEach(() => {
      out = [];
      err = [];
      // The real clock, but fast: 10 s pass between two readings (a poll loop that never ends times out at once).
      let t = 1_700_000_000_000;
      jest.spyOn(Date, 'now').mockImplementation(() => (t += 10_000));
      jest.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
      jest.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
    });
    afterEach(() => jest.restoreAllMocks());

    test('progress on stdout with the program name, AWS clients of its own, the real clock', async () => {
      world();
      expect(await main(env)).toBe(EXIT.ok);
      expect(err).toEqual([]);
      expect(out).toHaveLength(6);
      expect(out[0]).toBe(`image-rollout: ${WHERE} runs launch template ${LT} version 3 (image ${OLD_AMI})\n`);
      expect(out[5]).toBe(`image-rollout: ${resultLine}\n`);
    });

    test('errors on stderr with the program name', async () => {
      const { IMAGE_FILE: _, ...noFile } = env;
      expect(await main(noFile)).toBe(EXIT.settings);
      expect(out).toEqual([]);
      expect(err).toEqual(['image-rollout: error: environment variable IMAGE_FILE is not set\n']);
    });

    test('the real sleep waits POLL_SECONDS between two polls', async () => {
      world({ polls: [poll('InProgress'), poll('Successful')] });
      const realSetTimeout = global.setTimeout;
      const timer = jest.spyOn(global, 'setTimeout').mockImplementation(((cb: () => void, ms?: number) => {
        if (ms !== 3000) return realSetTimeout(cb, ms);
        cb(); // the poll interval: no real waiting in a test
        return undefined;
      }) as any);
      const hung = new Promise((r) => realSetTimeout(() => r('hung'), 2000).unref());
      expect(await Promise.race([main({ ...env, POLL_SECONDS: '3' }, clients(), { log: deps.log }), hung])).toBe(EXIT.ok);
      expect(timer.mock.calls.filter((c) => c[1] === 3000)).toHaveLength(1);
    });
  });

  test('run as a program: the exit code is the process exit status', () => {
    const r = spawnSync(process.execPath, ['--require', 'esbuild-register', path.join(__dirname, '../../lambdas/image-rollout/rollout.ts')], {
      cwd: path.join(__dirname, '../..'),
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: EXIT.settings, stdout: '', stderr: 'image-rollout: error: environment variable IMAGE_FILE is not set\n' });
  });
});
