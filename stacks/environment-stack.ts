import { Construct } from 'constructs';
import { ArchiveProvider } from '@cdktf/provider-archive/lib/provider';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { DataArchiveFile } from '@cdktf/provider-archive/lib/data-archive-file';
import { AssetType, TerraformAsset, TerraformOutput } from 'cdktf';
import { IMAGE_ROLLOUT_TOOL_KEY } from './model/image-delivery';
import { REPOSITORY_KINDS } from './model/config/schema';
import { EnvironmentConfig } from './model/config/validate';
import { RuntimeBundles } from './constructs/ingestion/bundles';
import { GitlabIngestion } from './constructs/ingestion/gitlab-ingestion';
import { PublicEntry, PublicEntryProps } from './constructs/ingress/public-entry';
import { TIERS } from './model/ip-plan';
import { NatInstances } from './constructs/network/nat-instances';
import { VpcNetwork } from './constructs/network/vpc-network';
import { PlatformStack } from './platform-stack';
import { ENVIRONMENT_EXPORT_DESCRIPTIONS, EnvironmentExports, ShardExports } from './constructs/environment-exports';
import { AlarmTopic } from './constructs/observability/alarm-topic';
import { SecurityFoundation } from './constructs/security/security-foundation';

/** The tags every resource of an environment carries (provider default_tags plus the config's own). */
export function environmentTags(env: EnvironmentConfig): Record<string, string> {
  return { ...env.tags, project: env.project, environment: env.name, 'managed-by': 'cdktf' };
}

export interface EnvironmentStackProps {
  /** The validated environment, with derived values (IP plan, NAT mode). */
  readonly config: EnvironmentConfig;
  /** The bundled runtime programs (webhook Lambda, source fetch). */
  readonly bundles: RuntimeBundles;
}

/**
 * Everything one environment runs on: network, NAT, the security foundation (KMS key, artifact
 * bucket, audit trail, pipeline roles), the public entry (ALB) and the GitLab push ingestion
 * (API Gateway → Lambda → CodeBuild).
 * Remote state in the account/region's state bucket (created by the bootstrap stack).
 */
export class EnvironmentStack extends PlatformStack {
  readonly network: VpcNetwork;
  readonly nat: NatInstances;
  readonly security: SecurityFoundation;
  /** Load-balancer shard 0: the environment's first public entry (the single-ALB design's ids and names). */
  readonly ingress: PublicEntry;
  /** Every load-balancer shard's public entry, by number (`shards[0]` is `ingress`). */
  readonly shards: readonly PublicEntry[];
  readonly ingestion: GitlabIngestion;
  readonly alarms: AlarmTopic;
  /** What the environment gives its customer stacks: the only way they see it. */
  readonly exports: EnvironmentExports;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const env = props.config;
    const tags = environmentTags(env);
    this.useEnvironmentAccount(env, tags);
    // Zips the webhook Lambda and the source-fetch program at plan time (data.archive_file).
    new ArchiveProvider(this, 'archive');

    this.network = new VpcNetwork(this, 'network', {
      plan: env.ipPlan,
      availabilityZones: env.availabilityZones,
      ipv6: env.ingress.ipv6,
    });

    this.nat = new NatInstances(this, 'nat', {
      vpcId: this.network.vpc.id,
      mode: env.natMode,
      instanceType: env.network.nat.instanceType,
      publicSubnets: this.network.subnets.public,
      availabilityZones: env.availabilityZones,
      nattedRouteTables: this.network.nattedRouteTables,
      nattedSupernet: env.ipPlan.tiers.natted.supernet,
      tags,
    });

    const ingress = env.ingress;
    const entryProps: PublicEntryProps = {
      vpcId: this.network.vpc.id,
      publicSubnets: this.network.subnets.public,
      nattedSupernet: env.ipPlan.tiers.natted.supernet,
      domain: ingress.domain,
      certificate: ingress.certificateArn
        ? { kind: 'existing', certificateArn: ingress.certificateArn }
        : { kind: 'acm-dns', hostedZoneId: ingress.hostedZoneId! },
      ipv6: ingress.ipv6,
      idleTimeoutSeconds: ingress.idleTimeoutSeconds,
      accessLogRetentionDays: ingress.accessLogRetentionDays,
      deletionProtection: env.production,
    };
    // Shard 0 keeps the construct id "ingress" (and so its resource addresses); shard n is "ingress-s<n>".
    this.ingress = new PublicEntry(this, 'ingress', entryProps);
    const extra = Array.from({ length: ingress.shards - 1 }, (_, i) => new PublicEntry(this, `ingress-s${i + 1}`, { ...entryProps, shard: i + 1, primary: this.ingress }));
    this.shards = [this.ingress, ...extra];

    this.security = new SecurityFoundation(this, 'security', {
      kmsDeletionWindowDays: env.kmsDeletionWindowDays,
      cloudWatchLogRetentionDays: env.security.cloudWatchLogRetentionDays,
      s3LogExpirationDays: env.security.s3LogExpirationDays,
      noncurrentVersionExpirationDays: env.security.noncurrentVersionExpirationDays,
      flowLogVpcId: env.network.flowLogs ? this.network.vpc.id : undefined,
      httpsListenerArn: this.ingress.httpsListener.arn,
    });

    this.alarms = new AlarmTopic(this, 'alarms', { kmsKeyArn: this.security.key.arn, emails: env.alarms.emails });

    this.ingestion = new GitlabIngestion(this, 'ingestion', {
      gitlabUrl: env.gitlab.url,
      authMode: env.gitlab.authMode,
      tagPushes: env.gitlab.tagPushes,
      reservedConcurrency: env.gitlab.webhookReservedConcurrency,
      repositories: env.gitlab.repositories,
      artifactBucketName: this.security.artifacts.name,
      artifactBucket: this.security.artifacts.bucket.bucket,
      kmsKeyArn: this.security.key.arn,
      vpcId: this.network.vpc.id,
      nattedSubnetIds: this.network.subnets.natted.map((s) => s.id),
      logRetentionDays: env.security.cloudWatchLogRetentionDays,
      webhookBundleFile: props.bundles.webhook,
      sourceFetchBundleFile: props.bundles.sourceFetch,
      workerBundleFile: props.bundles.worker,
      reconcilerBundleFile: props.bundles.reconciler,
      alarmTopicArn: this.alarms.arn,
      alarmTopic: this.alarms.topic,
      reconcileIntervalMinutes: env.gitlab.reconcileIntervalMinutes,
    });

    // The image pipelines' rollout program: one copy per environment, read by each customer's
    // rollout build (stacks/constructs/customer/image-pipeline.ts).
    const rolloutTool = new TerraformAsset(this, 'image-rollout-bundle', { path: props.bundles.imageRollout, type: AssetType.FILE });
    const rolloutZip = new DataArchiveFile(this, 'image-rollout-zip', {
      type: 'zip',
      sourceFile: `\${path.module}/${rolloutTool.path}`,
      outputFileMode: '0644',
      outputPath: '${path.module}/build/image-rollout.zip',
    });
    new S3Object(this, 'image-rollout-tool', {
      bucket: this.security.artifacts.name,
      key: IMAGE_ROLLOUT_TOOL_KEY,
      source: rolloutZip.outputPath,
      sourceHash: rolloutZip.outputMd5,
      serverSideEncryption: 'aws:kms',
      kmsKeyId: this.security.key.arn,
      dependsOn: [this.security.artifacts.bucket.bucket],
    });


    const shardExports: ShardExports[] = this.shards.map((e) => ({
      albArn: e.alb.arn,
      albArnSuffix: e.alb.arnSuffix,
      albDnsName: e.alb.dnsName,
      albZoneId: e.alb.zoneId,
      albSecurityGroupId: e.securityGroup.id,
      httpsListenerArn: e.httpsListener.arn,
    }));
    this.exports = {
      vpcId: this.network.vpc.id,
      nattedSubnetIds: this.network.subnets.natted.map((s) => s.id),
      privateSubnetIds: this.network.subnets.private.map((s) => s.id),
      ...shardExports[0]!,
      shards: shardExports,
      kmsKeyArn: this.security.key.arn,
      artifactBucketName: this.security.artifacts.name,
      artifactBucketArn: this.security.artifacts.arn,
      alarmTopicArn: this.alarms.arn,
    };
    // One output per export, named after it in snake_case, so operators see the same contract.
    const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    for (const [key, description] of Object.entries(ENVIRONMENT_EXPORT_DESCRIPTIONS) as Array<[keyof EnvironmentExports, string]>) {
      const value = key === 'shards' ? shardExports.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [snake(k), v]))) : this.exports[key];
      new TerraformOutput(this, snake(key), { value, description });
    }

    new TerraformOutput(this, 'tier_supernets', {
      description: 'The aligned supernet of each tier (for routes, NACLs, security groups and firewalls)',
      value: Object.fromEntries(TIERS.map((t) => [t, env.ipPlan.tiers[t].supernet])),
    });
    new TerraformOutput(this, 'subnet_cidrs', {
      description: 'Subnet CIDR by tier and AZ',
      value: Object.fromEntries(TIERS.map((t) => [t, Object.fromEntries(env.ipPlan.tiers[t].subnets.map((s) => [s.az, s.cidr]))])),
    });
    new TerraformOutput(this, 'subnet_ids', {
      description: 'Subnet id by tier and AZ',
      value: Object.fromEntries(TIERS.map((t) => [t, Object.fromEntries(this.network.subnets[t].map((s, i) => [env.availabilityZones[i], s.id]))])),
    });
    new TerraformOutput(this, 'nat_public_ips', {
      description: 'Stable egress addresses (Elastic IPs) of the NAT instances, by AZ; customers allowlist these',
      value: Object.fromEntries(this.nat.instances.map((n) => [n.az, n.eip.publicIp])),
    });

    const sec = this.security;
    new TerraformOutput(this, 'kms_key_alias', { value: sec.key.aliasName, description: 'Alias of the environment KMS key' });
    new TerraformOutput(this, 'pipeline_trigger_rules', {
      description: 'EventBridge rules (default bus) matching new sources under software/ and infrastructure/; attach pipeline targets to them',
      value: Object.fromEntries(REPOSITORY_KINDS.map((k) => [k, { name: sec.trail.sourceRules[k].name, arn: sec.trail.sourceRules[k].arn }])),
    });
    new TerraformOutput(this, 'role_arns', { value: sec.roles.arns, description: 'ARNs of the pipeline roles (web servers have per-customer roles in the customer stacks)' });
    new TerraformOutput(this, 'cloudtrail_log_group', { value: sec.trail.logGroupName, description: 'CloudWatch log group of the audit trail' });
    new TerraformOutput(this, 'gitlab_webhook_url', {
      value: this.ingestion.webhookUrl,
      description: 'URL to register as the GitLab webhook (push events); see README "Registering the webhook"',
    });
    new TerraformOutput(this, 'source_fetch_projects', {
      value: Object.fromEntries(REPOSITORY_KINDS.map((k) => [k, this.ingestion.buildProjects[k].name])),
      description: 'CodeBuild projects that clone pushed commits into the artifact bucket, by repository kind',
    });
  }
}
