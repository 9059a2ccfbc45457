import fc from 'fast-check';
import { Address4 } from 'ip-address';
import { IpPlanError, TIERS, allSubnets, contains, isAligned, overlaps, planNetwork } from '../stacks/model/ip-plan';

const AZS = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const size = (cidr: string) => 2 ** (32 - Number(cidr.split('/')[1]));

describe('planNetwork', () => {
  test('the default /16 layout', () => {
    const p = planNetwork('10.10.0.0/16', AZS);
    expect(p.tiers.natted.supernet).toBe('10.10.0.0/18');
    expect(p.tiers.natted.subnets.map((s) => s.cidr)).toEqual(['10.10.0.0/20', '10.10.16.0/20', '10.10.32.0/20']);
    expect(p.tiers.private.supernet).toBe('10.10.64.0/19');
    expect(p.tiers.public.supernet).toBe('10.10.96.0/20');
    expect(p.tiers.public.subnets.map((s) => s.cidr)).toEqual(['10.10.96.0/22', '10.10.100.0/22', '10.10.104.0/22']);
    expect(p.tiers.public.spareSlot).toBe('10.10.108.0/22');
    expect(p.spare).toEqual(['10.10.112.0/20', '10.10.128.0/17']);
    expect(p.tiers.natted.subnets[0]!.usable).toBe(4096 - 5);
  });

  test('sizes from config: natted largest, private next, public smallest by default; explicit sizes win', () => {
    const p = planNetwork('10.30.0.0/16', AZS, { public: 24, private: 22 });
    expect(p.tiers.public.subnetPrefixLength).toBe(24);
    expect(p.tiers.private.subnetPrefixLength).toBe(22);
    expect(p.tiers.natted.subnetPrefixLength).toBe(20);
  });

  test('rejects what does not fit, with the numbers', () => {
    expect(() => planNetwork('10.0.0.0/20', AZS, { natted: 22 })).toThrow(/too small: the tier supernets need 4864 addresses, the VPC has 4096/);
    expect(() => planNetwork('10.0.0.0/16', AZS, { natted: 15 as number })).toThrow(IpPlanError);
    expect(() => planNetwork('10.0.0.0/20', AZS, { public: 29 })).toThrow(/at most \/28/);
    expect(() => planNetwork('10.0.0.1/16', AZS)).toThrow(/host bits set/);
    expect(() => planNetwork('10.0.0.0/16', AZS.slice(0, 2))).toThrow(/exactly 3/);
  });

  test('property: every valid plan is contained, aligned and overlap-free, with room to grow', () => {
    const arb = fc
      .record({
        octets: fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
        vpcPrefix: fc.integer({ min: 16, max: 20 }),
        nb: fc.record({ public: fc.integer({ min: 1, max: 12 }), natted: fc.integer({ min: 1, max: 12 }), private: fc.integer({ min: 1, max: 12 }) }),
      })
      .map(({ octets, vpcPrefix, nb }) => {
        const base = Address4.fromBigInt((BigInt((octets[0] << 24) >>> 0) + BigInt(octets[1] << 16) + BigInt(octets[2] << 8)) & ~((1n << BigInt(32 - vpcPrefix)) - 1n));
        return { vpc: `${base.address}/${vpcPrefix}`, prefixes: { public: vpcPrefix + nb.public, natted: vpcPrefix + nb.natted, private: vpcPrefix + nb.private } };
      });
    let planned = 0;
    fc.assert(
      fc.property(arb, ({ vpc, prefixes }) => {
        let plan;
        try {
          plan = planNetwork(vpc, AZS, prefixes);
        } catch (e) {
          expect(e).toBeInstanceOf(IpPlanError);
          // A rejection must be for a real reason: too small, too large a subnet, or no spare room.
          const superSizes = TIERS.map((t) => 2 ** (32 - prefixes[t] + 2));
          const reasonable = TIERS.some((t) => prefixes[t] > 28 || prefixes[t] - 2 < Number(vpc.split('/')[1])) || superSizes.reduce((a, b) => a + b) + Math.min(...superSizes) > size(vpc);
          expect(reasonable).toBe(true);
          return;
        }
        planned++;
        const blocks: string[] = [];
        for (const t of TIERS) {
          const tier = plan.tiers[t];
          expect(contains(vpc, tier.supernet)).toBe(true);
          expect(isAligned(tier.supernet)).toBe(true);
          expect(size(tier.supernet)).toBe(4 * 2 ** (32 - prefixes[t]));
          for (const s of [...tier.subnets.map((x) => x.cidr), tier.spareSlot]) {
            expect(contains(tier.supernet, s)).toBe(true);
            expect(isAligned(s)).toBe(true);
            expect(Number(s.split('/')[1])).toBe(prefixes[t]);
          }
          blocks.push(tier.supernet);
          expect(new Set([...tier.subnets.map((x) => x.cidr), tier.spareSlot]).size).toBe(4);
        }
        for (const s of plan.spare) {
          expect(contains(vpc, s)).toBe(true);
          expect(isAligned(s)).toBe(true);
          blocks.push(s);
        }
        for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) expect(overlaps(blocks[i]!, blocks[j]!)).toBe(false);
        // Supernets and spare blocks tile the VPC exactly.
        expect(blocks.map(size).reduce((a, b) => a + b)).toBe(size(vpc));
        expect(allSubnets(plan)).toHaveLength(9);
      }),
      { numRuns: 500 },
    );
    expect(planned).toBeGreaterThan(100);
  });
});
