/**
 * The exact problems a user sees for a bad config: path, value and message of each, the error
 * text they are printed as, and the defaults a good config resolves to. config.test.ts checks that
 * each rejection happens; these tests pin what it says, so that a changed path, a lost value, a
 * message that no longer names what is allowed, or a check that fires one step too early or too
 * late fails a test. Pure function calls, no synth: every case validates one mutated copy of the
 * example config. Everything is computed inside the tests (not in describe bodies), so that a
 * mutation run sees each test exercise the code.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, ConfigProblem, formatProblems, formatValue, loadConfigFile, validateConfig } from '../stacks/model/config/validate';
import { artifactBucketName, customerNames, roleNames } from '../stacks/model/naming';
import { exampleConfig, exampleInput, problemsOf } from './support/config';

const CERT_EU_WEST_1 = 'arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const CERT_US_EAST_1 = 'arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

/** Renames every branch target `from` to `to` (after renaming an environment). */
function reroute(c: any, from: string, to: string): void {
  for (const r of c.gitlab.repositories) for (const b of Object.keys(r.branches)) if (r.branches[b] === from) r.branches[b] = to;
}

/** The ConfigError thrown by `fn` (fails the test when it throws nothing or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** Asserts the mutated example config validates. */
function accepts(mutate: (c: any) => void): void {
  expect(() => exampleConfig(mutate)).not.toThrow();
}

describe('the error text', () => {
  test.each([
    [undefined, '(missing)'],
    [null, 'null'],
    ['eu-west-1', '"eu-west-1"'],
    [{ vpcCidr: '10.10.0.0/20' }, '{"vpcCidr":"10.10.0.0/20"}'],
    // 78 characters quoted are 80: kept whole; 79 quoted are 81: cut to 77 and "..."
    ['a'.repeat(78), `"${'a'.repeat(78)}"`],
    ['a'.repeat(79), `"${'a'.repeat(76)}...`],
  ])('formatValue(%j) is %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  test('formatProblems: a head with the count ("1 problem", "2 problems"), then one line per problem', () => {
    const one: ConfigProblem[] = [{ path: 'project', value: 'X', message: 'expected a-z' }];
    expect(formatProblems('config/platform.yaml', one)).toBe('Invalid platform config config/platform.yaml: 1 problem\n  - project: got "X": expected a-z');
    const two: ConfigProblem[] = [...one, { path: 'environments[0] (dev).region', value: undefined, message: 'required field is missing (expected string)' }];
    expect(formatProblems('c.yaml', two)).toBe(
      [
        'Invalid platform config c.yaml: 2 problems',
        '  - project: got "X": expected a-z',
        '  - environments[0] (dev).region: got (missing): required field is missing (expected string)',
      ].join('\n'),
    );
  });

  test('ConfigError carries the source and the problems, and its message is the formatted list', () => {
    const e = configErrorOf(() => validateConfig({ ...exampleInput(), project: 'X' }));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ConfigError');
    expect(e.source).toBe('(inline)');
    expect(e.problems).toEqual([{ path: 'project', value: 'X', message: 'expected 2-20 characters of a-z, 0-9 and "-", starting with a letter, not ending with "-" and without "--"' }]);
    expect(e.message).toBe(formatProblems('(inline)', e.problems));
  });
});

describe('loadConfigFile', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-messages-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };

  test('a YAML syntax error: one "(syntax)" problem with the first line of the parser message, named by the path relative to the working directory', () => {
    const f = write('syntax.yaml', 'project: [a\n');
    const e = configErrorOf(() => loadConfigFile(f));
    expect(e.source).toBe(path.relative(process.cwd(), f));
    expect(e.problems).toEqual([{ path: '(syntax)', value: undefined, message: 'Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:' }]);
    expect(e.message).toBe(
      `Invalid platform config ${path.relative(process.cwd(), f)}: 1 problem\n  - (syntax): got (missing): Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:`,
    );
  });

  test('duplicate keys are errors, each reported', () => {
    const e = configErrorOf(() => loadConfigFile(write('dup.yaml', 'project: a\nproject: b\ngitlab: {}\ngitlab: {}\n')));
    expect(e.problems).toEqual([
      { path: '(syntax)', value: undefined, message: 'Map keys must be unique at line 2, column 1:' },
      { path: '(syntax)', value: undefined, message: 'Map keys must be unique at line 4, column 1:' },
    ]);
    expect(e.message.split('\n')[0]).toMatch(/: 2 problems$/);
  });

  test('an unreadable file: one "(file)" problem with the path and the system error', () => {
    const f = path.join(tmp, 'nope.yaml');
    const e = configErrorOf(() => loadConfigFile(f));
    expect(e.problems).toEqual([{ path: '(file)', value: f, message: `cannot read the config file: ENOENT: no such file or directory, open '${f}'` }]);
  });

  test('the working directory itself (an empty relative path) is named by the path as given', () => {
    const e = configErrorOf(() => loadConfigFile(process.cwd()));
    expect(e.source).toBe(process.cwd());
    expect(e.problems).toEqual([expect.objectContaining({ path: '(file)', value: process.cwd() })]);
  });

  test('a valid file resolves with its relative path as the source', () => {
    const f = write('ok.yaml', fs.readFileSync(path.join(__dirname, '..', 'config', 'platform.yaml'), 'utf8'));
    expect(loadConfigFile(f).source).toBe(path.relative(process.cwd(), f));
  });
});

describe('field paths', () => {
  test.each([
    ['the config is not an object', null, [{ path: '(root)', value: null, message: 'Invalid input: expected object, received null' }]],
    ['an environment is null', (c: any) => c.environments.push(null), [{ path: 'environments[3]', value: null, message: 'Invalid input: expected object, received null' }]],
    ['a customer is null', (c: any) => c.customers.push(null), [{ path: 'customers[3]', value: null, message: 'Invalid input: expected object, received null' }]],
    [
      'an AZ is a number: the index after the environment label',
      (c: any) => (c.environments[0].availabilityZones = ['eu-west-1a', 5, 'eu-west-1c']),
      [{ path: 'environments[0] (dev).availabilityZones[1]', value: 5, message: 'Invalid input: expected string, received number' }],
    ],
    [
      'a custom domain name is a number: the index after the customer label',
      (c: any) => (c.customers[1].domains = [{ name: 'blog.example.org', hostedZoneId: 'Z0BLOG0000000000000001' }, { name: 5 }]),
      [{ path: 'customers[1] (blog).domains[1].name', value: 5, message: 'Invalid input: expected string, received number' }],
    ],
  ])('%s', (_what, mutate, problems) => {
    const input = typeof mutate === 'function' ? mutateAndReturn(mutate) : mutate;
    expect(configErrorOf(() => validateConfig(input)).problems).toEqual(problems);
  });

  test('names that are not strings are left out of the labels (and out of the lists of known names)', () => {
    const problems = problemsOf((c) => {
      c.environments[2].name = 5;
      c.customers[2].name = 5;
    });
    expect(problems).toEqual([
      { path: 'customers[2].name', value: 5, message: 'Invalid input: expected string, received number' },
      { path: 'environments[2].name', value: 5, message: 'Invalid input: expected string, received number' },
      { path: 'gitlab.repositories[0].branches.main', value: 'prod', message: 'no such environment; expected one of dev, staging' },
      { path: 'gitlab.repositories[1].branches.main', value: 'prod', message: 'no such environment; expected one of dev, staging' },
      { path: 'gitlab.repositories[3].branches.main', value: 'prod', message: 'no such environment; expected one of dev, staging' },
      { path: 'gitlab.repositories[3].customer', value: 'wiki', message: 'no such customer; expected one of shop, blog' },
    ]);
  });
});

/** Applies a mutation to a fresh example input and returns it. */
function mutateAndReturn(mutate: (c: any) => void): any {
  const c = exampleInput();
  mutate(c);
  return c;
}

describe('shape problems', () => {
  test('several unknown fields are listed together', () => {
    expect(problemsOf((c) => Object.assign(c.environments[0], { a: 1, b: 2 }))).toEqual([
      { path: 'environments[0] (dev)', value: ['a', 'b'], message: 'unknown fields: a, b; check the spelling against the config reference in the README' },
    ]);
  });

  test('a missing value of a list of options keeps the list (only a missing typed field says "required field is missing")', () => {
    expect(problemsOf((c) => delete c.gitlab.repositories[0].kind)).toEqual([
      { path: 'gitlab.repositories[0].kind', value: undefined, message: 'Invalid option: expected one of "software"|"infrastructure"' },
    ]);
  });

  test('"bootstrap" is not an environment name (the state-bucket stack has it)', () => {
    const problems = problemsOf((c) => {
      c.environments[0].name = 'bootstrap';
      c.gitlab.repositories = [c.gitlab.repositories[2]];
      c.customers = [c.customers[1]];
    });
    expect(problems).toEqual([
      { path: 'environments[0] (bootstrap).name', value: 'bootstrap', message: '"bootstrap" is the name of the state-bucket stack; choose another environment name' },
      { path: 'gitlab.repositories[0].branches.main', value: 'dev', message: 'no such environment; expected one of bootstrap, staging, prod' },
    ]);
  });

  test('a repository must map at least one branch', () => {
    expect(problemsOf((c) => (c.gitlab.repositories[2].branches = {}))).toEqual([{ path: 'gitlab.repositories[2].branches', value: {}, message: 'map at least one branch to an environment' }]);
  });

  test('an environment without a network: only the missing field', () => {
    expect(problemsOf((c) => delete c.environments[0].network)).toEqual([{ path: 'environments[0] (dev).network', value: undefined, message: 'required field is missing (expected object)' }]);
  });

  test('an environment without an ingress: only the missing field', () => {
    expect(problemsOf((c) => delete c.environments[0].ingress)).toEqual([{ path: 'environments[0] (dev).ingress', value: undefined, message: 'required field is missing (expected object)' }]);
  });

  test('a region that is not a string: only the type problem (the AZ checks need a region)', () => {
    expect(problemsOf((c) => (c.environments[0].region = 5))).toEqual([{ path: 'environments[0] (dev).region', value: 5, message: 'Invalid input: expected string, received number' }]);
  });

  test('a project that is not a string is not used for the name checks', () => {
    // As a string, this project with staging123 in ap-southeast-2 makes a bucket name too long.
    const problems = problemsOf((c) => {
      c.project = ['a-very-long-project1'];
      c.environments[1].name = 'staging123';
      c.environments[1].region = 'ap-southeast-2';
      c.environments[1].availabilityZones = ['ap-southeast-2a', 'ap-southeast-2b', 'ap-southeast-2c'];
      reroute(c, 'staging', 'staging123');
    });
    expect(problems).toEqual([{ path: 'project', value: ['a-very-long-project1'], message: 'Invalid input: expected string, received array' }]);
  });
});

describe('the VPC CIDR', () => {
  const at = 'environments[0] (dev).network.vpcCidr';
  const SIZE = 'the VPC prefix must be /16 to /20 (AWS allows /16 to /28; the 9-subnet plan needs at least a /20)';

  test.each([
    ['10.10.0.0/16', []],
    ['10.10.0.0/20', []],
    ['10.10.0.0/15', [{ path: at, value: '10.10.0.0/15', message: SIZE }]],
    ['10.10.0.0/21', [{ path: at, value: '10.10.0.0/21', message: SIZE }]],
    // Too big: not used for the overlap check either (10.0.0.0/8 would contain staging's and prod's VPCs).
    ['10.0.0.0/8', [{ path: at, value: '10.0.0.0/8', message: SIZE }]],
    ['10.300.0.0/16', [{ path: at, value: '10.300.0.0/16', message: 'is not an IPv4 CIDR block (a.b.c.d/n)' }]],
    ['10.10.1.0/16', [{ path: at, value: '10.10.1.0/16', message: 'has host bits set; the network address is 10.10.0.0/16' }]],
    // Not CIDR-shaped: only the shape problem, no second one from the CIDR parser.
    ['x10.10.0.0/16', [{ path: at, value: 'x10.10.0.0/16', message: 'expected an IPv4 CIDR block such as 10.10.0.0/16' }]],
    ['10.10.0.0/16x', [{ path: at, value: '10.10.0.0/16x', message: 'expected an IPv4 CIDR block such as 10.10.0.0/16' }]],
    [['10.10.0.0/16'], [{ path: at, value: ['10.10.0.0/16'], message: 'Invalid input: expected string, received array' }]],
    [undefined, [{ path: at, value: undefined, message: 'required field is missing (expected string)' }]],
  ])('%j', (cidr, problems) => {
    const input = mutateAndReturn((c) => (c.environments[0].network.vpcCidr = cidr));
    if (problems.length === 0) expect(validateConfig(input).environments[0]!.network.vpcCidr).toBe(cidr);
    else expect(configErrorOf(() => validateConfig(input)).problems).toEqual(problems);
  });

  test('a bad CIDR after a good one is not compared with it', () => {
    expect(problemsOf((c) => (c.environments[1].network.vpcCidr = '10.20.0.0/8'))).toEqual([
      { path: 'environments[1] (staging).network.vpcCidr', value: '10.20.0.0/8', message: 'has host bits set; the network address is 10.0.0.0/8' },
    ]);
  });

  test('a plan that does not fit names the VPC and the subnet sizes', () => {
    const problems = problemsOf((c) => {
      c.environments[0].network.vpcCidr = '10.10.0.0/20';
      c.environments[0].network.subnetPrefixLength = { natted: 22 };
    });
    expect(problems).toEqual([
      {
        path: 'environments[0] (dev).network',
        value: { vpcCidr: '10.10.0.0/20', subnetPrefixLength: { natted: 22 } },
        message: 'VPC 10.10.0.0/20 is too small: the tier supernets need 4864 addresses, the VPC has 4096; use a larger VPC or smaller subnetPrefixLength values (larger numbers)',
      },
    ]);
  });
});

describe('region, AZs, ingress, role and tags of an environment', () => {
  test('a region the ALB log delivery table does not know', () => {
    const problems = problemsOf((c) => {
      c.environments[0].region = 'mx-central-9';
      c.environments[0].availabilityZones = ['mx-central-9a', 'mx-central-9b', 'mx-central-9c'];
    });
    expect(problems).toEqual([
      {
        path: 'environments[0] (dev).region',
        value: 'mx-central-9',
        message:
          'the platform does not know how ELB writes ALB access logs in this region; known: af-south-1, ap-east-1, ap-east-2, ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-south-1, ap-south-2, ap-southeast-1, ap-southeast-2, ap-southeast-3, ap-southeast-4, ap-southeast-5, ap-southeast-6, ap-southeast-7, ca-central-1, ca-west-1, cn-north-1, cn-northwest-1, eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3, il-central-1, me-central-1, me-south-1, mx-central-1, sa-east-1, us-east-1, us-east-2, us-gov-east-1, us-gov-west-1, us-west-1, us-west-2 (a new region is added to stacks/model/elb-log-delivery.ts)',
      },
    ]);
  });

  test('a malformed region: its shape problem, and the AZs that do not start with it (no log-delivery problem)', () => {
    const notIn = (i: number) => ({
      path: `environments[0] (dev).availabilityZones[${i}]`,
      value: `eu-west-1${'abc'[i]}`,
      message: "is not an availability zone of the environment's region eu-west (expected eu-westa, eu-westb, ...)",
    });
    expect(problemsOf((c) => (c.environments[0].region = 'eu-west'))).toEqual([
      { path: 'environments[0] (dev).region', value: 'eu-west', message: 'expected an AWS region name such as eu-west-1' },
      notIn(0),
      notIn(1),
      notIn(2),
    ]);
  });

  test('the same AZ twice', () => {
    const azs = ['eu-west-1a', 'eu-west-1b', 'eu-west-1a'];
    expect(problemsOf((c) => (c.environments[0].availabilityZones = azs))).toEqual([
      { path: 'environments[0] (dev).availabilityZones', value: azs, message: 'lists "eu-west-1a" twice; expected 3 different AZs' },
    ]);
  });

  test.each([
    [
      'both a hosted zone and a certificate',
      { certificateArn: CERT_EU_WEST_1 },
      [{ path: 'environments[0] (dev).ingress.certificateArn', value: CERT_EU_WEST_1, message: 'give either hostedZoneId (a new certificate validated by DNS) or certificateArn (an existing certificate), not both' }],
    ],
    [
      'neither a hosted zone nor a certificate',
      { hostedZoneId: undefined },
      [{ path: 'environments[0] (dev).ingress.hostedZoneId', value: undefined, message: 'give either hostedZoneId (a new certificate validated by DNS) or certificateArn (an existing certificate)' }],
    ],
    [
      'a certificate of another region',
      { hostedZoneId: undefined, certificateArn: CERT_US_EAST_1 },
      [{ path: 'environments[0] (dev).ingress.certificateArn', value: CERT_US_EAST_1, message: 'the certificate is in us-east-1; an ALB needs a certificate in its own region eu-west-1' }],
    ],
    ['a certificate of its own region alone', { hostedZoneId: undefined, certificateArn: CERT_EU_WEST_1 }, []],
  ])('ingress with %s', (_what, ingress, problems) => {
    const input = mutateAndReturn((c) => Object.assign(c.environments[0].ingress, ingress));
    if (problems.length === 0) expect(validateConfig(input).environments[0]!.ingress.certificateArn).toBe(CERT_EU_WEST_1);
    else expect(configErrorOf(() => validateConfig(input)).problems).toEqual(problems);
  });

  test('a role to assume in the environment account is accepted; in another account it is not', () => {
    accepts((c) => (c.environments[0].assumeRoleArn = 'arn:aws:iam::111111111111:role/deploy'));
    expect(problemsOf((c) => (c.environments[0].assumeRoleArn = 'arn:aws:iam::222222222222:role/deploy'))).toEqual([
      {
        path: 'environments[0] (dev).assumeRoleArn',
        value: 'arn:aws:iam::222222222222:role/deploy',
        message: "the role is in account 222222222222, but the environment is in account 111111111111; the provider must assume a role in the environment's account",
      },
    ]);
  });

  test('a reserved tag key lists all reserved keys', () => {
    expect(problemsOf((c) => (c.environments[0].tags = { project: 'x', team: 'web' }))).toEqual([
      { path: 'environments[0] (dev).tags.project', value: 'x', message: '"project" is set by the platform on every resource; choose another tag key (reserved: project, environment, managed-by, customer)' },
    ]);
  });

  test('ALB names are checked for every shard of the environment, and only for those', () => {
    const problems = problemsOf((c) => {
      c.project = 'internal';
      c.environments[0].ingress.shards = 2;
    });
    const alb = (i: number, env: string, name: string) => ({
      path: `environments[${i}] (${env}).name`,
      value: env,
      message: `the ALB name "${name}" may not start with "internal-"; change the project or environment name`,
    });
    expect(problems).toEqual([alb(0, 'dev', 'internal-dev'), alb(0, 'dev', 'internal-dev-s1'), alb(1, 'staging', 'internal-staging'), alb(2, 'prod', 'internal-prod')]);
  });
});

describe('checks across environments', () => {
  test('environments without a name are not duplicates of each other, and are not branch targets', () => {
    const problems = problemsOf((c) => {
      delete c.environments[1].name;
      delete c.environments[2].name;
    });
    const noSuch = (repo: number, branch: string, env: string) => ({ path: `gitlab.repositories[${repo}].branches.${branch}`, value: env, message: 'no such environment; expected one of dev' });
    expect(problems).toEqual([
      { path: 'environments[1].name', value: undefined, message: 'required field is missing (expected string)' },
      { path: 'environments[2].name', value: undefined, message: 'required field is missing (expected string)' },
      noSuch(0, 'release', 'staging'),
      noSuch(0, 'main', 'prod'),
      noSuch(1, 'release', 'staging'),
      noSuch(1, 'main', 'prod'),
      noSuch(3, 'main', 'prod'),
    ]);
  });

  test('the ALBs of all environments in one account and region against the smallest quota given: 3 of 3 fit, 3 of 2 do not', () => {
    accepts((c) => (c.environments[0].ingress.albsPerRegion = 3));
    expect(problemsOf((c) => (c.environments[0].ingress.albsPerRegion = 2))).toEqual([
      {
        path: 'environments',
        value: 3,
        message: 'account 111111111111 in eu-west-1 would have 3 ALBs (dev: 1, staging: 1, prod: 1); its ALBs-per-region quota is 2 (ingress.albsPerRegion, default 50: raise the quota first, then the setting)',
      },
    ]);
  });
});

describe('gitlab repositories', () => {
  test('the same repository twice (paths compare case-insensitively)', () => {
    expect(problemsOf((c) => c.gitlab.repositories.push({ path: 'Shop/Storefront', kind: 'software', customer: 'shop', branches: { feature: 'dev' } }))).toEqual([
      { path: 'gitlab.repositories[4].path', value: 'Shop/Storefront', message: 'duplicate repository; gitlab.repositories[0] already lists it' },
    ]);
  });

  test('two repositories of one customer and kind uploading the same branch to one environment', () => {
    expect(problemsOf((c) => c.gitlab.repositories.push({ path: 'shop/other', kind: 'software', customer: 'shop', branches: { develop: 'dev', hotfix: 'dev' } }))).toEqual([
      {
        path: 'gitlab.repositories[4].branches.develop',
        value: 'dev',
        message: 'gitlab.repositories[0] (shop/storefront) already uploads to software/shop/develop.zip in dev; two repositories of one customer and kind cannot share a branch name in one environment',
      },
    ]);
  });

  test('branches routed when no environment is defined', () => {
    const problems = problemsOf((c) => {
      c.environments = [];
      c.gitlab.repositories = [c.gitlab.repositories[2]];
      c.customers = [c.customers[1]];
    });
    expect(problems).toEqual([
      { path: 'environments', value: [], message: 'expected at least one environment' },
      { path: 'gitlab.repositories[0].branches.main', value: 'dev', message: 'no such environment; expected one of (none defined)' },
    ]);
  });
});

describe('customers', () => {
  test('customers without a name are not duplicates of each other, and are not known to the repositories', () => {
    const problems = problemsOf((c) => {
      delete c.customers[1].name;
      delete c.customers[2].name;
    });
    expect(problems).toEqual([
      { path: 'customers[1].name', value: undefined, message: 'required field is missing (expected string)' },
      { path: 'customers[2].name', value: undefined, message: 'required field is missing (expected string)' },
      { path: 'gitlab.repositories[2].customer', value: 'blog', message: 'no such customer; expected one of shop' },
      { path: 'gitlab.repositories[3].customer', value: 'wiki', message: 'no such customer; expected one of shop' },
    ]);
  });

  test('repositories when no customer is defined', () => {
    const problems = problemsOf((c) => {
      c.customers = [];
      c.gitlab.repositories = [c.gitlab.repositories[2]];
    });
    expect(problems).toEqual([{ path: 'gitlab.repositories[0].customer', value: 'blog', message: 'no such customer; expected one of (none under customers:)' }]);
  });

  test('an override for an environment the customer is not in lists the environments it is in', () => {
    expect(problemsOf((c) => (c.customers[2].environments.staging = { web: { minCapacity: 1 } }))).toEqual([
      { path: 'customers[2] (wiki).environments.staging', value: 'staging', message: 'the customer is not in this environment; its software branches map to dev, prod' },
    ]);
  });

  test('a customer in no environment, with an override', () => {
    expect(problemsOf((c) => c.customers.push({ name: 'lonely', environments: { dev: {} } }))).toEqual([
      {
        path: 'customers[3] (lonely).name',
        value: 'lonely',
        message: 'the customer has no software repository under gitlab.repositories, so it is in no environment; add one (kind: software, customer: this name)',
      },
      { path: 'customers[3] (lonely).environments.dev', value: 'dev', message: 'the customer is not in this environment; its software branches map to (none)' },
    ]);
  });

  test('only software repositories put a customer in an environment', () => {
    const cfg = exampleConfig((c) => c.gitlab.repositories.push({ path: 'blog/infra', kind: 'infrastructure', customer: 'blog', branches: { main: 'prod' } }));
    expect(cfg.environments.map((e) => [e.name, e.customers.map((x) => x.name)])).toEqual([
      ['dev', ['shop', 'blog', 'wiki']],
      ['staging', ['shop']],
      ['prod', ['shop', 'wiki']],
    ]);
  });

  test('per-environment custom domains are checked like the top-level ones', () => {
    expect(problemsOf((c) => (c.customers[2].environments.prod.domains[0].certificateArn = CERT_EU_WEST_1))).toEqual([
      {
        path: 'customers[2] (wiki).environments.prod.domains[0].hostedZoneId',
        value: 'Z0WIKI00000000000001',
        message: 'give exactly one of hostedZoneId (a new certificate validated by DNS) or certificateArn (an existing certificate)',
      },
    ]);
  });

  test.each([
    ['the top-level shard', (c: any) => (c.customers[1].shard = 1), 'customers[1] (blog).shard', 'blog', 'dev'],
    ['a per-environment shard', (c: any) => (c.customers[0].environments.prod.shard = 1), 'customers[0] (shop).environments.prod.shard', 'shop', 'prod'],
  ])('%s must be below the environment\'s shards', (_what, mutate, at, customer, env) => {
    expect(problemsOf(mutate)).toEqual([
      {
        path: at,
        value: 1,
        message: `${env} has 1 load-balancer shard(s), numbered 0-0; pick one of them (npm run customers -- --propose ${customer} --env ${env}) or raise ingress.shards of ${env}`,
      },
    ]);
    accepts((c) => {
      mutate(c);
      c.environments.find((e: any) => e.name === env).ingress.shards = 2;
    });
  });

  test('one custom domain for two customers in one environment: the domain and the host are both taken', () => {
    const problems = problemsOf((c) => {
      c.customers[0].environments.dev = { domains: [{ name: 'x.example.org', hostedZoneId: 'Z0X0000000000000000001' }] };
      c.customers[1].domains = [{ name: 'x.example.org', hostedZoneId: 'Z0X0000000000000000001' }];
    });
    expect(problems).toEqual([
      {
        path: 'customers[1] (blog).domains',
        value: 'x.example.org',
        message: 'customers[0] (shop) in dev already uses the custom domain x.example.org; a custom domain serves one environment (its DNS record and certificate exist once): list it under environments.<env>.domains',
      },
      { path: 'customers[1] (blog).domains', value: 'x.example.org', message: 'customers[0] (shop) already serves the host x.example.org in dev; a host name belongs to one customer' },
    ]);
  });

  test('a custom domain equal to the environment domain', () => {
    expect(problemsOf((c) => (c.customers[1].domains = [{ name: 'dev.web.example.com', hostedZoneId: 'Z0DEV0000000000000001' }]))).toEqual([
      {
        path: 'customers[1] (blog).domains[0].name',
        value: 'dev.web.example.com',
        message: "is inside dev's domain dev.web.example.com; custom domains are names outside it (the customer already has blog.dev.web.example.com)",
      },
    ]);
  });

  test('a custom domain with a certificate of the environment region is accepted', () => {
    accepts((c) => (c.customers[1].domains = [{ name: 'blog.example.org', certificateArn: CERT_EU_WEST_1 }]));
  });

  test.each([
    ['a per-environment database version', (c: any) => (c.customers[0].environments.prod.database.version = '9.6'), 'customers[0] (shop).environments.prod.database.version', '9.6', 'postgres 9 is not supported; expected a version of 13, 14, 15, 16, 17'],
    ['a version without an engine (postgres)', (c: any) => (c.customers[0].database = { version: '12' }), 'customers[0] (shop).database.version', '12', 'postgres 12 is not supported; expected a version of 13, 14, 15, 16, 17'],
  ])('%s', (_what, mutate, at, value, message) => {
    expect(problemsOf(mutate)).toEqual([{ path: at, value, message }]);
  });

  const web = (w: object) => (c: any) => (c.customers[1].web = { ...c.customers[1].web, ...w });
  test.each([
    ['min = max = desired', { minCapacity: 2, maxCapacity: 2, desiredCapacity: 2 }, []],
    ['desired = max', { minCapacity: 1, maxCapacity: 3, desiredCapacity: 3 }, []],
    [
      'min > max (no desired fits then)',
      { minCapacity: 3, maxCapacity: 2, desiredCapacity: 2 },
      [
        { path: 'customers[1] (blog).web.minCapacity', value: 3, message: 'is more than maxCapacity 2 in dev' },
        { path: 'customers[1] (blog).web.desiredCapacity', value: 2, message: 'must be from minCapacity 3 to maxCapacity 2 in dev' },
      ],
    ],
    ['desired < min', { minCapacity: 2, maxCapacity: 3, desiredCapacity: 1 }, [{ path: 'customers[1] (blog).web.desiredCapacity', value: 1, message: 'must be from minCapacity 2 to maxCapacity 3 in dev' }]],
    ['desired > max', { minCapacity: 1, maxCapacity: 3, desiredCapacity: 4 }, [{ path: 'customers[1] (blog).web.desiredCapacity', value: 4, message: 'must be from minCapacity 1 to maxCapacity 3 in dev' }]],
  ])('web capacity %s', (_what, w, problems) => {
    if (problems.length === 0) accepts(web(w));
    else expect(problemsOf(web(w))).toEqual(problems);
  });

  test.each([
    ['minCapacity 1', (c: any) => (c.customers[0].environments.prod.web.minCapacity = 1), [
      { path: 'customers[0] (shop).environments.prod.web.minCapacity', value: 1, message: 'prod is production: at least 2 web servers, so that a deployment or a lost AZ never takes the customer down' },
    ]],
    ['minCapacity 2', (c: any) => (c.customers[0].environments.prod.web.minCapacity = 2), []],
    ['backupRetentionDays 6', (c: any) => (c.customers[0].database.backupRetentionDays = 6), [
      { path: 'customers[0] (shop).database.backupRetentionDays', value: 6, message: 'prod is production: backups are kept at least 7 days' },
    ]],
    ['backupRetentionDays 7', (c: any) => (c.customers[0].database.backupRetentionDays = 7), []],
  ])('production with %s', (_what, mutate, problems) => {
    if (problems.length === 0) accepts(mutate);
    else expect(problemsOf(mutate)).toEqual(problems);
  });

  test('more customers on one shard than one ALB takes: every overflowing one is named, for each budget', () => {
    const problems = problemsOf((c) => {
      for (let i = 0; i < 99; i++) {
        c.customers.push({ name: `t${i}`, rulePriority: 2000 + i });
        c.gitlab.repositories.push({ path: `t${i}/app`, kind: 'software', customer: `t${i}`, branches: { develop: 'dev' } });
      }
    });
    const over = (what: string) => ({
      path: 'customers',
      value: 102,
      message: `dev shard 0 would take 102 ${what}; one ALB takes at most 100. Overflowing: t97, t98; pin them to another shard (npm run customers -- --propose <name> --env dev) or add one (ingress.shards)`,
    });
    expect(problems).toEqual([over('target groups (AWS quota, not adjustable)'), over('listener rules (ingress.rulesPerShard)')]);
  });
});

describe('the resolved config', () => {
  test.each([
    // [production, nat.mode, kmsDeletionWindowDays] -> [natMode, kmsDeletionWindowDays]
    [false, undefined, undefined, 'shared', 7],
    [true, undefined, undefined, 'per-az', 30],
    [false, 'per-az', 14, 'per-az', 14],
    [true, 'shared', 14, 'shared', 14],
  ])('production %p, nat.mode %p, kmsDeletionWindowDays %p: natMode %p, kmsDeletionWindowDays %p', (production, mode, kms, natMode, days) => {
    const cfg = exampleConfig((c) => {
      const dev = c.environments[0];
      dev.production = production;
      dev.network.nat = mode === undefined ? {} : { mode };
      if (kms !== undefined) dev.security = { kmsDeletionWindowDays: kms };
      c.customers[1].web = { minCapacity: 2 }; // blog's only environment is dev
      c.customers[0].environments.dev = { web: { minCapacity: 2 }, database: { backupRetentionDays: 7 } };
      c.customers[2].environments.dev = { web: { minCapacity: 2 } };
    });
    const dev = cfg.environments[0]!;
    expect(dev.production).toBe(production);
    expect([dev.natMode, dev.kmsDeletionWindowDays]).toEqual([natMode, days]);
  });

  test('each environment gets the project, the gitlab settings and only the repositories routed to it, with their branches', () => {
    const cfg = exampleConfig();
    expect(cfg.source).toBe('example');
    const staging = cfg.environments[1]!;
    expect(staging.project).toBe('acme-web');
    expect(staging.gitlab).toEqual({
      url: 'https://gitlab.example.com',
      authMode: 'token',
      tagPushes: false,
      webhookReservedConcurrency: 20,
      reconcileIntervalMinutes: 10,
      repositories: [
        { path: 'shop/storefront', kind: 'software', customer: 'shop', branches: { develop: 'dev', release: 'staging', main: 'prod' }, routedBranches: ['release'] },
        { path: 'shop/storefront-infra', kind: 'infrastructure', customer: 'shop', branches: { develop: 'dev', release: 'staging', main: 'prod' }, routedBranches: ['release'] },
      ],
    });
    expect(cfg.environments.map((e) => e.gitlab.repositories.map((r) => `${r.path}:${r.routedBranches.join()}`))).toEqual([
      ['shop/storefront:develop', 'shop/storefront-infra:develop', 'blog/site:main', 'wiki/app:develop'],
      ['shop/storefront:release', 'shop/storefront-infra:release'],
      ['shop/storefront:main', 'shop/storefront-infra:main', 'wiki/app:main'],
    ]);
  });
});

describe('the longest names', () => {
  test('names fitted to exactly their limit are accepted (IAM role 64, target group 32), and so is a 63-character bucket name', () => {
    // project 20 + environment 9 characters in a 9-character region: the artifact bucket is 63
    // characters, the infrastructure source-fetch role (66) is fitted to 64, and the target group
    // of a 20-character customer (50) is fitted to 32.
    const cfg = exampleConfig((c) => {
      c.project = 'a-very-long-project1';
      c.environments[1].name = 'staging12';
      reroute(c, 'staging', 'staging12');
      c.customers.push({ name: 'abcdefghijklmnopqrst' });
      c.gitlab.repositories.push({ path: 'long/app', kind: 'software', customer: 'abcdefghijklmnopqrst', branches: { release: 'staging12' } });
    });
    const staging = cfg.environments[1]!;
    expect(staging.customers.map((x) => x.name)).toEqual(['shop', 'abcdefghijklmnopqrst']);
    // The test stays at the limits only while the names are built this way.
    const parts = { project: cfg.project, env: staging.name, account: staging.account, region: staging.region };
    expect(artifactBucketName(parts)).toHaveLength(63);
    expect(roleNames(parts).sourceFetchInfrastructure).toHaveLength(64);
    expect(customerNames(parts, 'abcdefghijklmnopqrst').targetGroup).toHaveLength(32);
  });
});
