import { createHash } from 'crypto';
import * as fc from 'fast-check';
import { CUSTOMER_RULE_PRIORITY_MAX, CUSTOMER_RULE_PRIORITY_MIN } from '../stacks/model/config/schema';
import { ConfigError, validateConfig } from '../stacks/model/config/validate';
import {
  architectureOf,
  computedRulePriority,
  infrastructureBranchesIn,
  majorVersion,
  resolveCustomer,
  softwareBranchesIn,
} from '../stacks/model/customers';
import { NAME_LIMITS, customerNames, fitName } from '../stacks/model/naming';
import { exampleConfig, exampleInput } from './support/config';
import * as lib from '../scripts/lib/customers';

describe('customer model', () => {
  test.each([
    ['t4g.small', 'arm64'],
    ['m7g.large', 'arm64'],
    ['c7gn.xlarge', 'arm64'],
    ['t3.micro', 'x86_64'],
    ['m7i.large', 'x86_64'],
    ['c6a.large', 'x86_64'],
  ])('%s runs %s', (type, arch) => expect(architectureOf(type)).toBe(arch));

  test.each([
    ['postgres', '16', '16'],
    ['postgres', '16.4', '16'],
    ['mysql', '8.0', '8.0'],
    ['mysql', '8.0.35', '8.0'],
  ] as const)('%s %s belongs to major %s', (engine, version, major) => expect(majorVersion(engine, version)).toBe(major));

  test('defaults outside production: 1 server of t4g.small, 1-day backups, single-AZ database', () => {
    const shop = exampleConfig().environments[0]!.customers.find((c) => c.name === 'shop')!;
    expect(shop.web).toMatchObject({ instanceType: 't4g.small', architecture: 'arm64', minCapacity: 1, desiredCapacity: 1, maxCapacity: 2, appPort: 8080, healthCheckPath: '/healthz' });
    expect(shop.database).toMatchObject({ engine: 'postgres', version: '16', family: 'postgres16', port: 5432, backupRetentionDays: 1, production: false });
  });

  test('production: per-environment overrides win, production defaults fill the rest', () => {
    const prod = exampleConfig().environments.find((e) => e.name === 'prod')!;
    const shop = prod.customers.find((c) => c.name === 'shop')!;
    expect(shop.web).toMatchObject({ instanceType: 't4g.medium', minCapacity: 2, maxCapacity: 6 });
    expect(shop.database).toMatchObject({ instanceClass: 'db.t4g.small', storageGiB: 50, backupRetentionDays: 7, production: true });
    const wiki = prod.customers.find((c) => c.name === 'wiki')!;
    expect(wiki.hosts).toEqual(['wiki.web.example.com', 'wiki.example.org']);
    expect(wiki.database).toMatchObject({ engine: 'mysql', family: 'mysql8.0', port: 3306 });
  });

  test('a resolved customer does not depend on the other customers', () => {
    const alone = resolveCustomer({ name: 'shop', domains: [], web: {}, environments: {} }, { name: 'dev', production: false, domain: 'd.example.com' });
    const withOthers = exampleConfig().environments[0]!.customers.find((c) => c.name === 'shop')!;
    expect(alone.rulePriority).toBe(withOthers.rulePriority);
  });
});

describe('rule priorities (property)', () => {
  const customerName = fc.stringMatching(/^[a-z][a-z0-9]{1,18}[a-z0-9]$/);

  test('computed priorities are in 1000..50000 and depend only on the name', () => {
    fc.assert(
      fc.property(customerName, (n) => {
        const p = computedRulePriority(n);
        expect(p).toBeGreaterThanOrEqual(CUSTOMER_RULE_PRIORITY_MIN);
        expect(p).toBeLessThanOrEqual(CUSTOMER_RULE_PRIORITY_MAX);
        expect(computedRulePriority(n)).toBe(p);
      }),
    );
  });

  test('any accepted config has unique priorities per environment, and adding a customer moves no one', () => {
    fc.assert(
      fc.property(fc.uniqueArray(customerName, { minLength: 1, maxLength: 12 }), (names) => {
        const input = exampleInput();
        input.customers = names.map((name) => ({ name }));
        input.gitlab.repositories = names.map((name) => ({ path: `${name}/app`, kind: 'software', customer: name, branches: { main: 'dev' } }));
        let cfg;
        try {
          cfg = validateConfig(input, 'property');
        } catch (e) {
          if (e instanceof ConfigError && e.problems.every((p) => p.path.endsWith('.rulePriority'))) return; // a collision, refused by name
          throw e;
        }
        for (const env of cfg.environments) {
          const priorities = env.customers.map((c) => c.rulePriority);
          expect(new Set(priorities).size).toBe(priorities.length);
          for (const c of env.customers) expect(c.rulePriority).toBe(computedRulePriority(c.name));
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('fitName (property)', () => {
  test('fits the limit, keeps short names, is deterministic, and two long names stay apart', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,80}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,80}$/), fc.integer({ min: 16, max: 64 }), (a, b, max) => {
        const fa = fitName(a, max);
        expect(fa.length).toBeLessThanOrEqual(max);
        if (a.length <= max) expect(fa).toBe(a);
        expect(fitName(a, max)).toBe(fa);
        if (a !== b && a.length > max && b.length > max) expect(fitName(b, max)).not.toBe(fa);
      }),
    );
  });

  test('customer names of the longest project, environment and customer fit every limit', () => {
    const n = customerNames({ project: 'p'.repeat(20), env: 'e'.repeat(10) }, 'c'.repeat(20));
    expect(n.targetGroup.length).toBeLessThanOrEqual(NAME_LIMITS.targetGroup);
    expect(n.instanceRole.length).toBeLessThanOrEqual(NAME_LIMITS.iamRole);
    expect(n.database.length).toBeLessThanOrEqual(NAME_LIMITS.rdsIdentifier);
    expect(n.targetGroup).toMatch(/^p{20}-e{4}-[0-9a-f]{6}$/);
  });
});

describe('npm run customers', () => {

  test('a table per environment: customer, hosts, shard, priority, target group, database, repositories with branches', () => {
    const text = lib.renderCustomers(exampleConfig());
    const sections = text.split('\n\n');
    expect(sections.map((s) => s.split('\n')[0])).toEqual(['dev (3 customers, 1 shard)', 'staging (1 customer, 1 shard)', 'prod (2 customers, 1 shard)']);
    expect(sections[0]!.split('\n')[1]).toMatch(/^customer\s+hosts\s+shard\s+priority\s+target group\s+database\s+repositories \(branches\)$/);
    const prodWiki = sections[2]!.split('\n').find((l) => l.startsWith('wiki'))!;
    expect(prodWiki.split(/\s{2,}/)).toEqual(['wiki', 'wiki.web.example.com wiki.example.org', '0', String(computedRulePriority('wiki')), 'acme-web-prod-wiki', 'yes (mysql 8.0)', 'wiki/app [software] (main)']);
    const devBlog = sections[0]!.split('\n').find((l) => l.startsWith('blog'))!;
    expect(devBlog).toMatch(/\sno\s+blog\/site \[software\] \(main\)$/);
    expect(sections[0]).toContain('shard 0: 3/100 target groups, 3/100 rules, 0/25 certificates');
    expect(sections[2]).toContain('shard 0: 2/100 target groups, 2/100 rules, 1/25 certificates');
    expect(lib.renderCustomers(exampleConfig(), 'staging').split('\n')[0]).toBe('staging (1 customer, 1 shard)');
    expect(() => lib.renderCustomers(exampleConfig(), 'qa')).toThrow(/no environment qa; expected one of dev, staging, prod/);
  });

  test('rows show each customer\'s own shard', () => {
    const cfg = exampleConfig((c) => {
      c.environments[0].ingress.shards = 3;
      c.customers[1].shard = 2;
    });
    const rows = lib.customerRows(cfg.environments[0]!);
    expect(rows.map((r) => [r[0], r[2]])).toEqual([['shop', '0'], ['blog', '2'], ['wiki', '0']]);
  });

  test('--propose: the least-loaded shard with room, for a new or an existing customer; an error when all are full', () => {
    const cfg = exampleConfig((c) => {
      c.environments[0].ingress.shards = 2;
      c.customers[1].shard = 1;
    });
    expect(lib.renderProposal(cfg, 'newco', 'dev')).toMatch(/^newco in dev: shard 1\n  shard 1 carries 1 other customer/);
    expect(lib.renderProposal(cfg, 'blog', 'dev')).toMatch(/^blog in dev: shard 1 \(now on shard 1; moving it changes its DNS target/);
    const full = exampleConfig((c) => (c.environments[0].ingress.rulesPerShard = 3));
    expect(() => lib.renderProposal(full, 'newco', 'dev')).toThrow(/dev: all 1 shard\(s\) are full .* add a shard \(ingress.shards: 2/);
  });

  test('arguments', () => {
    expect(lib.parseCustomersArgs([])).toEqual({ kind: 'table', env: undefined });
    expect(lib.parseCustomersArgs(['--propose', 'newco', '--env', 'dev'])).toEqual({ kind: 'propose', customer: 'newco', env: 'dev' });
    expect(lib.parseCustomersArgs(['--propose', 'newco'])).toMatch(/--propose needs --env/);
    expect(lib.parseCustomersArgs(['--propose', 'Bad_Name', '--env', 'dev'])).toMatch(/not a customer name/);
    expect(lib.parseCustomersArgs(['--nope'])).toMatch(/unknown option --nope/);
    expect(lib.parseCustomersArgs(['-h'])).toBe(lib.USAGE);
  });
});

describe('resolveCustomer, exactly', () => {
  const DEV = { name: 'dev', production: false, domain: 'dev.example.com' };
  const PROD = { name: 'prod', production: true, domain: 'example.com' };
  const bare = (over: Record<string, unknown> = {}): any => ({ name: 'shop', domains: [], web: {}, environments: {}, ...over });
  const web = (over: Record<string, unknown> = {}) => ({
    instanceType: 't4g.small',
    architecture: 'arm64',
    minCapacity: 1,
    desiredCapacity: 1,
    maxCapacity: 2,
    appPort: 8080,
    healthCheckPath: '/healthz',
    healthCheckMatcher: '200',
    rootVolumeGiB: 20,
    requestsPerTarget: 1000,
    ...over,
  });

  test('every default outside production', () => {
    expect(resolveCustomer(bare(), DEV)).toEqual({
      name: 'shop',
      defaultHost: 'shop.dev.example.com',
      hosts: ['shop.dev.example.com'],
      customDomains: [],
      rulePriority: computedRulePriority('shop'),
      rulePriorityConfigured: false,
      shard: 0,
      web: web(),
      database: undefined,
      softwareBranches: [],
      infrastructureBranches: [],
    });
  });

  test('production: two to four servers, 7-day backups, a production database', () => {
    const c = resolveCustomer(bare({ database: { engine: 'postgres' } }), PROD, ['main'], ['images']);
    expect(c.web).toEqual(web({ minCapacity: 2, desiredCapacity: 2, maxCapacity: 4 }));
    expect(c.database).toEqual({ engine: 'postgres', version: '16', family: 'postgres16', port: 5432, instanceClass: 'db.t4g.micro', storageGiB: 20, backupRetentionDays: 7, production: true });
    expect(c.softwareBranches).toEqual(['main']);
    expect(c.infrastructureBranches).toEqual(['images']);
  });

  test('a MySQL database outside production', () => {
    expect(resolveCustomer(bare({ database: { engine: 'mysql' } }), DEV).database).toEqual({
      engine: 'mysql',
      version: '8.0',
      family: 'mysql8.0',
      port: 3306,
      instanceClass: 'db.t4g.micro',
      storageGiB: 20,
      backupRetentionDays: 1,
      production: false,
    });
  });

  test('customer settings, then the environment\'s settings, win over the defaults', () => {
    const c = bare({
      rulePriority: 1234,
      shard: 1,
      domains: [{ name: 'shop.example.org', hostedZoneId: 'Z1' }],
      web: { instanceType: 'm7i.large', minCapacity: 3, appPort: 9000, healthCheckPath: '/up', healthCheckMatcher: '200-299', rootVolumeGiB: 30, requestsPerTarget: 500 },
      database: { engine: 'mysql', version: '8.4.2', instanceClass: 'db.t4g.small', storageGiB: 40 },
      environments: {
        prod: { shard: 2, web: { maxCapacity: 9, desiredCapacity: 4 }, domains: [{ name: 'shop.example.net', certificateArn: 'arn:cert' }], database: { backupRetentionDays: 14, storageGiB: 80 } },
      },
    });
    expect(resolveCustomer(c, PROD)).toEqual({
      name: 'shop',
      defaultHost: 'shop.example.com',
      hosts: ['shop.example.com', 'shop.example.net'],
      customDomains: [{ name: 'shop.example.net', certificateArn: 'arn:cert' }],
      rulePriority: 1234,
      rulePriorityConfigured: true,
      shard: 2,
      web: { instanceType: 'm7i.large', architecture: 'x86_64', minCapacity: 3, desiredCapacity: 4, maxCapacity: 9, appPort: 9000, healthCheckPath: '/up', healthCheckMatcher: '200-299', rootVolumeGiB: 30, requestsPerTarget: 500 },
      database: { engine: 'mysql', version: '8.4.2', family: 'mysql8.4', port: 3306, instanceClass: 'db.t4g.small', storageGiB: 80, backupRetentionDays: 14, production: true },
      softwareBranches: [],
      infrastructureBranches: [],
    });
    // Another environment: the customer's own settings, its shard and its domains.
    const dev = resolveCustomer(c, DEV);
    expect([dev.shard, dev.hosts, dev.web.maxCapacity, dev.web.desiredCapacity, dev.database?.storageGiB, dev.database?.backupRetentionDays]).toEqual([1, ['shop.dev.example.com', 'shop.example.org'], 3, 3, 40, 1]);
  });

  test.each([
    [false, 1, 1, 2],
    [false, 5, 5, 5],
    [true, 1, 1, 4],
    [true, 4, 4, 4],
    [true, 6, 6, 6],
  ])('production %s, minCapacity %i: desired %i, max %i (the default max is never below min)', (production, min, desired, max) => {
    const c = resolveCustomer(bare({ web: { minCapacity: min } }), production ? PROD : DEV);
    expect([c.web.minCapacity, c.web.desiredCapacity, c.web.maxCapacity]).toEqual([min, desired, max]);
  });

  test('a configured rule priority is used as given, even the computed one', () => {
    const p = computedRulePriority('shop');
    expect(resolveCustomer(bare({ rulePriority: p }), DEV)).toMatchObject({ rulePriority: p, rulePriorityConfigured: true });
    expect(resolveCustomer(bare({ rulePriority: 1000 }), DEV)).toMatchObject({ rulePriority: 1000, rulePriorityConfigured: true });
  });
});

describe('computed rule priorities', () => {
  // A customer's priority must never change: a new formula would move every customer's listener rule.
  test.each([
    ['shop', 16172],
    ['blog', 23986],
    ['wiki', 42183],
    ['a', 18179],
    ['zz-top', 6287],
  ])('%s: %i', (name, priority) => expect(computedRulePriority(name)).toBe(priority));

  test('property: 1000 + (the first 48 bits of the name\'s SHA-256 mod 49001)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (name) => {
        const n = BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 12)}`);
        expect(computedRulePriority(name)).toBe(1000 + Number(n % 49001n));
      }),
    );
  });
});

describe('branches of an environment', () => {
  const repos: { kind: string; customer: string; branches: Record<string, string> }[] = [
    { kind: 'software', customer: 'shop', branches: { main: 'prod', develop: 'dev', feature: 'dev' } },
    { kind: 'infrastructure', customer: 'shop', branches: { images: 'dev', main: 'prod' } },
    { kind: 'software', customer: 'blog', branches: { main: 'dev' } },
    { kind: 'software', customer: 'shop', branches: { develop: 'dev', hotfix: 'dev', main: 'staging' } },
  ];

  test.each([
    ['shop', 'dev', ['develop', 'feature', 'hotfix'], ['images']],
    ['shop', 'prod', ['main'], ['main']],
    ['shop', 'staging', ['main'], []],
    ['blog', 'dev', ['main'], []],
    ['blog', 'prod', [], []],
    ['wiki', 'dev', [], []],
  ])('%s in %s: software %j, infrastructure %j (config order, once each)', (customer, env, software, infrastructure) => {
    expect(softwareBranchesIn(repos, customer, env)).toEqual(software);
    expect(infrastructureBranchesIn(repos, customer, env)).toEqual(infrastructure);
  });
});

describe('engine versions', () => {
  test.each([
    ['postgres', '17', '17'],
    ['postgres', '13.2.1', '13'],
    ['mysql', '8', '8'],
    ['mysql', '8.4', '8.4'],
  ] as const)('%s %s: major %s', (engine, version, major) => expect(majorVersion(engine, version)).toBe(major));
});
