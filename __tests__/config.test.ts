import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ConfigError, loadConfigFile } from '../stacks/model/config/validate';
import { EXAMPLE_CONFIG, exampleConfig, problemsOf } from './support/config';

const ROOT = path.join(__dirname, '..');
/** The node arguments of cdktf.json's `app` command (`node --require esbuild-register main.ts`). */
const APP_NODE_ARGS: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')).app.split(' ').slice(1);
const runTs = (script: string) => [...APP_NODE_ARGS.slice(0, -1), script];

/** Asserts exactly one problem matches the path and message, and that it carries the bad value. */
function expectProblem(problems: ReturnType<typeof problemsOf>, pathStr: string, message: RegExp, value?: unknown) {
  const hits = problems.filter((p) => p.path === pathStr && message.test(p.message));
  if (hits.length !== 1) throw new Error(`expected one problem at ${pathStr} matching ${message}, got:\n${JSON.stringify(problems, null, 1)}`);
  if (value !== undefined) expect(hits[0]!.value).toEqual(value);
}

describe('the example config', () => {
  const cfg = exampleConfig();

  test('validates and resolves defaults', () => {
    expect(cfg.project).toBe('acme-web');
    expect(cfg.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    const [dev, staging, prod] = cfg.environments;
    expect(dev!.natMode).toBe('shared');
    expect(staging!.natMode).toBe('shared');
    expect(prod!.natMode).toBe('per-az');
    expect(dev!.network.nat.instanceType).toBe('t4g.nano');
    expect(dev!.kmsDeletionWindowDays).toBe(7);
    expect(prod!.kmsDeletionWindowDays).toBe(30);
    expect(dev!.security.cloudWatchLogRetentionDays).toBe(3);
    expect(dev!.security.s3LogExpirationDays).toBe(1);
    expect(dev!.ingress.ipv6).toBe(false);
  });

  test('routes each environment only its own branches', () => {
    const routed = (env: string) => cfg.environments.find((e) => e.name === env)!.gitlab.repositories.map((r) => `${r.path}:${r.routedBranches.join()}`);
    expect(routed('dev')).toEqual(['shop/storefront:develop', 'shop/storefront-infra:develop', 'blog/site:main', 'wiki/app:develop']);
    expect(routed('staging')).toEqual(['shop/storefront:release', 'shop/storefront-infra:release']);
    expect(routed('prod')).toEqual(['shop/storefront:main', 'shop/storefront-infra:main', 'wiki/app:main']);
  });

  test('the NAT mode can be forced either way', () => {
    const c = exampleConfig((c) => {
      c.environments[0].network.nat = { mode: 'per-az' };
      c.environments[2].network.nat = { mode: 'shared' };
    });
    expect(c.environments[0]!.natMode).toBe('per-az');
    expect(c.environments[2]!.natMode).toBe('shared');
  });
});

describe('config rejections: each names the field, the bad value and what is allowed', () => {
  test('a malformed CIDR', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.vpcCidr = '10.10.0/16')), 'environments[0] (dev).network.vpcCidr', /expected an IPv4 CIDR block/, '10.10.0/16');
  });

  test('a CIDR with host bits set', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.vpcCidr = '10.10.1.0/16')), 'environments[0] (dev).network.vpcCidr', /host bits set; the network address is 10\.10\.0\.0\/16/, '10.10.1.0/16');
  });

  test('an octet out of range', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.vpcCidr = '10.300.0.0/16')), 'environments[0] (dev).network.vpcCidr', /not an IPv4 CIDR block/, '10.300.0.0/16');
  });

  test('a VPC larger than /16 or smaller than /20', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.vpcCidr = '10.0.0.0/8')), 'environments[0] (dev).network.vpcCidr', /must be \/16 to \/20/, '10.0.0.0/8');
    expectProblem(problemsOf((c) => (c.environments[0].network.vpcCidr = '10.10.0.0/24')), 'environments[0] (dev).network.vpcCidr', /must be \/16 to \/20/, '10.10.0.0/24');
  });

  test('overlapping VPC CIDRs of two environments', () => {
    expectProblem(
      problemsOf((c) => (c.environments[1].network.vpcCidr = '10.10.128.0/17')),
      'environments[1] (staging).network.vpcCidr',
      /overlaps environments\[0\] \(dev\)'s VPC 10\.10\.0\.0\/16/,
      '10.10.128.0/17',
    );
  });

  test('a VPC too small for the plan', () => {
    expectProblem(
      problemsOf((c) => {
        c.environments[0].network.vpcCidr = '10.10.0.0/20';
        c.environments[0].network.subnetPrefixLength = { natted: 22 };
      }),
      'environments[0] (dev).network',
      /VPC 10\.10\.0\.0\/20 is too small: the tier supernets need 4864 addresses, the VPC has 4096/,
    );
  });

  test('a plan that leaves no room for a fourth tier', () => {
    expectProblem(
      problemsOf((c) => (c.environments[0].network.subnetPrefixLength = { natted: 19, private: 20, public: 20 })),
      'environments[0] (dev).network',
      /leaves no room for a fourth tier/,
    );
  });

  test('a subnet prefix AWS does not allow', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.subnetPrefixLength = { public: 29 })), 'environments[0] (dev).network.subnetPrefixLength.public', /<=28/, 29);
  });

  test.each([2, 4])('%i availability zones', (n) => {
    const azs = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c', 'eu-west-1d'].slice(0, n);
    expectProblem(problemsOf((c) => (c.environments[0].availabilityZones = azs)), 'environments[0] (dev).availabilityZones', /exactly 3 availability zones/, azs);
  });

  test('an AZ not in the environment region', () => {
    expectProblem(
      problemsOf((c) => (c.environments[0].availabilityZones = ['eu-west-1a', 'eu-central-1b', 'eu-west-1c'])),
      'environments[0] (dev).availabilityZones[1]',
      /not an availability zone of the environment's region eu-west-1/,
      'eu-central-1b',
    );
  });

  test('the same AZ twice', () => {
    expectProblem(problemsOf((c) => (c.environments[0].availabilityZones = ['eu-west-1a', 'eu-west-1a', 'eu-west-1c'])), 'environments[0] (dev).availabilityZones', /lists "eu-west-1a" twice/);
  });

  test('duplicate environment names', () => {
    expectProblem(problemsOf((c) => (c.environments[1].name = 'dev')), 'environments[1] (dev).name', /duplicate environment name; environments\[0\] \(dev\) already uses it/, 'dev');
  });

  test('an environment name that cannot be part of S3 and IAM names', () => {
    expectProblem(problemsOf((c) => (c.environments[0].name = 'Dev_1')), 'environments[0] (Dev_1).name', /a-z and 0-9/, 'Dev_1');
  });

  test('a project name that cannot be part of S3 and IAM names', () => {
    expectProblem(problemsOf((c) => (c.project = 'Acme_Web')), 'project', /a-z, 0-9 and "-"/, 'Acme_Web');
  });

  test('names that together make a bucket name too long for S3', () => {
    const problems = problemsOf((c) => {
      c.project = 'a-very-long-project1';
      c.environments[1].name = 'staging123';
      c.environments[1].region = 'ap-southeast-2';
      c.environments[1].availabilityZones = ['ap-southeast-2a', 'ap-southeast-2b', 'ap-southeast-2c'];
    });
    expectProblem(problems, 'environments[1] (staging123).name', /bucket name "a-very-long-project1-staging123-artifacts-111111111111-ap-southeast-2" is 69 characters; S3 allows 3 to 63/, 'staging123');
  });

  test('an unknown NAT mode', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.nat = { mode: 'gateway' })), 'environments[0] (dev).network.nat.mode', /expected one of "shared"\|"per-az"/, 'gateway');
  });

  test('a NAT instance type that is not arm64', () => {
    expectProblem(problemsOf((c) => (c.environments[0].network.nat = { instanceType: 't3.nano' })), 'environments[0] (dev).network.nat.instanceType', /arm64 \(Graviton\)/, 't3.nano');
  });

  test('an account id given as a YAML number', () => {
    expectProblem(problemsOf((c) => (c.environments[0].account = 111111111111)), 'environments[0] (dev).account', /quoted string/, 111111111111);
  });

  test('an unknown field', () => {
    expectProblem(problemsOf((c) => (c.environments[0].netwrok = {})), 'environments[0] (dev)', /unknown field: netwrok/, ['netwrok']);
  });

  test('a missing required field', () => {
    expectProblem(problemsOf((c) => delete c.environments[0].region), 'environments[0] (dev).region', /required field is missing/);
  });

  test('a role to assume in another account', () => {
    expectProblem(
      problemsOf((c) => (c.environments[0].assumeRoleArn = 'arn:aws:iam::222222222222:role/deploy')),
      'environments[0] (dev).assumeRoleArn',
      /the role is in account 222222222222, but the environment is in account 111111111111/,
    );
  });

  test('a reserved tag key', () => {
    expectProblem(problemsOf((c) => (c.environments[0].tags = { environment: 'x' })), 'environments[0] (dev).tags.environment', /set by the platform/);
  });

  test('a webhook reserved concurrency out of range', () => {
    expectProblem(problemsOf((c) => (c.gitlab.webhookReservedConcurrency = 0)), 'gitlab.webhookReservedConcurrency', />=1/, 0);
  });

  test('a branch routed to an environment that does not exist', () => {
    expectProblem(problemsOf((c) => (c.gitlab.repositories[0].branches = { main: 'qa' })), 'gitlab.repositories[0].branches.main', /no such environment; expected one of dev, staging, prod/, 'qa');
  });

  test('every problem is reported at once', () => {
    const problems = problemsOf((c) => {
      c.project = 'X';
      c.environments[0].network.vpcCidr = '10.10.0.1/16';
      c.environments[1].availabilityZones = ['eu-west-1a'];
      c.environments[2].network.nat = { mode: 'nope' };
      c.environments[2].name = 'dev';
    });
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'environments[0] (dev).network.vpcCidr',
        'environments[1] (staging).availabilityZones',
        'environments[2] (dev).name',
        'environments[2] (dev).network.nat.mode',
        // prod is gone (renamed), so the branches routed to it are reported too
        'gitlab.repositories[0].branches.main',
        'gitlab.repositories[1].branches.main',
        'gitlab.repositories[3].branches.main',
        'project',
      ].sort(),
    );
  });
});

describe('customer rejections: each names the field, the bad value and what is allowed', () => {
  /** Adds a software repository for a customer, routed like shop's. */
  const withRepo = (c: any, customer: string, branches: Record<string, string> = { develop: 'dev' }) =>
    c.gitlab.repositories.push({ path: `${customer}/app`, kind: 'software', customer, branches });

  test.each([
    ['Shop', /2-20 characters of a-z, 0-9 and "-"/],
    ['a--b', /without "--"/],
    ['a-very-long-customer-name', /2-20 characters/],
    ['x', /2-20 characters/],
  ])('a customer name %j', (name, message) => {
    expectProblem(problemsOf((c) => (c.customers[1].name = name)), `customers[1] (${name}).name`, message, name);
  });

  test('duplicate customer names', () => {
    expectProblem(problemsOf((c) => (c.customers[1].name = 'shop')), 'customers[1] (shop).name', /duplicate customer name; customers\[0\] \(shop\) already uses it/, 'shop');
  });

  test('a repository of an unknown customer', () => {
    expectProblem(problemsOf((c) => (c.gitlab.repositories[0].customer = 'nobody')), 'gitlab.repositories[0].customer', /no such customer; expected one of shop, blog, wiki/, 'nobody');
  });

  test('a customer with no software repository', () => {
    expectProblem(
      problemsOf((c) => c.customers.push({ name: 'lonely' })),
      'customers[3] (lonely).name',
      /has no software repository under gitlab.repositories, so it is in no environment/,
      'lonely',
    );
  });

  test('an override for an environment the customer is not in', () => {
    expectProblem(problemsOf((c) => (c.customers[1].environments = { prod: { web: { minCapacity: 2 } } })), 'customers[1] (blog).environments.prod', /not in this environment; its software branches map to dev/, 'prod');
  });

  test('minCapacity above maxCapacity', () => {
    expectProblem(problemsOf((c) => (c.customers[1].web = { ...c.customers[1].web, minCapacity: 3, maxCapacity: 2 })), 'customers[1] (blog).web.minCapacity', /more than maxCapacity 2 in dev/, 3);
  });

  test('desiredCapacity outside min..max', () => {
    expectProblem(problemsOf((c) => (c.customers[1].web = { ...c.customers[1].web, desiredCapacity: 5 })), 'customers[1] (blog).web.desiredCapacity', /from minCapacity 1 to maxCapacity 2 in dev/, 5);
  });

  test('a single web server in production', () => {
    expectProblem(problemsOf((c) => (c.customers[0].environments.prod.web.minCapacity = 1)), 'customers[0] (shop).environments.prod.web.minCapacity', /prod is production: at least 2 web servers/, 1);
  });

  test('production backups shorter than 7 days', () => {
    expectProblem(problemsOf((c) => (c.customers[0].database.backupRetentionDays = 3)), 'customers[0] (shop).database.backupRetentionDays', /prod is production: backups are kept at least 7 days/, 3);
  });

  test.each([
    [{ engine: 'postgres', version: '9.6' }, 'customers[0] (shop).database.version', /postgres 9 is not supported; expected a version of 13, 14, 15, 16, 17/],
    [{ engine: 'mysql', version: '5.7' }, 'customers[0] (shop).database.version', /mysql 5.7 is not supported; expected a version of 8.0, 8.4/],
    [{ engine: 'oracle' }, 'customers[0] (shop).database.engine', /postgres|mysql/],
  ])('database %j', (database, at, message) => {
    expectProblem(problemsOf((c) => (c.customers[0].database = database)), at, message);
  });

  test.each([
    ['an app port below 1024', { appPort: 80 }, 'appPort', /1024-65535/],
    ['an x86 type written wrong', { instanceType: 'large' }, 'instanceType', /EC2 instance type/],
    ['a health check path without "/"', { healthCheckPath: 'healthz' }, 'healthCheckPath', /starting with "\/"/],
    ['a matcher that is not HTTP codes', { healthCheckMatcher: 'ok' }, 'healthCheckMatcher', /HTTP codes/],
    ['a root volume below 8 GiB', { rootVolumeGiB: 4 }, 'rootVolumeGiB', /at least 8 GiB/],
  ])('%s', (_what, web, field, message) => {
    expectProblem(problemsOf((c) => (c.customers[1].web = { ...c.customers[1].web, ...web })), `customers[1] (blog).web.${field}`, message);
  });

  test('a custom domain with both a zone and a certificate, or neither', () => {
    const both = { name: 'blog.example.org', hostedZoneId: 'Z0BLOG0000000000000001', certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d' };
    expectProblem(problemsOf((c) => (c.customers[1].domains = [both])), 'customers[1] (blog).domains[0].hostedZoneId', /exactly one of hostedZoneId .* or certificateArn/);
    expectProblem(problemsOf((c) => (c.customers[1].domains = [{ name: 'blog.example.org' }])), 'customers[1] (blog).domains[0].hostedZoneId', /exactly one of hostedZoneId/);
  });

  test('a custom domain certificate in another region', () => {
    const cert = 'arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
    expectProblem(problemsOf((c) => (c.customers[1].domains = [{ name: 'blog.example.org', certificateArn: cert }])), 'customers[1] (blog).domains[0].certificateArn', /in us-east-1; the ALB of dev needs one in eu-west-1/, cert);
  });

  test('a custom domain inside the environment domain', () => {
    expectProblem(problemsOf((c) => (c.customers[1].domains = [{ name: 'www.dev.web.example.com', hostedZoneId: 'Z0DEV0000000000000001' }])), 'customers[1] (blog).domains[0].name', /inside dev's domain dev.web.example.com/, 'www.dev.web.example.com');
  });

  test('a custom domain in two environments', () => {
    expectProblem(
      problemsOf((c) => (c.customers[0].domains = [{ name: 'shop.example.org', hostedZoneId: 'Z0SHOP0000000000000001' }])),
      'customers[0] (shop).domains',
      /already uses the custom domain shop.example.org; a custom domain serves one environment/,
      'shop.example.org',
    );
  });

  test('a host served by two customers', () => {
    expectProblem(problemsOf((c) => (c.customers[1].domains = [{ name: 'wiki.example.org', hostedZoneId: 'Z0WIKI00000000000001' }])), 'customers[2] (wiki).domains', /already uses the custom domain wiki.example.org/);
  });

  test('two customers whose names give the same rule priority', () => {
    // c182 and c330 both map to 20477 (found by search; the mapping is SHA-256 of the name).
    const problems = problemsOf((c) => {
      c.customers.push({ name: 'c182' }, { name: 'c330' });
      withRepo(c, 'c182');
      withRepo(c, 'c330');
    });
    expectProblem(problems, 'customers[4] (c330).rulePriority', /customers\[3\] \(c182\) and customers\[4\] \(c330\) both get listener rule priority 20477 in dev; set rulePriority on one of them/, 20477);
  });

  test('a configured rule priority resolves the collision', () => {
    const cfg = exampleConfig((c) => {
      c.customers.push({ name: 'c182' }, { name: 'c330', rulePriority: 1001 });
      withRepo(c, 'c182');
      withRepo(c, 'c330');
    });
    const dev = cfg.environments[0]!.customers;
    expect(dev.find((x) => x.name === 'c330')).toMatchObject({ rulePriority: 1001, rulePriorityConfigured: true });
  });

  test.each([999, 50001, 1.5])('a configured rule priority of %p', (p) => {
    expectProblem(problemsOf((c) => (c.customers[1].rulePriority = p)), 'customers[1] (blog).rulePriority', /.+/, p);
  });

  test('more customers on one shard than one ALB takes', () => {
    const problems = problemsOf((c) => {
      for (let i = 0; i < 98; i++) {
        c.customers.push({ name: `t${i}`, rulePriority: 2000 + i });
        withRepo(c, `t${i}`);
      }
    });
    expect(problems).toContainEqual(expect.objectContaining({ path: 'customers', value: 101, message: expect.stringMatching(/dev shard 0 would take 101 target groups .*Overflowing: t97;/) }));
  });
});

describe('loading files', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));

  test('YAML syntax errors and duplicate keys are reported, not thrown raw', () => {
    const f = path.join(tmp, 'dup.yaml');
    fs.writeFileSync(f, 'project: a\nproject: b\n');
    expect(() => loadConfigFile(f)).toThrow(ConfigError);
    expect(() => loadConfigFile(f)).toThrow(/Map keys must be unique/);
  });

  test('JSON files are accepted', () => {
    const f = path.join(tmp, 'c.json');
    fs.writeFileSync(f, JSON.stringify(require('yaml').parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8'))));
    expect(loadConfigFile(f).environments).toHaveLength(3);
  });

  test('a missing file is a config error', () => {
    expect(() => loadConfigFile(path.join(tmp, 'nope.yaml'))).toThrow(/cannot read the config file/);
  });

  test('main.ts with a bad config exits 1, prints every problem without a stack trace, and writes no stacks', () => {
    const f = path.join(tmp, 'bad.yaml');
    const text = fs.readFileSync(EXAMPLE_CONFIG, 'utf8').replace('vpcCidr: 10.10.0.0/16', 'vpcCidr: 10.10.0.0/8').replace('mode: shared', 'mode: gateway');
    fs.writeFileSync(f, text);
    const outdir = path.join(tmp, 'out');
    const r = spawnSync(process.execPath, runTs('main.ts'), {
      cwd: ROOT,
      env: { ...process.env, PLATFORM_CONFIG: f, CDKTF_OUTDIR: outdir },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/2 problems/);
    expect(r.stderr).toMatch(/environments\[0\] \(dev\)\.network\.vpcCidr: got "10\.10\.0\.0\/8"/);
    expect(r.stderr).toMatch(/environments\[1\] \(staging\)\.network\.nat\.mode: got "gateway"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(outdir)).toBe(false);
  });
});

describe('tooling around the config', () => {
  test('config/platform.schema.json is up to date (npm run config-schema) and accepts the example', () => {
    const { configJsonSchema } = require('../stacks/model/config/json-schema');
    const committed = fs.readFileSync(path.join(ROOT, 'config', 'platform.schema.json'), 'utf8');
    expect(committed).toBe(configJsonSchema());
    const schema = JSON.parse(committed);
    expect(schema.required).toEqual(expect.arrayContaining(['project', 'environments']));
    expect(schema.properties.environments.items.properties.network.properties.nat.properties.mode.enum).toEqual(['shared', 'per-az']);
  });

  test('npm run ip-plan prints every subnet of every environment with usable addresses and supernet', () => {
    const r = spawnSync(process.execPath, runTs('scripts/ip-plan.ts'), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PLATFORM_CONFIG: '' } });
    expect(r.status).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^(dev|staging|prod)\s+(public|natted|private)\s/.test(l));
    expect(rows).toHaveLength(3 * 3 * 4);
    expect(r.stdout).toMatch(/^prod\s+public\s+eu-west-1b\s+10\.30\.81\.0\/24\s+251\s+10\.30\.80\.0\/22$/m);
  });
});
