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

describe('planNetwork, exactly', () => {
  const subnets = (tier: string, cidrs: string[], usable: number) => cidrs.map((cidr, i) => ({ tier, az: AZS[i], cidr, usable }));

  test('a /20 with the default sizes: every block, the spare slots and the free room', () => {
    expect(planNetwork('10.0.0.0/20', AZS)).toEqual({
      vpcCidr: '10.0.0.0/20',
      tiers: {
        natted: { tier: 'natted', supernet: '10.0.0.0/22', subnetPrefixLength: 24, subnets: subnets('natted', ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24'], 251), spareSlot: '10.0.3.0/24' },
        private: { tier: 'private', supernet: '10.0.4.0/23', subnetPrefixLength: 25, subnets: subnets('private', ['10.0.4.0/25', '10.0.4.128/25', '10.0.5.0/25'], 123), spareSlot: '10.0.5.128/25' },
        public: { tier: 'public', supernet: '10.0.6.0/24', subnetPrefixLength: 26, subnets: subnets('public', ['10.0.6.0/26', '10.0.6.64/26', '10.0.6.128/26'], 59), spareSlot: '10.0.6.192/26' },
      },
      spare: ['10.0.7.0/24', '10.0.8.0/21'],
    });
  });

  test('a /16 with the default sizes', () => {
    expect(planNetwork('172.16.0.0/16', AZS)).toEqual({
      vpcCidr: '172.16.0.0/16',
      tiers: {
        natted: { tier: 'natted', supernet: '172.16.0.0/18', subnetPrefixLength: 20, subnets: subnets('natted', ['172.16.0.0/20', '172.16.16.0/20', '172.16.32.0/20'], 4091), spareSlot: '172.16.48.0/20' },
        private: { tier: 'private', supernet: '172.16.64.0/19', subnetPrefixLength: 21, subnets: subnets('private', ['172.16.64.0/21', '172.16.72.0/21', '172.16.80.0/21'], 2043), spareSlot: '172.16.88.0/21' },
        public: { tier: 'public', supernet: '172.16.96.0/20', subnetPrefixLength: 22, subnets: subnets('public', ['172.16.96.0/22', '172.16.100.0/22', '172.16.104.0/22'], 1019), spareSlot: '172.16.108.0/22' },
      },
      spare: ['172.16.112.0/20', '172.16.128.0/17'],
    });
  });

  test('tiers of the same size go natted, private, public; a larger one goes first whatever its name', () => {
    const same = planNetwork('10.0.0.0/16', AZS, { public: 20, natted: 20, private: 20 });
    expect([same.tiers.natted.supernet, same.tiers.private.supernet, same.tiers.public.supernet]).toEqual(['10.0.0.0/18', '10.0.64.0/18', '10.0.128.0/18']);
    const publicFirst = planNetwork('10.0.0.0/16', AZS, { public: 20, natted: 22, private: 22 });
    expect([publicFirst.tiers.public.supernet, publicFirst.tiers.natted.supernet, publicFirst.tiers.private.supernet]).toEqual(['10.0.0.0/18', '10.0.64.0/20', '10.0.80.0/20']);
    expect(publicFirst.spare).toEqual(['10.0.96.0/19', '10.0.128.0/17']);
  });

  test('subnets follow the AZs in the order given', () => {
    const p = planNetwork('10.0.0.0/16', ['z3', 'z1', 'z2']);
    expect(p.tiers.public.subnets.map((s) => s.az)).toEqual(['z3', 'z1', 'z2']);
    expect(allSubnets(p).map((s) => `${s.tier}:${s.az}`)).toEqual(['public:z3', 'public:z1', 'public:z2', 'natted:z3', 'natted:z1', 'natted:z2', 'private:z3', 'private:z1', 'private:z2']);
  });

  test('boundaries that still plan: /28 subnets; room left for exactly the smallest supernet', () => {
    expect(planNetwork('10.0.0.0/23', AZS, { public: 28, natted: 27, private: 28 }).tiers.public.subnetPrefixLength).toBe(28);
    const tight = planNetwork('10.0.0.0/16', AZS, { natted: 19, private: 20, public: 21 });
    expect(tight.spare).toEqual(['10.0.224.0/19']);
  });
});

describe('planNetwork errors', () => {
  test.each([
    ['10.0.0.0', AZS, {}, '"10.0.0.0" is not an IPv4 CIDR block (a.b.c.d/n)'],
    ['banana', AZS, {}, '"banana" is not an IPv4 CIDR block (a.b.c.d/n)'],
    ['10.0.0.0/33', AZS, {}, '"10.0.0.0/33" is not an IPv4 CIDR block (a.b.c.d/n)'],
    ['10.0.0.1/16', AZS, {}, '"10.0.0.1/16" has host bits set; the network address is 10.0.0.0/16'],
    ['10.0.128.0/16', AZS, {}, '"10.0.128.0/16" has host bits set; the network address is 10.0.0.0/16'],
    ['10.0.0.0/16', AZS.slice(0, 2), {}, 'the plan needs exactly 3 availability zones, got 2'],
    ['10.0.0.0/16', [...AZS, 'eu-west-1d'], {}, 'the plan needs exactly 3 availability zones, got 4'],
    ['10.0.0.0/16', AZS, { public: 29 }, 'public subnets would be /29; AWS subnets can be at most /28'],
    ['10.0.0.0/16', AZS, { private: 29 }, 'private subnets would be /29; AWS subnets can be at most /28'],
    ['10.0.0.0/16', AZS, { natted: 17 }, 'natted subnets of /17 need a /15 supernet (4 slots), which is larger than the VPC 10.0.0.0/16'],
    ['10.0.0.0/20', AZS, { natted: 22 }, 'VPC 10.0.0.0/20 is too small: the tier supernets need 4864 addresses, the VPC has 4096'],
    // A supernet as large as the VPC fits alone, but not with the others.
    ['10.0.0.0/16', AZS, { natted: 18 }, 'VPC 10.0.0.0/16 is too small: the tier supernets need 77824 addresses, the VPC has 65536'],
    // Over by less than the last supernet: it is the last one that does not fit.
    ['10.0.0.0/16', AZS, { natted: 19, private: 19, public: 20 }, 'VPC 10.0.0.0/16 is too small: the tier supernets need 81920 addresses, the VPC has 65536'],
    ['10.0.0.0/16', AZS, { natted: 19, private: 20, public: 20 }, 'VPC 10.0.0.0/16 leaves no room for a fourth tier: the tier supernets use 65536 of 65536 addresses and the smallest supernet needs 16384'],
  ] as const)('%s over %j with %j: %s', (vpc, azs, prefixes, message) => {
    expect(() => planNetwork(vpc, azs, prefixes)).toThrow(new IpPlanError(message));
    expect(() => planNetwork(vpc, azs, prefixes)).toThrow(IpPlanError);
  });
});

describe('block relations', () => {
  test.each([
    ['10.0.0.0/16', '10.0.1.0/24', true, true],
    ['10.0.1.0/24', '10.0.0.0/16', false, true],
    ['10.0.0.0/24', '10.0.0.0/24', true, true],
    ['10.0.0.0/24', '10.0.1.0/24', false, false],
    ['10.0.1.0/24', '10.0.0.0/24', false, false],
    ['10.0.0.0/16', '10.1.0.0/16', false, false],
  ])('%s and %s: contains %s, overlaps %s', (a, b, inside, shared) => {
    expect(contains(a, b)).toBe(inside);
    expect(overlaps(a, b)).toBe(shared);
    expect(overlaps(b, a)).toBe(shared);
  });

  test.each([
    ['10.0.0.0/16', true],
    ['10.0.4.0/22', true],
    ['10.0.2.0/22', false],
    ['10.0.0.1/32', true],
    ['10.0.0.1/31', false],
  ])('%s aligned: %s', (cidr, aligned) => expect(isAligned(cidr)).toBe(aligned));
});
