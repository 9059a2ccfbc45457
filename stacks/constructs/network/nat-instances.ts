import { Construct } from 'constructs';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { NetworkInterface } from '@cdktf/provider-aws/lib/network-interface';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn, Token } from 'cdktf';
import { GRAVITON_INSTANCE_TYPE, NatMode } from '../../model/config/schema';
import { envName, roleNames } from '../../model/naming';
import { envResourceTags, partitionOf, policyDocument, policyJson, serviceTrust } from '../../model/iam-policy';
import { NAT_SLOT_TAG, natUserData } from './nat-user-data';
import { NamingScope } from '../naming-scope';

/** Amazon Linux 2023 arm64, resolved by EC2 at launch: no data source, so plans stay offline. */
export const NAT_AMI = 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

export interface NatInstancesProps {   
  /** VPC the NAT security group belongs to. */
  readonly vpcId: string;
  /** "per-az": one NAT per AZ; "shared": one NAT, in the first AZ, for all. */
  readonly mode: NatMode;
  /** arm64 instance type, e.g. t4g.nano. */
  readonly instanceType: string;
  /** The public subnets, one per AZ, in AZ order. */
  readonly publicSubnets: readonly Subnet[];
  /** The AZ names, in the same order. */
  readonly availabilityZones: readonly string[];
  /** The natted route tables, one per AZ, in AZ order; each gets its default route here. */
  readonly nattedRouteTables: readonly RouteTable[];
  /** The natted tier supernet: the only allowed (and translated) source. */
  readonly nattedSupernet: string;
  /** Environment tags, written into launch-template tag specifications (default_tags do not reach them). */
  readonly tags: Readonly<Record<string, string>>;
}

/** One NAT instance: a static ENI, an Elastic IP, a launch template and an ASG of exactly one. */
export interface NatInstance {
  readonly az: string;
  readonly eni: NetworkInterface;
  readonly eip: Eip;
  readonly launchTemplate: LaunchTemplate;
  readonly asg: AutoscalingGroup;
}

/**
 * Cheap, self-healing NAT instances (fck-nat design). Each NAT is an auto scaling group of
 * exactly one instance; routes target a static ENI created outside the ASG, so a replaced
 * instance only re-attaches that ENI and the Elastic IP at boot and no route ever changes.
 */
export class NatInstances extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly role: IamRole;
  readonly instances: readonly NatInstance[];

  constructor(scope: Construct, id: string, props: NatInstancesProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const n = props.availabilityZones.length;
    if (n !== 3 || props.publicSubnets.length !== n || props.nattedRouteTables.length !== n) {
      throw new Error(
        `NatInstances: expected 3 AZs with one public subnet and one natted route table each, got ${n} AZs, ${props.publicSubnets.length} subnets, ${props.nattedRouteTables.length} route tables`,
      );
    }
    if (props.mode !== 'shared' && props.mode !== 'per-az') throw new Error(`NatInstances: mode must be "shared" or "per-az", got ${JSON.stringify(props.mode)}`);
    if (!GRAVITON_INSTANCE_TYPE.test(props.instanceType)) {
      throw new Error(`NatInstances: instanceType must be an arm64 (Graviton) type such as t4g.nano, got ${JSON.stringify(props.instanceType)}`);
    }
    const name = (...parts: string[]) => envName(ns, ...parts);
    const arn = (resource: string) => `arn:${partitionOf(ns.region)}:ec2:${ns.region}:${ns.account}:${resource}`;

    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: name('nat'),
      description: `NAT instances of ${ns.env}: traffic from the natted tier only`,
      vpcId: props.vpcId,
      tags: { Name: name('nat') },
    });
    new VpcSecurityGroupIngressRule(this, 'sg-in-natted', {
      securityGroupId: this.securityGroup.id,
      description: 'Everything from the natted tier supernet',
      ipProtocol: '-1',
      cidrIpv4: props.nattedSupernet,
    });
    new VpcSecurityGroupEgressRule(this, 'sg-out-all', {
      securityGroupId: this.securityGroup.id,
      description: 'NAT egress to the internet',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });

    this.role = new IamRole(this, 'role', {
      name: roleNames(ns).natInstance,
      description: `NAT instances of ${ns.project}-${ns.env}`,
      assumeRolePolicy: policyJson(serviceTrust(['ec2.amazonaws.com'])),
    });
    // Session Manager is the only way in: no key pair, no port 22.
    new IamRolePolicyAttachment(this, 'ssm-core', {
      role: this.role.name,
      policyArn: `arn:${partitionOf(ns.region)}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });
    const ownTags = envResourceTags(ns.project, ns.env);
    new IamRolePolicy(this, 'policy', {
      name: name('nat-instance'),
      role: this.role.id,
      policy: policyJson(
        policyDocument(
          {
            Sid: 'AttachOwnStaticEni',
            Effect: 'Allow',
            Action: 'ec2:AttachNetworkInterface',
            Resource: [arn('network-interface/*'), arn('instance/*')],
            Condition: ownTags,
          },
          {
            Sid: 'TakeOwnElasticIp',
            Effect: 'Allow',
            Action: 'ec2:AssociateAddress',
            Resource: [arn('elastic-ip/*'), arn('network-interface/*'), arn('instance/*')],
            Condition: ownTags,
          },
          {
            Sid: 'DisableOwnSourceDestCheck',
            Effect: 'Allow',
            Action: 'ec2:ModifyInstanceAttribute',
            Resource: arn('instance/*'),
            Condition: ownTags,
          },
          {
            // Describe* calls do not support resource-level permissions: AWS requires "*". Read-only.
            Sid: 'FindOwnEniAndEip',
            Effect: 'Allow',
            Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeAddresses'],
            Resource: '*',
          },
        ),
      ),
    });
    const profile = new IamInstanceProfile(this, 'profile', { name: roleNames(ns).natInstance, role: this.role.name });

    const natAzIndexes = props.mode === 'per-az' ? [0, 1, 2] : [0];
    this.instances = natAzIndexes.map((i) => this.natIn(i, props, profile.arn));

    props.nattedRouteTables.forEach((rt, i) => {
      const nat = props.mode === 'per-az' ? this.instances[i]! : this.instances[0]!;
      new Route(this, `natted-default-${props.availabilityZones[i]}`, {
        routeTableId: rt.id,
        destinationCidrBlock: '0.0.0.0/0',
        networkInterfaceId: nat.eni.id,
      });
    });
  }

  private natIn(i: number, props: NatInstancesProps, profileArn: string): NatInstance {
    const ns = NamingScope.of(this);
    const az = props.availabilityZones[i]!;
    const name = (...parts: string[]) => envName(ns, ...parts);
    const slot = name('nat', az);
    const eni = new NetworkInterface(this, `eni-${az}`, {
      subnetId: props.publicSubnets[i]!.id,
      securityGroups: [this.securityGroup.id],
      sourceDestCheck: false,
      description: `Static NAT interface of ${name('nat', az)}; natted routes target it`,
      tags: { Name: slot, [NAT_SLOT_TAG]: slot },
    });
    const eip = new Eip(this, `eip-${az}`, { domain: 'vpc', tags: { Name: slot, [NAT_SLOT_TAG]: slot } });
    const tagged = (resourceType: string) => ({ resourceType, tags: { ...props.tags, Name: name('nat', az) } });
    const launchTemplate = new LaunchTemplate(this, `lt-${az}`, {
      name: name('nat', az),
      description: `NAT instance in ${az}`,
      imageId: NAT_AMI,
      instanceType: props.instanceType,
      iamInstanceProfile: { arn: profileArn },
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      // A public address at launch lets the boot script reach the EC2 API; the EIP replaces it.
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: 'true', deleteOnTermination: 'true', securityGroups: [this.securityGroup.id] }],
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { encrypted: 'true', volumeType: 'gp3', deleteOnTermination: 'true' } }],
      userData: Fn.base64encode(Fn.rawString(natUserData({ slot, env: ns.env, region: ns.region, nattedSupernet: props.nattedSupernet }))),
      tagSpecifications: [tagged('instance'), tagged('volume'), tagged('network-interface')],
      updateDefaultVersion: true,
      tags: { Name: name('nat', az) },
    });
    const asg = new AutoscalingGroup(this, `asg-${az}`, {
      name: name('nat', az),
      minSize: 1,
      maxSize: 1,
      desiredCapacity: 1,
      vpcZoneIdentifier: [props.publicSubnets[i]!.id],
      launchTemplate: { id: launchTemplate.id, version: Token.asString(launchTemplate.latestVersion) },
      healthCheckType: 'EC2',
      healthCheckGracePeriod: 60,
      // A changed launch template replaces the instance (a short, expected egress gap).
      instanceRefresh: { strategy: 'Rolling', preferences: { minHealthyPercentage: 0 } },
      tag: [{ key: 'Name', value: name('nat', az), propagateAtLaunch: true }],
    });
    return { az, eni, eip, launchTemplate, asg };
  }
}
