/**
 * Issue 10: the image pipeline's rollout program against aws-sdk-client-mock: a new launch
 * template version from the live one with only the image changed, an instance refresh to exactly
 * that version (100 % healthy, auto-rollback, the customer's alarms), and a non-zero exit on every
 * outcome that leaves the new image out of service.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { EXIT, RolloutSettings, main, readSettings, rollout } from '../../lambdas/image-rollout/rollout';

const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const COMMIT = 'a'.repeat(40);
const NEW_AMI = 'ami-0123456789abcdef1';
const OLD_AMI = 'ami-0123456789abcdef0';
const LT = 'lt-0123456789abcdef0';
const settings: RolloutSettings = {
  customer: 'shop',
  environment: 'dev',
  autoScalingGroup: 'acme-web-dev-shop-web',
  alarms: ['acme-web-dev-shop-unhealthy-hosts', 'acme-web-dev-shop-target-5xx'],
  instanceWarmupSeconds: 300,
  imageId: NEW_AMI,
  commit: COMMIT,
  timeoutMinutes: 1,
  pollSeconds: 10,
};

let clock = 0;
const logs: string[] = [];
const deps = { log: (l: string) => logs.push(l), sleep: async (ms: number) => void (clock += ms), now: () => clock };
const clients = () => ({ autoscaling: new AutoScalingClient({ region: 'eu-west-1' }), ec2: new EC2Client({ region: 'eu-west-1' }) });

function world(statuses: string[], opts: { active?: boolean; tags?: Record<string, string> } = {}) {
  const tags = opts.tags ?? { customer: 'shop', environment: 'dev', commit: COMMIT };
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: NEW_AMI, State: 'available', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] });
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [{ AutoScalingGroupName: settings.autoScalingGroup, LaunchTemplate: { LaunchTemplateId: LT, Version: '3' } } as any],
  });
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: LT, Versions: ['3'] }).resolves({
    LaunchTemplateVersions: [{ VersionNumber: 3, VersionDescription: 'Web servers of shop in dev', LaunchTemplateData: { ImageId: OLD_AMI } }],
  });
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: LT, Versions: ['$Latest'] }).resolves({ LaunchTemplateVersions: [{ VersionNumber: 3, LaunchTemplateData: { ImageId: OLD_AMI } }] });
  ec2.on(CreateLaunchTemplateVersionCommand).resolves({ LaunchTemplateVersion: { VersionNumber: 4 } });
  asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
  asg.on(DescribeInstanceRefreshesCommand, { AutoScalingGroupName: settings.autoScalingGroup }).resolves({
    InstanceRefreshes: opts.active ? [{ InstanceRefreshId: 'r-0', Status: 'InProgress' }] : [{ InstanceRefreshId: 'r-0', Status: 'Successful' }],
  });
  let call = asg.on(DescribeInstanceRefreshesCommand, { AutoScalingGroupName: settings.autoScalingGroup, InstanceRefreshIds: ['r-1'] });
  for (const s of statuses) call = call.resolvesOnce({ InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: s as any, StatusReason: s === 'RollbackSuccessful' ? 'alarm acme-web-dev-shop-target-5xx in ALARM' : undefined }] });
  call.resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: statuses[statuses.length - 1] as any }] });
}

beforeEach(() => {
  asg.reset();
  ec2.reset();
  clock = 0;
  logs.length = 0;
});

test('success: a new version from the live one with only the image changed, then a refresh to exactly that version', async () => {
  world(['Pending', 'InProgress', 'Successful']);
  const r = await rollout(clients(), settings, deps);
  expect(r).toMatchObject({ status: 'Successful', previousVersion: '3', version: '4', imageId: NEW_AMI, previousImageId: OLD_AMI });
  const create = ec2.commandCalls(CreateLaunchTemplateVersionCommand)[0]!.args[0].input;
  expect(create).toMatchObject({ LaunchTemplateId: LT, SourceVersion: '3', VersionDescription: 'Web servers of shop in dev', LaunchTemplateData: { ImageId: NEW_AMI } });
  expect(Object.keys(create.LaunchTemplateData!)).toEqual(['ImageId']);
  const start = asg.commandCalls(StartInstanceRefreshCommand)[0]!.args[0].input;
  expect(start).toEqual({
    AutoScalingGroupName: settings.autoScalingGroup,
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
  });
  // The group is never pointed at the new version directly (#34189): only the refresh does that.
  expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
});

test('refresh Failed → non-zero, and nothing but the refresh touched the group', async () => {
  world(['InProgress', 'Failed']);
  await expect(rollout(clients(), settings, deps)).rejects.toMatchObject({ exitCode: EXIT.failed, message: expect.stringMatching(/ended Failed.*serving on the previous AMI ami-0123456789abcdef0/) });
  expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  expect(asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(0);
  expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(1);
});

test('RollbackSuccessful (an alarm fired) → non-zero, the message says the customer serves on the previous AMI', async () => {
  world(['InProgress', 'RollbackInProgress', 'RollbackSuccessful']);
  await expect(rollout(clients(), settings, deps)).rejects.toMatchObject({
    exitCode: EXIT.failed,
    message: expect.stringMatching(/RollbackSuccessful \(alarm .*\); the group still names version 3: shop is serving on the previous AMI ami-0123456789abcdef0/),
  });
});

test('a refresh already in progress → refuse before changing anything', async () => {
  world(['Successful'], { active: true });
  await expect(rollout(clients(), settings, deps)).rejects.toMatchObject({ exitCode: EXIT.busy, message: expect.stringMatching(/already active.*r-0 \(InProgress\); nothing was changed/) });
  expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
  expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
});

test('timeout → the refresh is rolled back and the exit is non-zero', async () => {
  world(['InProgress']);
  asg.on(RollbackInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
  await expect(rollout(clients(), settings, deps)).rejects.toMatchObject({ exitCode: EXIT.timeout, message: expect.stringMatching(/did not finish within 1 minutes.*rolled it back; shop returns to version 3/) });
  expect(asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(1);
  expect(clock).toBeGreaterThanOrEqual(60_000);
  expect(clock).toBeLessThan(80_000);
});

test('an image of another customer (or without the commit tag) is refused', async () => {
  world(['Successful'], { tags: { customer: 'blog', environment: 'dev', commit: COMMIT } });
  await expect(rollout(clients(), settings, deps)).rejects.toMatchObject({ exitCode: EXIT.image, message: expect.stringMatching(/customer=blog, expected shop/) });
  ec2.reset();
  asg.reset();
  world(['Successful'], { tags: { customer: 'shop', environment: 'dev' } });
  await expect(rollout(clients(), settings, deps)).rejects.toMatchObject({ exitCode: EXIT.image });
  expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
});

test('the image already live → nothing to do, exit 0', async () => {
  world(['Successful']);
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: OLD_AMI, State: 'available', Tags: [{ Key: 'customer', Value: 'shop' }, { Key: 'environment', Value: 'dev' }, { Key: 'commit', Value: COMMIT }] }] });
  await expect(rollout(clients(), { ...settings, imageId: OLD_AMI }, deps)).resolves.toMatchObject({ status: 'AlreadyLive', previousVersion: '3' });
  expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
  expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
});

test('a newer Terraform version of the template (same image) is the base: its change rolls out with the image', async () => {
  world(['Successful']);
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: LT, Versions: ['$Latest'] }).resolves({ LaunchTemplateVersions: [{ VersionNumber: 5, VersionDescription: 'terraform', LaunchTemplateData: { ImageId: OLD_AMI } }] });
  await rollout(clients(), settings, deps);
  expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)[0]!.args[0].input).toMatchObject({ SourceVersion: '5', VersionDescription: 'terraform', LaunchTemplateData: { ImageId: NEW_AMI } });
  expect(logs.join('\n')).toMatch(/version 5 is newer than the live version 3 with the same image .* carries it along/);
});

test('a newer version with another image (a failed rollout) is never the base', async () => {
  world(['Successful']);
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: LT, Versions: ['$Latest'] }).resolves({ LaunchTemplateVersions: [{ VersionNumber: 5, LaunchTemplateData: { ImageId: 'ami-0badbadbadbadbad0' } }] });
  await rollout(clients(), settings, deps);
  expect(ec2.commandCalls(CreateLaunchTemplateVersionCommand)[0]!.args[0].input).toMatchObject({ SourceVersion: '3', LaunchTemplateData: { ImageId: NEW_AMI } });
});

describe('readSettings', () => {
  const env = { IMAGE_FILE: '/x/image.json', CUSTOMER: 'shop', ENVIRONMENT: 'dev', AUTO_SCALING_GROUP: 'g', ALARMS: 'a,b' };
  const file = (o: object) => () => JSON.stringify(o);
  test('reads the bake output and the project variables', () => {
    expect(readSettings(env, file({ imageId: NEW_AMI, commit: COMMIT, customer: 'shop', environment: 'dev' }))).toMatchObject({ imageId: NEW_AMI, alarms: ['a', 'b'], timeoutMinutes: 45 });
  });
  test.each([
    [{ imageId: 'ami-x', commit: COMMIT, customer: 'shop', environment: 'dev' }, /no AMI id/],
    [{ imageId: NEW_AMI, commit: 'main', customer: 'shop', environment: 'dev' }, /no commit/],
    [{ imageId: NEW_AMI, commit: COMMIT, customer: 'blog', environment: 'dev' }, /image of blog in dev, not of shop/],
  ])('refuses %j', (o, msg) => expect(() => readSettings(env, file(o))).toThrow(msg));
  test('missing variables', () => expect(() => readSettings({ ...env, ALARMS: '' }, file({ imageId: NEW_AMI, commit: COMMIT, customer: 'shop', environment: 'dev' }))).toThrow(/ALARMS is not set/));
  test('main: exit code and message, no stack trace', async () => {
    const out: string[] = [];
    expect(await main({ ...env, IMAGE_FILE: '/nonexistent/image.json' }, clients(), { log: (l) => out.push(l) })).toBe(EXIT.settings);
    expect(out.join('\n')).toMatch(/error: cannot read \/nonexistent\/image.json/);
  });
});
