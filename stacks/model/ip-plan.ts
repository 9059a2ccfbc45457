/**
 * The IP plan: every CIDR of an environment, computed once from config and written literally into
 * each aws_subnet (no cidrsubnet() at plan time, no overrides after the fact).
 *
 * Layout: each tier (public, natted, private) gets its own aligned supernet inside the VPC, sized
 * for FOUR per-AZ subnets (three used, one spare slot for a fourth AZ). Supernets are placed largest
 * first from the bottom of the VPC; because every block is a power of two and sizes only shrink,
 * each block starts on a multiple of its own size, i.e. it is aligned. What is left at the top of
 * the VPC is spare room for another tier.
 *
 * Address arithmetic uses the `ip-address` library (parsing, network/broadcast, containment);
 * only the offset of a block inside its parent is computed here, as a BigInt.
 */
import { Address4 } from 'ip-address';

export const TIERS = ['public', 'natted', 'private'] as const;
export type Tier = (typeof TIERS)[number];

/** Per-AZ subnet slots in each tier supernet: three AZs plus one spare. */
export const SLOTS_PER_TIER = 4;
/** Smallest subnet AWS accepts. */
export const MIN_SUBNET_PREFIX = 28;
/** Addresses AWS reserves in every subnet (network, router, DNS, future, broadcast). */
export const AWS_RESERVED_PER_SUBNET = 5;

/** Default per-AZ subnet prefix length of each tier, relative to the VPC prefix length. */
export const DEFAULT_TIER_NEWBITS: Readonly<Record<Tier, number>> = { natted: 4, private: 5, public: 6 };

/** Allocation order when two tiers have the same size: larger first, then this order. */
const TIE_ORDER: readonly Tier[] = ['natted', 'private', 'public'];

export interface SubnetPlan {
  readonly tier: Tier;
  readonly az: string;
  readonly cidr: string;
  /** Addresses usable by instances (block size minus the five AWS reserves). */
  readonly usable: number;
}

export interface TierPlan {
  readonly tier: Tier;
  /** The aligned block that holds every subnet of this tier (use it in routes, NACLs, SGs, firewalls). */
  readonly supernet: string;
  readonly subnetPrefixLength: number;
  /** One subnet per AZ, in the order of the AZs given. */
  readonly subnets: readonly SubnetPlan[];
  /** The unused fourth slot, kept for a fourth AZ. */
  readonly spareSlot: string;
}

export interface IpPlan {
  readonly vpcCidr: string;
  readonly tiers: Readonly<Record<Tier, TierPlan>>;
  /** Free aligned blocks left in the VPC after the tier supernets (room for another tier). */
  readonly spare: readonly string[];
}

export class IpPlanError extends Error {}

/** Parses `a.b.c.d/n` and insists that it is a network address (no host bits set). */
export function parseNetwork(cidr: string): Address4 {
  if (!Address4.isValid(cidr) || !cidr.includes('/')) throw new IpPlanError(`"${cidr}" is not an IPv4 CIDR block (a.b.c.d/n)`);
  const a = new Address4(cidr);
  if (a.startAddress().address !== a.addressMinusSuffix) {
    throw new IpPlanError(`"${cidr}" has host bits set; the network address is ${a.startAddress().address}/${a.subnetMask}`);
  }
  return a;
}

function blockSize(prefix: number): bigint {
  return 1n << BigInt(32 - prefix);
}

function blockAt(parent: Address4, offset: bigint, prefix: number): string {
  return `${Address4.fromBigInt(parent.startAddress().bigInt() + offset).address}/${prefix}`;
}

/** Per-AZ prefix length of each tier: config values where given, defaults relative to the VPC otherwise. */
export function tierPrefixLengths(vpcPrefix: number, given: Partial<Record<Tier, number>> = {}): Record<Tier, number> {
  return {
    public: given.public ?? vpcPrefix + DEFAULT_TIER_NEWBITS.public,
    natted: given.natted ?? vpcPrefix + DEFAULT_TIER_NEWBITS.natted,
    private: given.private ?? vpcPrefix + DEFAULT_TIER_NEWBITS.private,
  };
}

/** Bits needed to hold SLOTS_PER_TIER subnets in one supernet. */
const SLOT_BITS = Math.log2(SLOTS_PER_TIER);

/**
 * Computes the plan. Throws IpPlanError (with the numbers) when the tiers do not fit, when a subnet
 * would be smaller than AWS allows, or when no room is left for a fourth tier.
 */
export function planNetwork(vpcCidr: string, azs: readonly string[], subnetPrefixLength: Partial<Record<Tier, number>> = {}): IpPlan {
  const vpc = parseNetwork(vpcCidr);
  if (azs.length !== 3) throw new IpPlanError(`the plan needs exactly 3 availability zones, got ${azs.length}`);
  const prefixes = tierPrefixLengths(vpc.subnetMask, subnetPrefixLength);
  for (const tier of TIERS) {
    const p = prefixes[tier];
    if (p > MIN_SUBNET_PREFIX) throw new IpPlanError(`${tier} subnets would be /${p}; AWS subnets can be at most /${MIN_SUBNET_PREFIX}`);
    if (p - SLOT_BITS < vpc.subnetMask) {
      throw new IpPlanError(`${tier} subnets of /${p} need a /${p - SLOT_BITS} supernet (4 slots), which is larger than the VPC ${vpcCidr}`);
    }
  }
  const order = [...TIERS].sort((a, b) => prefixes[a] - prefixes[b] || TIE_ORDER.indexOf(a) - TIE_ORDER.indexOf(b));
  const vpcSize = blockSize(vpc.subnetMask);
  let offset = 0n;
  const tiers = {} as Record<Tier, TierPlan>;
  for (const tier of order) {
    const superPrefix = prefixes[tier] - SLOT_BITS;
    const size = blockSize(superPrefix);
    if (offset + size > vpcSize) {
      throw new IpPlanError(
        `VPC ${vpcCidr} is too small: the tier supernets need ${describeNeed(prefixes)} addresses, the VPC has ${vpcSize}`,
      );
    }
    const supernet = parseNetwork(blockAt(vpc, offset, superPrefix));
    const subSize = blockSize(prefixes[tier]);
    const slot = (i: number) => blockAt(supernet, subSize * BigInt(i), prefixes[tier]);
    tiers[tier] = {
      tier,
      supernet: `${supernet.address}`,
      subnetPrefixLength: prefixes[tier],
      subnets: azs.map((az, i) => ({ tier, az, cidr: slot(i), usable: Number(subSize) - AWS_RESERVED_PER_SUBNET })),
      spareSlot: slot(SLOTS_PER_TIER - 1),
    };
    offset += size;
  }
  const spare = freeBlocks(vpc, offset);
  const smallest = blockSize(Math.max(...TIERS.map((t) => prefixes[t] - SLOT_BITS)));
  if (vpcSize - offset < smallest) {
    throw new IpPlanError(
      `VPC ${vpcCidr} leaves no room for a fourth tier: the tier supernets use ${offset} of ${vpcSize} addresses and the smallest supernet needs ${smallest}`,
    );
  }
  return { vpcCidr: vpc.address, tiers, spare };
}

function describeNeed(prefixes: Record<Tier, number>): string {
  return `${TIERS.map((t) => blockSize(prefixes[t] - SLOT_BITS)).reduce((a, b) => a + b, 0n)}`;
}

/**
 * Splits [offset, end of VPC) into the largest aligned blocks. An aligned block always ends within
 * the VPC: the VPC's size is a multiple of every block size up to its own.
 */
function freeBlocks(vpc: Address4, offset: bigint): string[] {
  const out: string[] = [];
  const end = blockSize(vpc.subnetMask);
  let at = offset;
  while (at < end) {
    let prefix = vpc.subnetMask;
    while (at % blockSize(prefix) !== 0n) prefix++;
    out.push(blockAt(vpc, at, prefix));
    at += blockSize(prefix);
  }
  return out;
}

/** True when `inner` lies entirely within `outer`. */
export function contains(outer: string, inner: string): boolean {
  return new Address4(inner).isInSubnet(new Address4(outer));
}

/** True when two blocks share any address. */
export function overlaps(a: string, b: string): boolean {
  return contains(a, b) || contains(b, a);
}

/** True when the block starts on a multiple of its own size. */
export function isAligned(cidr: string): boolean {
  const a = new Address4(cidr);
  return a.startAddress().address === a.addressMinusSuffix;
}

/** Every subnet of the plan, tier by tier, in AZ order. */
export function allSubnets(plan: IpPlan): SubnetPlan[] {
  return TIERS.flatMap((t) => plan.tiers[t].subnets);
}
