import { Construct } from 'constructs';
import { ArchiveProvider } from '@cdktf/provider-archive/lib/provider';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Backend, TerraformOutput } from 'cdktf';
import { REPOSITORY_KINDS } from './model/config/schema';
import { EnvironmentConfig } from './model/config/validate';
import { RuntimeBundles } from './constructs/ingestion/bundles';
import { GitlabIngestion } from './constructs/ingestion/gitlab-ingestion';
import { PublicEntry } from './constructs/ingress/public-entry';
import { stateBucketName } from './model/naming';
import { TIERS } from './model/ip-plan';
import { NatInstances } from './constructs/network/nat-instances';
import { VpcNetwork } from './constructs/network/vpc-network';
import { PlatformStack } from './platform-stack';
import { NamingScope } from './constructs/naming-scope';
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
  readonly ingress: PublicEntry;
  readonly ingestion: GitlabIngestion;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const env = props.config;
    const tags = environmentTags(env);
    /** Project, environment, account and region: every construct below names its resources from them. */
    const names = { project: env.project, env: env.name, account: env.account, region: env.region };
    NamingScope.declare(this, names);

    new AwsProvider(this, 'aws', {
      region: env.region,
      allowedAccountIds: [env.account],
      assumeRole: env.assumeRoleArn ? [{ roleArn: env.assumeRoleArn, sessionName: `${env.project}-${env.name}-cdktf` }] : undefined,
      defaultTags: [{ tags }],
    });
    // Zips the webhook Lambda and the source-fetch program at plan time (data.archive_file).
    new ArchiveProvider(this, 'archive');

    const backend = new S3Backend(this, {
      bucket: stateBucketName(names),
      key: `${env.project}/${env.name}/${id}.tfstate`,
      region: env.region,
      encrypt: true,
      assumeRole: env.assumeRoleArn ? { roleArn: env.assumeRoleArn } : undefined,
    });
    // The only escape hatch in the project: S3-native state locking (Terraform >= 1.10). cdktf 0.21's
    // S3Backend has no typed field for `use_lockfile`, and without it there is no locking at all.
    backend.addOverride('use_lockfile', true);

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

    this.security = new SecurityFoundation(this, 'security', {
      kmsDeletionWindowDays: env.kmsDeletionWindowDays,
      cloudWatchLogRetentionDays: env.security.cloudWatchLogRetentionDays,
      s3LogExpirationDays: env.security.s3LogExpirationDays,
      noncurrentVersionExpirationDays: env.security.noncurrentVersionExpirationDays,
      flowLogVpcId: env.network.flowLogs ? this.network.vpc.id : undefined,
    });

    const ingress = env.ingress;
    this.ingress = new PublicEntry(this, 'ingress', {
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
    });

    this.ingestion = new GitlabIngestion(this, 'ingestion', {
      gitlabUrl: env.gitlab.url,
      authMode: env.gitlab.authMode,
      tagPushes: env.gitlab.tagPushes,
      reservedConcurrency: env.gitlab.webhookReservedConcurrency,
      repositories: env.gitlab.repositories,
      artifactBucketName: this.security.artifacts.name,
      kmsKeyArn: this.security.key.arn,
      vpcId: this.network.vpc.id,
      nattedSubnetIds: this.network.subnets.natted.map((s) => s.id),
      logRetentionDays: env.security.cloudWatchLogRetentionDays,
      webhookBundleFile: props.bundles.webhook,
      sourceFetchBundleFile: props.bundles.sourceFetch,
    });

    new TerraformOutput(this, 'vpc_id', { value: this.network.vpc.id, description: 'VPC id' });
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
    new TerraformOutput(this, 'kms_key_arn', { value: sec.key.arn, description: 'The environment KMS key (artifacts, CloudTrail, CloudWatch Logs)' });
    new TerraformOutput(this, 'kms_key_alias', { value: sec.key.aliasName, description: 'Alias of the environment KMS key' });
    new TerraformOutput(this, 'artifact_bucket', { value: sec.artifacts.name, description: 'Artifact and log bucket (layout: README, Security)' });
    new TerraformOutput(this, 'pipeline_trigger_rules', {
      description: 'EventBridge rules (default bus) matching new sources under software/ and infrastructure/; attach pipeline targets to them',
      value: Object.fromEntries(REPOSITORY_KINDS.map((k) => [k, { name: sec.trail.sourceRules[k].name, arn: sec.trail.sourceRules[k].arn }])),
    });
    new TerraformOutput(this, 'role_arns', { value: sec.roles.arns, description: 'ARNs of the pipeline roles and the web-server instance role' });
    new TerraformOutput(this, 'web_server_instance_profile', { value: sec.roles.instanceProfileName, description: 'Instance profile of the web servers' });
    new TerraformOutput(this, 'cloudtrail_log_group', { value: sec.trail.logGroupName, description: 'CloudWatch log group of the audit trail' });
    new TerraformOutput(this, 'alb_arn', { value: this.ingress.alb.arn, description: 'ARN of the public ALB' });
    new TerraformOutput(this, 'alb_dns_name', { value: this.ingress.alb.dnsName, description: 'DNS name of the public ALB (target of customer alias records)' });
    new TerraformOutput(this, 'alb_zone_id', { value: this.ingress.alb.zoneId, description: 'Route 53 zone id of the public ALB (for alias records)' });
    new TerraformOutput(this, 'https_listener_arn', {
      value: this.ingress.httpsListener.arn,
      description: 'HTTPS listener of the public ALB; customer stacks attach host-header rules to it',
    });
    new TerraformOutput(this, 'alb_security_group_id', {
      value: this.ingress.securityGroup.id,
      description: 'Security group of the public ALB; web-server security groups allow it as their only ingress source',
    });
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
