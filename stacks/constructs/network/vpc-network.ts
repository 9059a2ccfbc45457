import { Construct } from 'constructs';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { Fn } from 'cdktf';
import { envName } from '../../model/naming';
import { IpPlan, TIERS, Tier } from '../../model/ip-plan';
import { NamingScope } from '../naming-scope';

export interface VpcNetworkProps {  
  /** The environment's IP plan; every CIDR is written literally from it. */
  readonly plan: IpPlan;
  /** Exactly 3 AZ names, in the order the plan used. */
  readonly availabilityZones: readonly string[];
  /** Give the VPC an Amazon-provided IPv6 /56 and each public subnet a /64 (for a dualstack ALB). Default false. */
  readonly ipv6?: boolean;
}

/**
 * The VPC of an environment: 9 subnets in 3 tier supernets, an internet gateway, one public
 * route table, one route table per AZ for each of the natted and private tiers (the natted ones
 * get their default route from NatInstances), an S3 gateway endpoint on the natted and private
 * tables, and the default security group emptied of rules.
 */
export class VpcNetwork extends Construct {
  readonly vpc: Vpc;
  readonly internetGateway: InternetGateway;
  /** Subnets by tier, in AZ order. */
  readonly subnets: Readonly<Record<Tier, readonly Subnet[]>>;
  readonly publicRouteTable: RouteTable;
  /** One natted route table per AZ, in AZ order. */
  readonly nattedRouteTables: readonly RouteTable[];
  /** One private route table per AZ, in AZ order (no internet route). */
  readonly privateRouteTables: readonly RouteTable[];
  readonly s3Endpoint: VpcEndpoint;

  constructor(scope: Construct, id: string, props: VpcNetworkProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const { plan, availabilityZones: azs } = props;
    if (azs.length !== 3) throw new Error(`VpcNetwork: availabilityZones must list exactly 3 AZs, got ${JSON.stringify(azs)}`);
    for (const tier of TIERS) {
      const got = plan.tiers[tier].subnets.map((s) => s.az);
      if (got.join() !== azs.join()) throw new Error(`VpcNetwork: the IP plan's ${tier} AZs ${JSON.stringify(got)} differ from availabilityZones ${JSON.stringify(azs)}`);
    }
    const name = (...parts: string[]) => envName(ns, ...parts);

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: plan.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      assignGeneratedIpv6CidrBlock: props.ipv6 ? true : undefined,
      tags: { Name: name('vpc') },
    });

    this.internetGateway = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: { Name: name('igw') } });

    // The default security group is managed with no rules, so nothing can use it by accident.
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: this.vpc.id, tags: { Name: name('default-do-not-use') } });

    const subnets = {} as Record<Tier, Subnet[]>;
    for (const tier of TIERS) {
      subnets[tier] = plan.tiers[tier].subnets.map(
        (s, i) =>
          new Subnet(this, `${tier}-${s.az}`, {
            vpcId: this.vpc.id,
            availabilityZone: s.az,
            cidrBlock: s.cidr,
            mapPublicIpOnLaunch: false,
            // IPv6 blocks are allocated by Amazon at apply time, so only they are derived at plan time.
            ...(props.ipv6 && tier === 'public'
              ? { ipv6CidrBlock: Fn.cidrsubnet(this.vpc.ipv6CidrBlock, 8, i), assignIpv6AddressOnCreation: false }
              : {}),
            tags: { Name: name(tier, s.az), tier, 'tier-supernet': plan.tiers[tier].supernet },
          }),
      );
    }
    this.subnets = subnets;

    this.publicRouteTable = new RouteTable(this, 'public-rt', { vpcId: this.vpc.id, tags: { Name: name('public'), tier: 'public' } });
    new Route(this, 'public-default-ipv4', { routeTableId: this.publicRouteTable.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: this.internetGateway.id });
    if (props.ipv6) {
      new Route(this, 'public-default-ipv6', { routeTableId: this.publicRouteTable.id, destinationIpv6CidrBlock: '::/0', gatewayId: this.internetGateway.id });
    }
    subnets.public.forEach((s, i) => new RouteTableAssociation(this, `public-${azs[i]}-rta`, { subnetId: s.id, routeTableId: this.publicRouteTable.id }));

    const perAz = (tier: 'natted' | 'private') =>
      azs.map((az, i) => {
        const rt = new RouteTable(this, `${tier}-${az}-rt`, { vpcId: this.vpc.id, tags: { Name: name(tier, az), tier } });
        new RouteTableAssociation(this, `${tier}-${az}-rta`, { subnetId: subnets[tier][i]!.id, routeTableId: rt.id });
        return rt;
      });
    this.nattedRouteTables = perAz('natted');
    this.privateRouteTables = perAz('private');

    this.s3Endpoint = new VpcEndpoint(this, 's3-endpoint', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${ns.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: [...this.nattedRouteTables, ...this.privateRouteTables].map((rt) => rt.id),
      tags: { Name: name('s3') },
    });
  }
}
