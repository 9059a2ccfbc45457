import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Backend, TerraformOutput } from 'cdktf';
import { PlatformStack } from './platform-stack';
import { EnvironmentConfig } from './config/validate';
import { stateBucketName } from './naming';
import { TIERS } from './network/ip-plan';
import { PublicEntry } from './ingress/public-entry';
import { NatInstances } from './network/nat-instances';
import { VpcNetwork } from './network/vpc-network';

/** The tags every resource of an environment carries (provider default_tags plus the config's own). */
export function environmentTags(env: EnvironmentConfig): Record<string, string> {
  return { ...env.tags, project: env.project, environment: env.name, 'managed-by': 'cdktf' };
}

export interface EnvironmentStackProps {
  /** The validated environment, with derived values (IP plan, NAT mode). */
  readonly config: EnvironmentConfig;
}

/**
 * Everything one environment runs on: network, NAT and the public entry (ALB); later security and ingestion.
 * Remote state in the account/region's state bucket (created by the bootstrap stack).
 */
export class EnvironmentStack extends PlatformStack {
  readonly network: VpcNetwork;
  readonly nat: NatInstances;
  readonly ingress: PublicEntry;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const env = props.config;
    const tags = environmentTags(env);

    new AwsProvider(this, 'aws', {
      region: env.region,
      allowedAccountIds: [env.account],
      assumeRole: env.assumeRoleArn ? [{ roleArn: env.assumeRoleArn, sessionName: `${env.project}-${env.name}-cdktf` }] : undefined,
      defaultTags: [{ tags }],
    });

    const backend = new S3Backend(this, {
      bucket: stateBucketName({ project: env.project, account: env.account, region: env.region }),
      key: `${env.project}/${env.name}/${id}.tfstate`,
      region: env.region,
      encrypt: true,
      assumeRole: env.assumeRoleArn ? { roleArn: env.assumeRoleArn } : undefined,
    });
    // The only escape hatch in the project: S3-native state locking (Terraform >= 1.10). cdktf 0.21's
    // S3Backend has no typed field for `use_lockfile`, and without it there is no locking at all.
    backend.addOverride('use_lockfile', true);

    this.network = new VpcNetwork(this, 'network', {
      project: env.project,
      env: env.name,
      region: env.region,
      plan: env.ipPlan,
      availabilityZones: env.availabilityZones,
      ipv6: env.ingress.ipv6,
    });

    this.nat = new NatInstances(this, 'nat', {
      project: env.project,
      env: env.name,
      account: env.account,
      region: env.region,
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
    this.ingress = new PublicEntry(this, 'ingress', {
      project: env.project,
      env: env.name,
      account: env.account,
      region: env.region,
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
  }
}
