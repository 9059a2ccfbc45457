/**
 * Load-balancer shards: an environment has `ingress.shards` ALBs, each a full public entry; every
 * customer is pinned to one by config; per-shard quotas and the ALBs-per-region quota are config
 * errors naming the shard and the customers that overflow it.
 */
import fc from 'fast-check';
import { PublicEntry } from '../stacks/constructs/ingress/public-entry';
import { VpcNetwork } from '../stacks/constructs/network/vpc-network';
import { forShard } from '../stacks/constructs/environment-exports';
import { CustomerEnvironment } from '../stacks/model/customers';
import { planNetwork } from '../stacks/model/ip-plan';
import { albName, albShardNames } from '../stacks/model/naming';
import { proposeShard, shardBudget, shardLoads, shardOverflows } from '../stacks/model/shards';
import { exampleConfig, problemsOf } from './support/config';
import { TEST_ENVIRONMENT, TEST_SHARD1, testCustomer } from './support/customer';
import { synthScoped } from './support/scope';
import { resourceList, resources, synthAllStacks } from './support/synth';

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

describe('shards in the stacks', () => {
  const cfg = exampleConfig((c) => {
    c.environments[0].ingress.shards = 2;
    c.customers[1].shard = 1;
  });
  const all = synthAllStacks(cfg);
  const dev = all.get('dev')!;

  test('each shard is a full public entry: ALB, SG, 80→443, 443 with TLS 1.3 and the 503 default, the env certificate, access logs', () => {
    expect(Object.keys(resources(dev, 'aws_lb')).sort()).toEqual(['ingress-s1_alb', 'ingress_alb']);
    const s1 = resources(dev, 'aws_lb')['ingress-s1_alb'];
    expect(s1).toMatchObject({ name: 'acme-web-dev-s1', security_groups: ['${aws_security_group.ingress-s1_sg.id}'], access_logs: { bucket: '${aws_s3_bucket.ingress_access-logs_bucket.bucket}', prefix: 'alb', enabled: true } });
    expect(resources(dev, 'aws_security_group')['ingress-s1_sg']).toMatchObject({ name: 'acme-web-dev-alb-s1' });
    const listeners = resources(dev, 'aws_lb_listener');
    expect(listeners['ingress-s1_http']).toMatchObject({ port: 80, default_action: [expect.objectContaining({ type: 'redirect' })] });
    const https = listeners['ingress-s1_https'];
    expect(https).toMatchObject({ port: 443, ssl_policy: listeners['ingress_https'].ssl_policy, certificate_arn: listeners['ingress_https'].certificate_arn, default_action: listeners['ingress_https'].default_action });
    // One log bucket, one certificate: shared, not duplicated.
    expect(resourceList(dev, 'aws_acm_certificate')).toHaveLength(1);
    expect(Object.keys(resources(dev, 'aws_s3_bucket')).filter((k) => k.includes('access-logs'))).toEqual(['ingress_access-logs_bucket']);
  });

  test('shard 0 keeps the single-ALB resource ids and names', () => {
    expect(resources(dev, 'aws_lb')['ingress_alb'].name).toBe('acme-web-dev');
    expect(resources(dev, 'aws_security_group')['ingress_sg'].name).toBe('acme-web-dev-alb');
  });

  test('a customer on shard 1 attaches its rule to shard 1 and points its DNS at shard 1', () => {
    const blog = all.get('dev-blog')!;
    expect(resourceList(blog, 'aws_lb_listener_rule')[0].listener_arn).toBe('${aws_lb_listener.ingress-s1_https.arn}');
    expect(resourceList(blog, 'aws_route53_record')[0].alias).toMatchObject({ name: '${aws_lb.ingress-s1_alb.dns_name}', zone_id: '${aws_lb.ingress-s1_alb.zone_id}' });
    const shop = all.get('dev-shop')!;
    expect(resourceList(shop, 'aws_lb_listener_rule')[0].listener_arn).toBe('${aws_lb_listener.ingress_https.arn}');
  });

  test('the environment outputs every shard', () => {
    expect(dev.output!.shards.value).toEqual([
      expect.objectContaining({ alb_dns_name: '${aws_lb.ingress_alb.dns_name}' }),
      expect.objectContaining({ alb_dns_name: '${aws_lb.ingress-s1_alb.dns_name}', https_listener_arn: '${aws_lb_listener.ingress-s1_https.arn}' }),
    ]);
  });

  test('forShard gives a customer its shard\'s ALB fields; an unknown shard is refused', () => {
    expect(forShard(TEST_ENVIRONMENT, 1)).toMatchObject(TEST_SHARD1);
    expect(() => forShard(TEST_ENVIRONMENT, 2)).toThrow(/shard must be one of 0-1/);
  });

  test('PublicEntry: shard n needs shard 0 as primary; shard 0 takes none', () => {
    const build = (shard: number, withPrimary: boolean) =>
      synthScoped((scope) => {
        const azs = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
        const net = new VpcNetwork(scope, 'net', { plan: planNetwork('10.10.0.0/16', azs), availabilityZones: azs });
        const props = { vpcId: net.vpc.id, publicSubnets: net.subnets.public, nattedSupernet: '10.10.0.0/18', domain: 'dev.example.com', certificate: { kind: 'acm-dns', hostedZoneId: 'Z0DEV0000000000000001' } as const };
        const first = new PublicEntry(scope, 'ingress', props);
        new PublicEntry(scope, `ingress-s${shard}`, { ...props, shard, primary: withPrimary ? first : undefined });
      });
    expect(() => build(1, false)).toThrow(/primary must be shard 0's PublicEntry for shard 1/);
    expect(() => build(0, true)).toThrow(/primary must be absent for shard 0/);
    expect(() => build(1, true)).not.toThrow();
  });
});
