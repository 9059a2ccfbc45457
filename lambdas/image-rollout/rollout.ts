/**
 * The image pipeline's rollout step (CodeBuild runs `node image-rollout.js`, bundled with the AWS
 * SDK). Given the AMI the bake produced, it:
 *
 * 1. checks the AMI is available and tagged with this customer and environment;
 * 2. refuses while an instance refresh of the group is active (it would be cancelled or fight);
 * 3. creates a NEW launch template version from the version the group runs now (or from a newer
 *    Terraform version of the template with the same image, which it carries along), with only
 *    the image id changed (same version description, so Terraform sees no drift);
 * 4. starts an instance refresh whose DESIRED CONFIGURATION is that version (explicit number:
 *    auto-rollback works with it, not with $Latest/$Default or an SSM image id), keeping 100 %
 *    healthy, rolling back on failure and on the customer's alarms;
 * 5. waits (bounded) and fails unless the refresh succeeded. On timeout it rolls the refresh back.
 *
 * The group's own launch template version changes only when the refresh succeeds (Auto Scaling
 * applies the desired configuration at the end), so a failed rollout leaves the customer on the
 * previous version and AMI. Every version stays in the template: `npm run rollback -- <c> <env>
 * --image` goes back to the previous one.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  InstanceRefresh,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { createHash } from 'crypto';
import * as fs from 'fs';
import { ROLLOUT_POLL_SECONDS, ROLLOUT_TIMEOUT_MINUTES, rolloutPreferences } from './contract';

export const EXIT = {
  ok: 0,
  unexpected: 1,
  settings: 2,
  image: 3,
  busy: 4,
  failed: 5,
  timeout: 6,
} as const;

/** Statuses in which a refresh blocks a new one (the same list as `npm run rollback`). */
export const ACTIVE_STATUSES = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];
/** Statuses that end a refresh without the new version in service. */
export const FAILED_STATUSES = ['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'];

export class RolloutFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RolloutFailure';
  }
}

export interface RolloutSettings {
  readonly customer: string;
  readonly environment: string;
  readonly autoScalingGroup: string;
  /** The customer's alarms: any in ALARM during the refresh rolls it back. */
  readonly alarms: readonly string[];
  readonly instanceWarmupSeconds: number;
  readonly imageId: string;
  readonly commit: string;
  readonly timeoutMinutes: number;
  readonly pollSeconds: number;
}

export interface RolloutClients {
  readonly autoscaling: AutoScalingClient;
  readonly ec2: EC2Client;
}

export interface RolloutDeps {
  readonly log: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

export interface RolloutResult {
  readonly status: 'Successful' | 'AlreadyLive';
  readonly launchTemplateId: string;
  readonly previousVersion: string;
  readonly version?: string;
  readonly imageId: string;
  readonly previousImageId?: string;
  readonly refreshId?: string;
}

/** Reads the settings from the environment and the bake's image.json. */
export function readSettings(env: NodeJS.ProcessEnv, readFile: (f: string) => string = (f) => fs.readFileSync(f, 'utf8')): RolloutSettings {
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v.trim() === '') throw new RolloutFailure(EXIT.settings, `environment variable ${name} is not set`);
    return v.trim();
  };
  const file = need('IMAGE_FILE');
  let image: { imageId?: unknown; commit?: unknown; customer?: unknown; environment?: unknown };
  try {
    image = JSON.parse(readFile(file));
  } catch (e) {
    throw new RolloutFailure(EXIT.settings, `cannot read ${file} (the bake's output): ${(e as Error).message}`);
  }
  const customer = need('CUSTOMER');
  const environment = need('ENVIRONMENT');
  if (typeof image.imageId !== 'string' || !/^ami-[0-9a-f]{8,17}$/.test(image.imageId)) throw new RolloutFailure(EXIT.settings, `${file} has no AMI id: ${JSON.stringify(image.imageId)}`);
  if (typeof image.commit !== 'string' || !/^[0-9a-f]{40}$/.test(image.commit)) throw new RolloutFailure(EXIT.settings, `${file} has no commit: ${JSON.stringify(image.commit)}`);
  if (image.customer !== customer || image.environment !== environment) {
    throw new RolloutFailure(EXIT.settings, `${file} is an image of ${String(image.customer)} in ${String(image.environment)}, not of ${customer} in ${environment}`);
  }
  const num = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    const v = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new RolloutFailure(EXIT.settings, `${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return v;
  };
  const alarms = need('ALARMS').split(',').map((a) => a.trim()).filter(Boolean);
  return {
    customer,
    environment,
    autoScalingGroup: need('AUTO_SCALING_GROUP'),
    alarms,
    instanceWarmupSeconds: num('INSTANCE_WARMUP_SECONDS', 300, 0, 3600),
    imageId: image.imageId,
    commit: image.commit,
    timeoutMinutes: num('TIMEOUT_MINUTES', ROLLOUT_TIMEOUT_MINUTES, 1, 600),
    pollSeconds: num('POLL_SECONDS', ROLLOUT_POLL_SECONDS, 0, 300),
  };
}

function tagOf(tags: readonly { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

async function describeRefreshes(c: RolloutClients, asg: string, ids?: string[]): Promise<InstanceRefresh[]> {
  const out: InstanceRefresh[] = [];
  let NextToken: string | undefined;
  do {
    const r = await c.autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: asg, InstanceRefreshIds: ids, NextToken }));
    out.push(...(r.InstanceRefreshes ?? []));
    NextToken = r.NextToken;
  } while (NextToken);
  return out;
}

/** Rolls the image out; resolves on success, throws a RolloutFailure otherwise. */
export async function rollout(c: RolloutClients, s: RolloutSettings, d: RolloutDeps): Promise<RolloutResult> {
  const where = `${s.autoScalingGroup} (${s.customer} in ${s.environment})`;

  // 1. The image: available, and this customer's and environment's.
  const images = (await c.ec2.send(new DescribeImagesCommand({ ImageIds: [s.imageId] }))).Images ?? [];
  const image = images.find((i) => i.ImageId === s.imageId);
  if (!image) throw new RolloutFailure(EXIT.image, `image ${s.imageId} not found`);
  if (image.State !== 'available') throw new RolloutFailure(EXIT.image, `image ${s.imageId} is ${image.State ?? 'in an unknown state'}, not available`);
  for (const [key, want] of [['customer', s.customer], ['environment', s.environment], ['commit', s.commit]] as const) {
    const got = tagOf(image.Tags, key);
    if (got !== want) throw new RolloutFailure(EXIT.image, `image ${s.imageId} has tag ${key}=${got ?? '(none)'}, expected ${want}: refusing to roll it out`);
  }

  // 2. No refresh in flight.
  const active = (await describeRefreshes(c, s.autoScalingGroup)).filter((r) => ACTIVE_STATUSES.includes(r.Status ?? ''));
  if (active.length > 0) {
    throw new RolloutFailure(
      EXIT.busy,
      `an instance refresh is already active in ${where}: ${active.map((r) => `${r.InstanceRefreshId} (${r.Status})`).join(', ')}; nothing was changed. Let it finish (or cancel it), then retry this pipeline execution`,
    );
  }

  // 3. The version the group runs now.
  const group = (await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [s.autoScalingGroup] }))).AutoScalingGroups?.[0];
  if (!group) throw new RolloutFailure(EXIT.settings, `auto scaling group ${s.autoScalingGroup} not found`);
  const spec = group.LaunchTemplate;
  if (!spec?.LaunchTemplateId || !spec.Version) throw new RolloutFailure(EXIT.settings, `${where} has no launch template (mixed instances policies are not supported)`);
  const launchTemplateId = spec.LaunchTemplateId;
  const current = (await c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: [spec.Version] }))).LaunchTemplateVersions?.[0];
  if (!current?.VersionNumber) throw new RolloutFailure(EXIT.settings, `version ${spec.Version} of launch template ${launchTemplateId} not found`);
  const previousVersion = String(current.VersionNumber);
  const previousImageId = current.LaunchTemplateData?.ImageId;
  d.log(`${where} runs launch template ${launchTemplateId} version ${previousVersion} (image ${previousImageId ?? 'unknown'})`);
  if (previousImageId === s.imageId) {
    d.log(`image ${s.imageId} is already live; nothing to do`);
    return { status: 'AlreadyLive', launchTemplateId, previousVersion, imageId: s.imageId, previousImageId };
  }
  const latest = (await c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: ['$Latest'] }))).LaunchTemplateVersions?.[0];
  // A newer version with the live image is a Terraform change of the template (user data, instance
  // type...), which the group does not pick up on its own: the new version is built on it, so the
  // change rolls out with the image. A newer version with another image is a failed or rolled-back
  // image rollout: never a base.
  const carried = latest?.VersionNumber && latest.VersionNumber > current.VersionNumber && latest.LaunchTemplateData?.ImageId === previousImageId ? latest : undefined;
  const source = carried ?? current;
  const sourceVersion = String(source.VersionNumber);
  if (carried) d.log(`version ${sourceVersion} is newer than the live version ${previousVersion} with the same image (a Terraform change of the template): the new version is built on it and carries it along`);

  // 4. A new version: the source with only the image changed; same description (no drift).
  const created = await c.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: launchTemplateId,
      SourceVersion: sourceVersion,
      VersionDescription: source.VersionDescription,
      LaunchTemplateData: { ImageId: s.imageId },
      // Retrying the same build step reuses the version instead of creating another one (a sha256
      // in hex is 64 characters: the longest token the API takes).
      ClientToken: createHash('sha256').update([launchTemplateId, sourceVersion, s.imageId].join('\n')).digest('hex'),
    }),
  );
  const version = created.LaunchTemplateVersion?.VersionNumber;
  if (!version) throw new RolloutFailure(EXIT.unexpected, `CreateLaunchTemplateVersion returned no version number`);
  d.log(`created launch template version ${version}: version ${sourceVersion} with image ${s.imageId} (commit ${s.commit})`);

  // 5. The refresh, to exactly that version.
  const started = await c.autoscaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: s.autoScalingGroup,
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: String(version) } },
      Preferences: rolloutPreferences(s.alarms, s.instanceWarmupSeconds),
    }),
  );
  const refreshId = started.InstanceRefreshId;
  if (!refreshId) throw new RolloutFailure(EXIT.unexpected, 'StartInstanceRefresh returned no refresh id');
  d.log(`started instance refresh ${refreshId} (min healthy 100 %, auto-rollback on failure and on alarms ${s.alarms.join(', ')})`);

  // 6. Wait, bounded.
  const deadline = d.now() + s.timeoutMinutes * 60_000;
  let last = '';
  for (;;) {
    const r = (await describeRefreshes(c, s.autoScalingGroup, [refreshId])).find((x) => x.InstanceRefreshId === refreshId);
    const status = r?.Status ?? 'Unknown';
    const reason = r?.StatusReason ? ` (${r.StatusReason})` : '';
    const line = `refresh ${refreshId}: ${status}${r?.PercentageComplete !== undefined ? ` ${r.PercentageComplete}%` : ''}${reason}`;
    if (line !== last) d.log(line);
    last = line;
    if (status === 'Successful') {
      d.log(`image ${s.imageId} (commit ${s.commit}) is live in ${where}: launch template version ${version}; previous version ${previousVersion} (image ${previousImageId ?? 'unknown'}) kept for rollback`);
      return { status: 'Successful', launchTemplateId, previousVersion, version: String(version), imageId: s.imageId, previousImageId, refreshId };
    }
    if (FAILED_STATUSES.includes(status)) {
      const serving =
        status === 'RollbackFailed'
          ? 'the rollback itself failed: check the group now (npm run releases, docs/RUNBOOK.md)'
          : `the group still names version ${previousVersion}: ${s.customer} is serving on the previous AMI ${previousImageId ?? ''}`.trim();
      throw new RolloutFailure(EXIT.failed, `instance refresh ${refreshId} ended ${status}${reason}; ${serving}`);
    }
    if (d.now() >= deadline) {
      // Do not leave a half-done refresh behind: roll it back to the version the group had.
      let rolledBack: string;
      try {
        await c.autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: s.autoScalingGroup }));
        rolledBack = `rolled it back; ${s.customer} returns to version ${previousVersion} (image ${previousImageId ?? 'unknown'})`;
      } catch (e) {
        rolledBack = `and could not roll it back (${(e as Error).name}: ${(e as Error).message}): check the group now`;
      }
      throw new RolloutFailure(EXIT.timeout, `instance refresh ${refreshId} did not finish within ${s.timeoutMinutes} minutes (last status ${status}); ${rolledBack}`);
    }
    await d.sleep(s.pollSeconds * 1000);
  }
}

export async function main(env: NodeJS.ProcessEnv = process.env, clients?: RolloutClients, deps?: Partial<RolloutDeps>): Promise<number> {
  const log = deps?.log ?? ((line: string) => process.stdout.write(`image-rollout: ${line}\n`));
  try {
    const settings = readSettings(env);
    const c = clients ?? { autoscaling: new AutoScalingClient({}), ec2: new EC2Client({}) };
    const result = await rollout(c, settings, { log, sleep: deps?.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))), now: deps?.now ?? Date.now });
    log(JSON.stringify(result));
    return EXIT.ok;
  } catch (e) {
    const code = e instanceof RolloutFailure ? e.exitCode : EXIT.unexpected;
    const msg = e instanceof Error ? `${e.name === 'Error' || e.name === 'RolloutFailure' ? '' : `${e.name}: `}${e.message}` : String(e);
    (deps?.log ?? ((line: string) => process.stderr.write(`image-rollout: ${line}\n`)))(`error: ${msg}`);
    return code;
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code));
}
