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
import { envName, natSlotName, natSlotRoleName } from '../../model/naming';
import { Conditions, PolicyDocument, allOf, envResourceTags, partitionOf, policyDocument, policyJson, regionalArn, serviceTrust } from '../../model/iam-policy';
import { NAT_INTERFACE_TAG, NAT_SLOT_TAG, NAT_STATIC_INTERFACE, natUserData } from './nat-user-data';
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
  /** The slot's own instance role: it may act only on resources tagged with its slot. */
  readonly role: IamRole;
  /** The policy document of `role`, as deployed. */
  readonly policyDocument: PolicyDocument;
}

/**
 * Cheap, self-healing NAT instances (fck-nat design). Each NAT is an auto scaling group of
 * exactly one instance; routes target a static ENI created outside the ASG, so a replaced
 * instance only re-attaches that ENI and the Elastic IP at boot and no route ever changes.
 *
 * Each NAT slot (one per AZ served) has its own role and instance profile (`natSlotRoleName`): its
 * instance, its interfaces (the static one and the instance's primary one, by launch-template tag
 * specifications) and its Elastic IP carry the `nat-slot` tag with the slot's name, and the role
 * may attach, associate and modify only resources carrying that tag. So a compromised NAT instance
 * cannot take another AZ's Elastic IP or ENI, nor modify web servers or the other NATs.
 */
export class NatInstances extends Construct {
  readonly securityGroup: SecurityGroup;
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

    const natAzIndexes = props.mode === 'per-az' ? [0, 1, 2] : [0];
    this.instances = natAzIndexes.map((i) => this.natIn(i, props));

    props.nattedRouteTables.forEach((rt, i) => {
      const nat = props.mode === 'per-az' ? this.instances[i]! : this.instances[0]!;
      new Route(this, `natted-default-${props.availabilityZones[i]}`, {
        routeTableId: rt.id,
        destinationCidrBlock: '0.0.0.0/0',
        networkInterfaceId: nat.eni.id,
      });
    });
  }

  private natIn(i: number, props: NatInstancesProps): NatInstance {
    const ns = NamingScope.of(this);
    const az = props.availabilityZones[i]!;
    const name = (...parts: string[]) => envName(ns, ...parts);
    const slot = natSlotName(ns, az);
    const { role, profile, policyDocument: doc } = this.slotRole(az, slot);
    const eni = new NetworkInterface(this, `eni-${az}`, {
      subnetId: props.publicSubnets[i]!.id,
      securityGroups: [this.securityGroup.id],
      sourceDestCheck: false,
      description: `Static NAT interface of ${name('nat', az)}; natted routes target it`,
      tags: { Name: slot, [NAT_SLOT_TAG]: slot, [NAT_INTERFACE_TAG]: NAT_STATIC_INTERFACE },
    });
    const eip = new Eip(this, `eip-${az}`, { domain: 'vpc', tags: { Name: slot, [NAT_SLOT_TAG]: slot } });
    // The instance and its primary interface carry the slot tag: the slot role acts only on them.
    const slotTag = { [NAT_SLOT_TAG]: slot };
    const tagged = (resourceType: 'instance' | 'volume' | 'network-interface') => ({
      resourceType,
      tags: { ...props.tags, Name: name('nat', az), ...(resourceType === 'volume' ? {} : slotTag) },
    });
    const launchTemplate = new LaunchTemplate(this, `lt-${az}`, {
      name: name('nat', az),
      description: `NAT instance in ${az}`,
      imageId: NAT_AMI,
      instanceType: props.instanceType,
      iamInstanceProfile: { arn: profile.arn },
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
    return { az, eni, eip, launchTemplate, asg, role, policyDocument: doc };
  }

  /** The role and instance profile of one slot: ENI, Elastic IP and instance attribute calls on its own slot only. */
  private slotRole(az: string, slot: string): { role: IamRole; profile: IamInstanceProfile; policyDocument: PolicyDocument } {
    const ns = NamingScope.of(this);
    const arn = (resource: string) => regionalArn(ns, 'ec2', resource);
    const roleName = natSlotRoleName(ns, az);
    const role = new IamRole(this, `role-${az}`, {
      name: roleName,
      description: `NAT instance ${slot}: its own ENIs, Elastic IP and instance only`,
      assumeRolePolicy: policyJson(serviceTrust(['ec2.amazonaws.com'])),
    });
    // Session Manager is the only way in: no key pair, no port 22.
    new IamRolePolicyAttachment(this, `ssm-core-${az}`, {
      role: role.name,
      policyArn: `arn:${partitionOf(ns.region)}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });
    // Every resource of the call (instance, interface, Elastic IP) must carry this slot's tag, and
    // the environment's: another slot's resources, the web servers and every untagged resource are out.
    const ownSlot: Conditions = allOf(envResourceTags(ns.project, ns.env), { StringEquals: { [`aws:ResourceTag/${NAT_SLOT_TAG}`]: slot } });
    const doc = policyDocument(
      {
        Sid: 'AttachOwnStaticEniToOwnInstance',
        Effect: 'Allow',
        Action: 'ec2:AttachNetworkInterface',
        Resource: [arn('network-interface/*'), arn('instance/*')],
        Condition: ownSlot,
      },
      {
        Sid: 'TakeOwnElasticIpOntoOwnInterface',
        Effect: 'Allow',
        Action: 'ec2:AssociateAddress',
        Resource: [arn('elastic-ip/*'), arn('network-interface/*'), arn('instance/*')],
        Condition: ownSlot,
      },
      {
        Sid: 'DisableOwnSourceDestCheck',
        Effect: 'Allow',
        Action: 'ec2:ModifyInstanceAttribute',
        Resource: arn('instance/*'),
        Condition: ownSlot,
      },
      {
        // Describe* calls do not support resource-level permissions: AWS requires "*". Read-only.
        Sid: 'FindOwnEniAndEip',
        Effect: 'Allow',
        Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeAddresses'],
        Resource: '*',
      },
    );
    new IamRolePolicy(this, `policy-${az}`, { name: roleName, role: role.id, policy: policyJson(doc) });
    const profile = new IamInstanceProfile(this, `profile-${az}`, { name: roleName, role: role.name });
    return { role, profile, policyDocument: doc };
  }
}
