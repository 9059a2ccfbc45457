/**
 * Load-balancer shards, the model (pure: no stack is synthesized): every customer is pinned to a
 * shard by config; per-shard quotas and the ALBs-per-region quota are config errors naming the
 * shard and the customers that overflow it. The shards in the synthesized stacks are in
 * shards.test.ts.
 */
import fc from 'fast-check';
import { CustomerEnvironment } from '../stacks/model/customers';
import { albName, albShardNames } from '../stacks/model/naming';
import { proposeShard, shardBudget, shardLoads, shardOverflows } from '../stacks/model/shards';
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
