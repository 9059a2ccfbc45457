/**
 * Load-balancer shards, the model (pure: no stack is synthesized): every customer is pinned to a
 * shard by config; per-shard quotas and the ALBs-per-region quota are config errors naming the
 * shard and the customers that overflow it. The shards in the synthesized stacks are in
 * shards.test.ts.
 */
import fc from 'fast-check';
import { CustomerEnvironment } from '../stacks/model/customers';
import { albName, albShardNames } from '../stacks/model/naming';
import { albsByRegion, proposeShard, shardBudget, shardCost, shardLoads, shardOverflows } from '../stacks/model/shards';
import { exampleConfig, problemsOf } from './support/config';
import { testCustomer } from './support/customer';

const withRepo = (c: any, customer: string, branches: Record<string, string> = { develop: 'dev' }) =>
  c.gitlab.repositories.push({ path: `${customer}/app`, kind: 'software', customer, branches });

/** Adds n customers t0..t(n-1) in dev, with `extra` fields each. */
const addCustomers = (c: any, n: number, extra: (i: number) => Record<string, unknown> = () => ({})) => {
  for (let i = 0; i < n; i++) {
    c.customers.push({ name: `t${i}`, rulePriority: 2000 + i, ...extra(i) });
    withRepo(c, `t${i}`);
  }
};

const cust = (name: string, shard: number, domains = 0): CustomerEnvironment =>
  testCustomer({ name, shard, customDomains: Array.from({ length: domains }, (_, i) => ({ name: `${name}${i}.example.org`, hostedZoneId: 'Z0X' })) });
const BUDGET = shardBudget({ rulesPerShard: 100, certificatesPerShard: 25 });

describe('shard model', () => {
  test('names: shard 0 keeps the single-ALB names, shard n adds -s<n> and stays within 32 characters', () => {
    const p = { project: 'acme-web', env: 'dev' };
    expect(albShardNames(p, 0)).toEqual({ loadBalancer: 'acme-web-dev', securityGroup: 'acme-web-dev-alb', httpListener: 'acme-web-dev-http', httpsListener: 'acme-web-dev-https' });
    expect(albShardNames(p, 3)).toEqual({ loadBalancer: 'acme-web-dev-s3', securityGroup: 'acme-web-dev-alb-s3', httpListener: 'acme-web-dev-http-s3', httpsListener: 'acme-web-dev-https-s3' });
    const long = { project: 'a'.repeat(20), env: 'b'.repeat(10) };
    for (let s = 0; s < 50; s++) expect(albName(long, s).length).toBeLessThanOrEqual(32);
    expect(new Set(Array.from({ length: 50 }, (_, s) => albName(long, s))).size).toBe(50);
  });

  test('overflows name the shard, the resource and the customers past the budget, in config order', () => {
    const list = [...Array.from({ length: 102 }, (_, i) => cust(`c${i}`, 0)), cust('other', 1)];
    expect(shardOverflows(list, BUDGET)).toEqual([
      { shard: 0, resource: 'targetGroups', used: 102, budget: 100, overflowing: ['c100', 'c101'] },
      { shard: 0, resource: 'rules', used: 102, budget: 100, overflowing: ['c100', 'c101'] },
    ]);
    const certs = [cust('a', 2, 4), cust('b', 2, 0), cust('c', 2, 3)];
    expect(shardOverflows(certs, { ...BUDGET, certificates: 5 })).toEqual([{ shard: 2, resource: 'certificates', used: 7, budget: 5, overflowing: ['c'] }]);
  });

  test('propose: the least-loaded shard with room, ties to the lowest; none when all are full', () => {
    const list = [cust('a', 0), cust('b', 0), cust('c', 1)];
    expect(proposeShard(list, 3, BUDGET, { targetGroups: 1, rules: 1, certificates: 0 })).toMatchObject({ kind: 'shard', shard: 2 });
    expect(proposeShard(list, 2, BUDGET, { targetGroups: 1, rules: 1, certificates: 0 })).toMatchObject({ kind: 'shard', shard: 1 });
    const full = proposeShard(list, 2, { targetGroups: 100, rules: 1, certificates: 25 }, { targetGroups: 1, rules: 1, certificates: 0 });
    expect(full).toMatchObject({ kind: 'full', message: expect.stringMatching(/add a shard \(ingress.shards: 3/) });
  });

  test('property: a customer\'s shard depends only on its own entry (adding, removing, reordering others moves nobody)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 30 }), fc.integer({ min: 0, max: 1000 }), (shards, seed) => {
        const cfgOf = (order: number[]) =>
          exampleConfig((c) => {
            c.environments[0].ingress.shards = 5;
            order.forEach((i) => {
              c.customers.push({ name: `q${i}`, rulePriority: 3000 + i, shard: shards[i] });
              withRepo(c, `q${i}`);
            });
          });
        const idx = shards.map((_, i) => i);
        const shuffled = [...idx].sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101)).filter((i) => i % 3 !== seed % 3);
        const where = (cfg: ReturnType<typeof exampleConfig>) => new Map(cfg.environments[0]!.customers.map((c) => [c.name, c.shard]));
        const a = where(cfgOf(idx));
        const b = where(cfgOf(shuffled));
        for (const [name, shard] of b) expect(a.get(name)).toBe(shard);
      }),
      { numRuns: 15 },
    );
  });

  test('loads count target groups, rules and custom-domain certificates per shard', () => {
    expect(shardLoads([cust('a', 0, 2), cust('b', 1), cust('c', 1, 1)], 3)).toEqual([
      { shard: 0, customers: ['a'], targetGroups: 1, rules: 1, certificates: 2 },
      { shard: 1, customers: ['b', 'c'], targetGroups: 2, rules: 2, certificates: 1 },
      { shard: 2, customers: [], targetGroups: 0, rules: 0, certificates: 0 },
    ]);
  });
});

describe('shard config errors', () => {
  test('101 customers on one shard: target groups and rules, naming shard 0 and the overflowing customer', () => {
    const problems = problemsOf((c) => addCustomers(c, 98));
    const msgs = problems.map((p) => p.message);
    expect(msgs).toContainEqual(expect.stringMatching(/^dev shard 0 would take 101 target groups \(AWS quota, not adjustable\); one ALB takes at most 100\. Overflowing: t97;/));
    expect(msgs).toContainEqual(expect.stringMatching(/^dev shard 0 would take 101 listener rules \(ingress.rulesPerShard\); one ALB takes at most 100\. Overflowing: t97;/));
  });

  test('the same customers over two shards validate (the single-ALB limit is gone)', () => {
    const cfg = exampleConfig((c) => {
      c.environments[0].ingress.shards = 2;
      addCustomers(c, 98, (i) => ({ shard: i % 2 }));
    });
    const dev = cfg.environments[0]!;
    expect(dev.customers).toHaveLength(101);
    expect(shardLoads(dev.customers, 2).map((l) => l.targetGroups)).toEqual([52, 49]);
  });

  test('a raised rule budget and a lowered certificate budget are honoured', () => {
    const problems = problemsOf((c) => {
      c.environments[0].ingress.rulesPerShard = 2;
      c.environments[2].ingress.certificatesPerShard = 1;
      c.customers[2].environments.prod.domains.push({ name: 'docs.example.org', hostedZoneId: 'Z0WIKI00000000000001' });
    });
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dev shard 0 would take 3 listener rules \(ingress.rulesPerShard\); one ALB takes at most 2\. Overflowing: wiki;/),
        expect.stringMatching(/^prod shard 0 would take 2 listener certificates \(ingress.certificatesPerShard\); one ALB takes at most 1\. Overflowing: wiki;/),
      ]),
    );
  });

  test('a shard the environment does not have', () => {
    const problems = problemsOf((c) => {
      c.customers[1].shard = 1;
      c.customers[0].environments.prod.shard = 4;
      c.environments[2].ingress.shards = 3;
    });
    expect(problems).toContainEqual(expect.objectContaining({ path: 'customers[1] (blog).shard', value: 1, message: expect.stringMatching(/dev has 1 load-balancer shard\(s\), numbered 0-0; .*--propose blog --env dev/) }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'customers[0] (shop).environments.prod.shard', value: 4 }));
  });

  test('ALBs per region: shards of every environment in one account and region add up against the quota', () => {
    const problems = problemsOf((c) => {
      c.environments[0].ingress.shards = 30;
      c.environments[1].ingress.shards = 20;
    });
    expect(problems).toContainEqual(expect.objectContaining({ path: 'environments', value: 51, message: expect.stringMatching(/account 111111111111 in eu-west-1 would have 51 ALBs \(dev: 30, staging: 20, prod: 1\); its ALBs-per-region quota is 50/) }));
    // A raised quota, given on the environments, admits them.
    expect(() => exampleConfig((c) => {
      c.environments[0].ingress.shards = 30;
      c.environments[1].ingress.shards = 20;
      for (const e of c.environments) e.ingress.albsPerRegion = 60;
    })).not.toThrow();
  });
});

describe('shard budgets and loads, exactly', () => {
  test('a customer takes a target group, a rule and a certificate per custom domain; the budget comes from the ingress settings', () => {
    expect(shardCost(cust('a', 0))).toEqual({ targetGroups: 1, rules: 1, certificates: 0 });
    expect(shardCost(cust('a', 0, 3))).toEqual({ targetGroups: 1, rules: 1, certificates: 3 });
    expect(shardBudget({ rulesPerShard: 7, certificatesPerShard: 3 })).toEqual({ targetGroups: 100, rules: 7, certificates: 3 });
  });

  test('loads of no shards, and customers pinned beyond the count are not counted', () => {
    expect(shardLoads([cust('a', 0)], 0)).toEqual([]);
    expect(shardLoads([cust('a', 0), cust('b', 5, 2)], 1)).toEqual([{ shard: 0, customers: ['a'], targetGroups: 1, rules: 1, certificates: 0 }]);
  });

  test('a shard exactly at its budget does not overflow; one more customer does', () => {
    const budget = { targetGroups: 3, rules: 3, certificates: 2 };
    const at = [cust('a', 0, 1), cust('b', 0, 1), cust('c', 0)];
    expect(shardOverflows(at, budget)).toEqual([]);
    expect(shardOverflows([...at, cust('d', 0)], budget)).toEqual([
      { shard: 0, resource: 'targetGroups', used: 4, budget: 3, overflowing: ['d'] },
      { shard: 0, resource: 'rules', used: 4, budget: 3, overflowing: ['d'] },
    ]);
  });

  test('a customer taking none of the overflowing resource is not named; shards in numeric order', () => {
    const budget = { targetGroups: 100, rules: 100, certificates: 1 };
    const list = [cust('x', 10, 1), cust('y', 10, 1), cust('z', 10, 0), cust('p', 2, 2), cust('q', 2, 0), cust('r', 2, 1)];
    expect(shardOverflows(list, budget)).toEqual([
      { shard: 2, resource: 'certificates', used: 3, budget: 1, overflowing: ['p', 'r'] },
      { shard: 10, resource: 'certificates', used: 2, budget: 1, overflowing: ['y'] },
    ]);
    expect(shardOverflows([], budget)).toEqual([]);
  });
});

describe('proposeShard, exactly', () => {
  const ONE = { targetGroups: 1, rules: 1, certificates: 0 };

  test('a shard with room for exactly the cost is proposed, with its load', () => {
    const budget = { targetGroups: 100, rules: 2, certificates: 25 };
    expect(proposeShard([cust('a', 0), cust('b', 0), cust('c', 1)], 2, budget, ONE)).toEqual({
      kind: 'shard',
      shard: 1,
      load: { shard: 1, customers: ['c'], targetGroups: 1, rules: 1, certificates: 0 },
    });
    expect(proposeShard([cust('a', 0, 1)], 1, { ...budget, certificates: 2 }, { ...ONE, certificates: 1 })).toMatchObject({ kind: 'shard', shard: 0 });
    expect(proposeShard([cust('a', 0, 2)], 1, { ...budget, certificates: 2 }, { ...ONE, certificates: 1 })).toMatchObject({ kind: 'full' });
  });

  test('the least full by its fullest resource wins, not the one with the fewest customers', () => {
    const list = [cust('a', 0, 20), cust('b', 1), cust('c', 1), cust('d', 1)];
    expect(proposeShard(list, 2, BUDGET, ONE)).toMatchObject({ kind: 'shard', shard: 1 });
    expect(proposeShard([cust('a', 0), cust('b', 1), cust('c', 1)], 2, BUDGET, ONE)).toMatchObject({ kind: 'shard', shard: 0 });
    // Shard 0 is 20% full (certificates), shard 1 40%: its least-used resource does not count.
    const certs = [...Array.from({ length: 5 }, (_, i) => cust(`m${i}`, 0, 1)), cust('big', 1, 10)];
    expect(proposeShard(certs, 2, BUDGET, ONE)).toMatchObject({ kind: 'shard', shard: 0 });
  });

  test('ties go to the lowest shard', () => {
    expect(proposeShard([cust('a', 1), cust('b', 2)], 3, BUDGET, ONE)).toMatchObject({ kind: 'shard', shard: 0 });
    expect(proposeShard([cust('a', 0), cust('b', 1), cust('c', 2)], 3, BUDGET, ONE)).toMatchObject({ kind: 'shard', shard: 0 });
  });

  test('all full: the message says what the customer takes and what to set', () => {
    expect(proposeShard([cust('a', 0), cust('b', 1)], 2, { targetGroups: 100, rules: 1, certificates: 25 }, { targetGroups: 1, rules: 1, certificates: 2 })).toEqual({
      kind: 'full',
      message: 'all 2 shard(s) are full for a customer taking 1 target group, 1 rule and 2 certificate(s); add a shard (ingress.shards: 3, docs/RUNBOOK.md "Adding a shard")',
    });
  });
});

describe('albsByRegion', () => {
  const env = (name: string, account: string, region: string, shards: number, albsPerRegion = 50) => ({ name, account, region, ingress: { shards, albsPerRegion } });

  test('groups by account and region in order of first appearance; the smallest quota applies', () => {
    expect(
      albsByRegion([env('dev', '111', 'eu-west-1', 2, 60), env('prod', '222', 'eu-west-1', 1), env('staging', '111', 'eu-west-1', 3, 40), env('dr', '111', 'us-east-1', 1, 70)]),
    ).toEqual([
      { account: '111', region: 'eu-west-1', environments: [{ name: 'dev', shards: 2 }, { name: 'staging', shards: 3 }], albs: 5, quota: 40 },
      { account: '222', region: 'eu-west-1', environments: [{ name: 'prod', shards: 1 }], albs: 1, quota: 50 },
      { account: '111', region: 'us-east-1', environments: [{ name: 'dr', shards: 1 }], albs: 1, quota: 70 },
    ]);
    expect(albsByRegion([])).toEqual([]);
  });
});
