/**
 * The pure parts of the benchmark (scripts/lib/bench.ts). No timing is asserted anywhere: the
 * benchmark itself is `npm run bench`.
 */
import { validateConfig } from '../stacks/model/config/validate';
import { BENCH_CUSTOMERS_PER_SHARD, asWebhookBundler, evaluateTargets, formatRatio, formatSeconds, formatTable, generateCustomersConfig, generateEnvironmentsConfig, median, ratio } from '../scripts/lib/bench';
import { shardBudget, shardLoads } from '../stacks/model/shards';
import { exampleInput } from './support/config';

describe('statistics', () => {
  test('median of odd and even counts, in any order', () => {
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  test('ratio is undefined when a figure is missing or the base is not positive', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(undefined, 2)).toBeUndefined();
    expect(ratio(3, undefined)).toBeUndefined();
    expect(ratio(3, 0)).toBeUndefined();
  });

  test('targets: at or under the limit passes, over misses, a missing figure is n/a (never a failure)', () => {
    const t = (id: string, limit: number) => ({ id, label: id, numerator: 'a', denominator: 'b', limit });
    const [exact, under, over] = evaluateTargets([t('exact', 1.3), t('under', 2), t('over', 1.2)], { a: 13, b: 10 });
    expect(exact).toMatchObject({ status: 'PASS' });
    expect(exact!.ratio).toBeCloseTo(1.3);
    expect(under).toMatchObject({ status: 'PASS' });
    expect(over).toMatchObject({ status: 'MISS' });
    expect(evaluateTargets([t('missing', 10)], { a: 5 })).toEqual([{ ...t('missing', 10), ratio: undefined, status: 'n/a' }]);
  });
});

describe('generated configs', () => {
  test.each([3, 10, 30])('%i environments: a valid config with non-overlapping VPCs, the example proportions, every environment routed', (n) => {
    const input = generateEnvironmentsConfig(exampleInput(), n);
    const config = validateConfig(input, `generated ${n}`);
    expect(config.environments).toHaveLength(n);
    const names = config.environments.map((e) => e.name);
    expect(new Set(names).size).toBe(n);
    expect(new Set(config.environments.map((e) => e.network.vpcCidr)).size).toBe(n);
    expect(config.environments.filter((e) => e.production)).toHaveLength(Math.floor(n / 3));
    for (const e of config.environments) expect(e.gitlab.repositories.length).toBeGreaterThan(0);
    expect(names.slice(0, 3)).toEqual(['dev1', 'staging1', 'prod1']);
    if (n === 30) expect(names.slice(-3)).toEqual(['dev10', 'staging10', 'prod10']);
  });

  test('the base config is not modified, and impossible sizes are refused', () => {
    const base = exampleInput();
    const before = JSON.stringify(base);
    generateEnvironmentsConfig(base, 30);
    expect(JSON.stringify(base)).toBe(before);
    expect(() => generateEnvironmentsConfig(base, 0)).toThrow(/1 to 254/);
    expect(() => generateEnvironmentsConfig(base, 255)).toThrow(/1 to 254/);
    expect(() => generateEnvironmentsConfig({ environments: [] }, 3)).toThrow(/no environments/);
  });
});

describe('generated customer configs (3 environments x n customers)', () => {
  test.each([0, 10, 100, 1000])('%i customers per environment: valid, every customer in every environment, shards within budget', (n) => {
    const config = validateConfig(generateCustomersConfig(exampleInput(), n), `generated ${n} customers`);
    expect(config.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    const shards = Math.max(1, Math.ceil(n / BENCH_CUSTOMERS_PER_SHARD));
    for (const e of config.environments) {
      expect(e.customers).toHaveLength(n);
      expect(e.ingress.shards).toBe(shards);
      const budget = shardBudget(e.ingress);
      for (const l of shardLoads(e.customers, shards)) expect(l.rules).toBeLessThanOrEqual(budget.rules);
    }
    if (n > 0) expect(config.environments[0]!.customers.filter((c) => c.database)).toHaveLength(Math.ceil(n / 3));
  });

  test('refuses impossible sizes', () => {
    expect(() => generateCustomersConfig(exampleInput(), -1)).toThrow(/0 to 4000/);
  });
});

describe('webhook bundler interface and formatting', () => {
  test('asWebhookBundler accepts a module exporting bundleGitlabWebhook(outDir), and explains anything else', () => {
    const b = asWebhookBundler({ bundleGitlabWebhook: (dir: string) => `${dir}/index.js` });
    expect(typeof b).toBe('object');
    if (typeof b === 'object') expect(b.bundleGitlabWebhook('/out')).toBe('/out/index.js');
    expect(asWebhookBundler({})).toMatch(/does not export bundleGitlabWebhook/);
    expect(asWebhookBundler(undefined)).toMatch(/does not export/);
  });

  test('table and number formatting', () => {
    expect(formatSeconds(1234)).toBe('1.23 s');
    expect(formatSeconds(undefined)).toBe('n/a');
    expect(formatRatio(1.234)).toBe('1.23x');
    expect(formatTable([['figure', 'median'], ['a', '1.00 s'], ['longer name', '10.00 s']]).split('\n')).toEqual([
      'figure        median',
      '-----------  -------',
      'a             1.00 s',
      'longer name  10.00 s',
    ]);
  });
});
