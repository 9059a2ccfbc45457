import { Route } from '@cdktf/provider-aws/lib/route';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { NetworkInterface } from '@cdktf/provider-aws/lib/network-interface';
import { planNetwork } from '../stacks/model/ip-plan';
import { NAT_AMI, NatInstances } from '../stacks/constructs/network/nat-instances';
import { natSlotName, natSlotRoleName } from '../stacks/model/naming';
import { VpcNetwork } from '../stacks/constructs/network/vpc-network';
import { exampleConfig } from './support/config';
import { synthScoped } from './support/scope';
import { resourceList, resources, synthStack } from './support/synth';

const AZS = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const plan = planNetwork('10.10.0.0/16', AZS);

function network(scope: any, ipv6 = false) {
  return new VpcNetwork(scope, 'net', { plan, availabilityZones: AZS, ipv6 });
}

function natScope(mode: 'shared' | 'per-az') {
  return synthScoped((scope) => {
    const net = network(scope);
    new NatInstances(scope, 'nat', {
      vpcId: net.vpc.id,
      mode,
      instanceType: 't4g.nano',
      publicSubnets: net.subnets.public,
      availabilityZones: AZS,
      nattedRouteTables: net.nattedRouteTables,
      nattedSupernet: plan.tiers.natted.supernet,
      tags: { project: 'p', environment: 'dev', 'managed-by': 'cdktf' },
    });
  });
}

describe('VpcNetwork', () => {
  const synth = synthScoped((scope) => network(scope));
  const json = JSON.parse(synth);

  test('a VPC with DNS support and hostnames and the planned CIDR', () => {
    expect(synth).toHaveResourceWithProperties(Vpc, { cidr_block: '10.10.0.0/16', enable_dns_support: true, enable_dns_hostnames: true });
  });

  test('9 subnets with literal CIDRs from the plan, tagged with name and tier, no public IPs on launch', () => {
    const subnets = resourceList(json, 'aws_subnet');
    expect(subnets).toHaveLength(9);
    for (const s of subnets) {
      expect(s.cidr_block).toMatch(/^10\.10\.\d+\.0\/\d+$/);
      expect(s.map_public_ip_on_launch).toBe(false);
      expect(s.tags.Name).toBe(`p-dev-${s.tags.tier}-${s.availability_zone}`);
    }
    expect(synth).toHaveResourceWithProperties(Subnet, { cidr_block: '10.10.100.0/22', availability_zone: 'eu-west-1b', tags: expect.objectContaining({ tier: 'public', 'tier-supernet': '10.10.96.0/20' }) });
    expect(JSON.stringify(json)).not.toMatch(/cidrsubnet/);
  });

  test('one public route table to the IGW, one natted and one private table per AZ, private without internet route', () => {
    const tables = resourceList(json, 'aws_route_table');
    expect(tables.map((t) => t.tags.tier).sort()).toEqual(['natted', 'natted', 'natted', 'private', 'private', 'private', 'public']);
    const routes = resourceList(json, 'aws_route');
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ destination_cidr_block: '0.0.0.0/0', gateway_id: expect.stringMatching(/^\${aws_internet_gateway\.net_igw_[0-9A-F]+\.id}$/) });
    expect(resourceList(json, 'aws_route_table_association')).toHaveLength(9);
  });

  test('an S3 gateway endpoint on the natted and private route tables only', () => {
    const [ep] = resourceList(json, 'aws_vpc_endpoint');
    expect(ep.service_name).toBe('com.amazonaws.eu-west-1.s3');
    expect(ep.vpc_endpoint_type).toBe('Gateway');
    expect(ep.route_table_ids).toHaveLength(6);
    expect(ep.route_table_ids.join()).not.toMatch(/public/);
  });

  test('the default security group is managed with no rules', () => {
    const [sg] = resourceList(json, 'aws_default_security_group');
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  test('IPv6 adds an Amazon-provided block, /64s on public subnets and a ::/0 route', () => {
    const v6 = JSON.parse(synthScoped((scope) => network(scope, true)));
    expect(resourceList(v6, 'aws_vpc')[0].assign_generated_ipv6_cidr_block).toBe(true);
    const pub = resourceList(v6, 'aws_subnet').filter((s) => s.tags.tier === 'public');
    expect(pub.every((s) => /cidrsubnet/.test(s.ipv6_cidr_block))).toBe(true);
    expect(resourceList(v6, 'aws_route').some((r) => r.destination_ipv6_cidr_block === '::/0')).toBe(true);
  });

  test('validates its props before creating anything', () => {
    expect(() => synthScoped((scope) => new VpcNetwork(scope, 'n', { plan, availabilityZones: AZS.slice(0, 2) }))).toThrow(/exactly 3 AZs/);
    expect(() =>
      synthScoped((scope) => new VpcNetwork(scope, 'n', { plan, availabilityZones: ['eu-west-1c', 'eu-west-1b', 'eu-west-1a'] })),
    ).toThrow(/differ from availabilityZones/);
  });
});

describe('NatInstances', () => {
  test.each([
    ['shared', 1],
    ['per-az', 3],
  ] as const)('%s mode: %i NAT(s), each an ASG of exactly one with a static ENI and an EIP', (mode, n) => {
    const synth = natScope(mode);
    const json = JSON.parse(synth);
    expect(resourceList(json, 'aws_autoscaling_group')).toHaveLength(n);
    expect(resourceList(json, 'aws_network_interface')).toHaveLength(n);
    expect(resourceList(json, 'aws_eip')).toHaveLength(n);
    expect(resourceList(json, 'aws_launch_template')).toHaveLength(n);
    for (const asg of resourceList(json, 'aws_autoscaling_group')) {
      expect([asg.min_size, asg.max_size, asg.desired_capacity]).toEqual([1, 1, 1]);
      expect(asg.vpc_zone_identifier).toHaveLength(1);
    }
    expect(synth).toHaveResourceWithProperties(NetworkInterface, { source_dest_check: false });
    expect(synth).toHaveResourceWithProperties(AutoscalingGroup, { instance_refresh: expect.objectContaining({ strategy: 'Rolling' }) });
  });

  test('natted route tables target the static ENI that serves their AZ (all the same one when shared)', () => {
    for (const [mode, distinct] of [['shared', 1], ['per-az', 3]] as const) {
      const json = JSON.parse(natScope(mode));
      const natRoutes = resourceList(json, 'aws_route').filter((r) => r.network_interface_id);
      expect(natRoutes).toHaveLength(3);
      expect(new Set(natRoutes.map((r) => r.network_interface_id)).size).toBe(distinct);
      expect(natRoutes.every((r) => r.destination_cidr_block === '0.0.0.0/0')).toBe(true);
    }
    const perAz = JSON.parse(natScope('per-az'));
    const eniOfAz = (az: string) => Object.entries(resources(perAz, 'aws_network_interface')).find(([, e]) => e.tags.Name.endsWith(az))![0];
    const routeIn = (az: string) => Object.entries(resources(perAz, 'aws_route')).find(([id]) => id.includes(az.replace(/-/g, '')) || id.includes(az))![1];
    for (const az of AZS) expect(routeIn(az).network_interface_id).toBe(`\${aws_network_interface.${eniOfAz(az)}.id}`);
  });

  test('launch template: AL2023 arm64 via resolve:ssm, IMDSv2, encrypted root, no key pair, user data that attaches ENI and EIP', () => {
    const synth = natScope('shared');
    expect(synth).toHaveResourceWithProperties(LaunchTemplate, {
      image_id: NAT_AMI,
      instance_type: 't4g.nano',
      metadata_options: expect.objectContaining({ http_tokens: 'required', http_endpoint: 'enabled' }),
      block_device_mappings: [expect.objectContaining({ ebs: expect.objectContaining({ encrypted: 'true' }) })],
    });
    const [lt] = resourceList(JSON.parse(synth), 'aws_launch_template');
    expect(lt.key_name).toBeUndefined();
    expect(lt.user_data).toMatch(/attach-network-interface/);
    expect(lt.user_data).toMatch(/associate-address/);
    expect(lt.user_data).toMatch(/masquerade/);
    expect(lt.user_data).toMatch(/ip_forward = 1/);
    expect(lt.tag_specifications.map((t: any) => t.resource_type).sort()).toEqual(['instance', 'network-interface', 'volume']);
    for (const t of lt.tag_specifications) expect(t.tags).toMatchObject({ project: 'p', environment: 'dev' });
  });

  test('security group: ingress only from the natted supernet, all egress, no port 22', () => {
    const json = JSON.parse(natScope('shared'));
    const ingress = resourceList(json, 'aws_vpc_security_group_ingress_rule');
    expect(ingress).toEqual([expect.objectContaining({ cidr_ipv4: '10.10.0.0/18', ip_protocol: '-1' })]);
    expect(resourceList(json, 'aws_vpc_security_group_egress_rule')).toEqual([expect.objectContaining({ cidr_ipv4: '0.0.0.0/0' })]);
    expect(JSON.stringify(json)).not.toMatch(/"from_port":\s*22/);
  });

  test.each(['shared', 'per-az'] as const)('%s: one role and instance profile per slot, acting only on resources tagged with its slot; SSM core attached', (mode) => {
    const json = JSON.parse(natScope(mode));
    const slots = (mode === 'shared' ? AZS.slice(0, 1) : AZS).map((az) => `p-dev-nat-${az}`);
    expect(resourceList(json, 'aws_iam_role').map((r) => r.name).sort()).toEqual(slots);
    expect(resourceList(json, 'aws_iam_instance_profile').map((r) => r.name).sort()).toEqual(slots);
    const policies = resourceList(json, 'aws_iam_role_policy');
    expect(policies.map((p) => p.name).sort()).toEqual(slots);
    for (const policy of policies) {
      const doc = JSON.parse(policy.policy);
      for (const s of doc.Statement) {
        if (s.Resource === '*') {
          expect(s.Action.every((a: string) => a.startsWith('ec2:Describe'))).toBe(true);
        } else {
          expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/project': 'p', 'aws:ResourceTag/environment': 'dev', 'aws:ResourceTag/nat-slot': policy.name } });
        }
      }
      const actions = doc.Statement.flatMap((s: any) => [s.Action].flat());
      expect(actions.sort()).toEqual(['ec2:AssociateAddress', 'ec2:AttachNetworkInterface', 'ec2:DescribeAddresses', 'ec2:DescribeNetworkInterfaces', 'ec2:ModifyInstanceAttribute']);
    }
    const attachments = resourceList(json, 'aws_iam_role_policy_attachment');
    expect(attachments).toHaveLength(slots.length);
    for (const a of attachments) expect(a.policy_arn).toBe('arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore');
  });

  test('each slot tags its instance, primary interface, static ENI and EIP with its slot; the boot script tells the static ENI apart', () => {
    const json = JSON.parse(natScope('per-az'));
    for (const lt of resourceList(json, 'aws_launch_template')) {
      const slot = lt.name;
      const profile = resourceList(json, 'aws_iam_instance_profile').find((p) => p.name === slot);
      expect(profile).toBeDefined();
      expect(lt.iam_instance_profile.arn).toMatch(/^\$\{aws_iam_instance_profile\.nat_profile-/);
      const byType = Object.fromEntries(lt.tag_specifications.map((t: any) => [t.resource_type, t.tags]));
      expect(byType.instance['nat-slot']).toBe(slot);
      expect(byType['network-interface']['nat-slot']).toBe(slot);
      expect(byType.volume['nat-slot']).toBeUndefined();
      expect(lt.user_data).toContain(`SLOT=\\"${slot}\\"`);
      expect(lt.user_data).toContain('Name=tag:nat-interface,Values=static');
    }
    for (const eni of resourceList(json, 'aws_network_interface')) expect(eni.tags).toMatchObject({ 'nat-slot': eni.tags.Name, 'nat-interface': 'static' });
    for (const eip of resourceList(json, 'aws_eip')) expect(eip.tags['nat-slot']).toBe(eip.tags.Name);
  });

  test('validates its props before creating anything', () => {
    const bad = (over: object) => () =>
      synthScoped((scope) => {
        const net = network(scope);
        new NatInstances(scope, 'nat', {
          vpcId: net.vpc.id, mode: 'shared', instanceType: 't4g.nano',
          publicSubnets: net.subnets.public, availabilityZones: AZS, nattedRouteTables: net.nattedRouteTables, nattedSupernet: '10.10.0.0/18', tags: {},
          ...over,
        });
      });
    expect(bad({ instanceType: 'm5.large' })).toThrow(/arm64/);
    expect(bad({ mode: 'gateway' })).toThrow(/mode must be "shared" or "per-az", got "gateway"/);
    expect(bad({ availabilityZones: AZS.slice(0, 2) })).toThrow(/expected 3 AZs/);
  });
});

describe('environment stacks', () => {
  const cfg = exampleConfig();

  test.each([
    ['dev', 1],
    ['staging', 1],
    ['prod', 3],
  ])('%s has 9 subnets in 3 supernets and %i NAT instance(s)', (env, nats) => {
    const json = synthStack(env, cfg);
    expect(resourceList(json, 'aws_subnet')).toHaveLength(9);
    expect(new Set(resourceList(json, 'aws_subnet').map((s) => s.tags['tier-supernet'])).size).toBe(3);
    expect(resourceList(json, 'aws_autoscaling_group')).toHaveLength(nats);
    expect(json.data ?? {}).not.toHaveProperty('aws_availability_zones');
    expect(json.data ?? {}).not.toHaveProperty('aws_ami');
  });

  test('provider: region, allowed account, default tags; S3 backend with encryption and native locking', () => {
    const json = synthStack('dev', cfg);
    const [provider] = json.provider.aws;
    expect(provider.region).toBe('eu-west-1');
    expect(provider.allowed_account_ids).toEqual(['111111111111']);
    expect(provider.default_tags[0].tags).toEqual({ project: 'acme-web', environment: 'dev', 'managed-by': 'cdktf', 'cost-center': 'platform-dev' });
    expect(json.terraform.backend.s3).toEqual({
      bucket: 'acme-web-tfstate-111111111111-eu-west-1',
      key: 'acme-web/dev/dev.tfstate',
      region: 'eu-west-1',
      encrypt: true,
      use_lockfile: true,
    });
  });

  test('an environment with a role to assume uses it for provider and backend', () => {
    const c = exampleConfig((c) => (c.environments[0].assumeRoleArn = 'arn:aws:iam::111111111111:role/platform-deploy'));
    const json = synthStack('dev', c);
    expect(json.provider.aws[0].assume_role[0].role_arn).toBe('arn:aws:iam::111111111111:role/platform-deploy');
    expect(json.terraform.backend.s3.assume_role).toEqual({ role_arn: 'arn:aws:iam::111111111111:role/platform-deploy' });
  });

  test('tier supernets and subnet CIDRs are outputs', () => {
    const json = synthStack('prod', cfg);
    expect(json.output!.tier_supernets.value).toEqual({ natted: '10.30.0.0/18', private: '10.30.64.0/20', public: '10.30.80.0/22' });
    expect(json.output!.subnet_cidrs.value.public).toEqual({ 'eu-west-1a': '10.30.80.0/24', 'eu-west-1b': '10.30.81.0/24', 'eu-west-1c': '10.30.82.0/24' });
    expect(Object.keys(json.output!.nat_public_ips.value)).toEqual(AZS);
  });

  test('names and ids are deterministic: two synths are identical', () => {
    expect(JSON.stringify(synthStack('prod', cfg))).toBe(JSON.stringify(synthStack('prod', exampleConfig())));
  });

  test('prod NAT routes: one per AZ, each to a different ENI', () => {
    const json = synthStack('prod', cfg);
    const routes = resourceList(json, 'aws_route').filter((r) => r.network_interface_id);
    expect(new Set(routes.map((r) => r.network_interface_id)).size).toBe(3);
    expect(Route).toBeDefined();
  });
});

describe('bootstrap stack', () => {
  test('one state bucket per account/region: versioned, encrypted, private, TLS-only, protected from destroy, local state', () => {
    const cfg = exampleConfig((c) => {
      c.environments[2].region = 'eu-central-1';
      c.environments[2].availabilityZones = ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'];
    });
    const json = synthStack('bootstrap', cfg);
    const buckets = resourceList(json, 'aws_s3_bucket');
    expect(buckets.map((b) => b.bucket).sort()).toEqual(['acme-web-tfstate-111111111111-eu-central-1', 'acme-web-tfstate-111111111111-eu-west-1']);
    expect(buckets.every((b) => b.lifecycle.prevent_destroy === true)).toBe(true);
    expect(json.provider.aws.map((p: any) => p.alias).sort()).toEqual(['account-111111111111-eu-central-1', 'account-111111111111-eu-west-1']);
    expect(resourceList(json, 'aws_s3_bucket_versioning').every((v) => v.versioning_configuration.status === 'Enabled')).toBe(true);
    expect(resourceList(json, 'aws_s3_bucket_public_access_block')).toHaveLength(2);
    for (const p of resourceList(json, 'aws_s3_bucket_policy')) {
      expect(JSON.parse(p.policy).Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    }
    expect(json.terraform.backend).toEqual({ local: { path: '../../../terraform.bootstrap.tfstate' } });
  });
});

describe('NAT slot names', () => {
  test('the per-slot role name fits IAM with the longest accepted project, environment and a long AZ name', () => {
    const longest = { project: 'abcdefghij-klmnopqrs', env: 'abcdefghij' };
    expect(natSlotRoleName(longest, 'ap-southeast-1a')).toBe('abcdefghij-klmnopqrs-abcdefghij-nat-ap-southeast-1a');
    expect(natSlotRoleName(longest, 'ap-southeast-1a').length).toBeLessThanOrEqual(64);
    // Longer than IAM allows: shortened deterministically, still unique per AZ.
    const fitted = [natSlotRoleName(longest, 'xx-' + 'a'.repeat(30) + '-1a'), natSlotRoleName(longest, 'xx-' + 'a'.repeat(30) + '-1b')];
    for (const n of fitted) expect(n.length).toBeLessThanOrEqual(64);
    expect(new Set(fitted).size).toBe(2);
    expect(natSlotName({ project: 'p', env: 'dev' }, 'eu-west-1a')).toBe('p-dev-nat-eu-west-1a');
  });
});
