/**
 * Loading and validating the platform config. Every problem is collected and reported at once,
 * each naming the field path, the bad value and what is allowed. Shape problems come from the
 * zod schema; cross-field problems from the checks below, which run on whatever parts of the
 * input are well-formed, so one run shows everything that is wrong.
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { z } from 'zod';
import { IpPlan, IpPlanError, overlaps, parseNetwork, planNetwork } from '../ip-plan';
import { knownElbLogRegions, supportsElbLogDelivery } from '../elb-log-delivery';
import { CustomerEnvironment, SUPPORTED_MAJOR_VERSIONS, majorVersion, resolveCustomer, softwareBranchesIn, infrastructureBranchesIn } from '../customers';
import { SHARD_RESOURCE_LABELS, albsByRegion, shardBudget, shardOverflows } from '../shards';
import {
  EnvNameParts,
  customerNameProblems,
  environmentNameProblems,
  albLogBucketName,
  albName,
  artifactBucketName,
  bucketNameProblems,
  loadBalancerNameProblems,
  stateBucketName,
} from '../naming';
import {
  NatMode,
  PROJECT_NAME,
  ParsedConfig,
  ParsedCustomer,
  customerSchema,
  ParsedEnvironment,
  RESERVED_TAG_KEYS,
  Repository,
  environmentSchema,
  gitlabSchema,
  ingressSchema,
  platformConfigSchema,
} from './schema';

export interface ConfigProblem {
  /** Field path, e.g. `environments[1] (staging).network.vpcCidr`. */
  readonly path: string;
  /** The offending value (undefined when the field is missing). */
  readonly value: unknown;
  /** What is wrong and what is allowed. */
  readonly message: string;
}

/** A user error in the config: carries every problem found. main.ts prints it without a stack trace. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(source, problems));
    this.name = 'ConfigError';
  }
}

/** A repository routed to one environment: the branches (or tags) that deploy there. */
export interface RoutedRepository extends Repository {
  /** Branches of this repository that deploy to this environment. */
  readonly routedBranches: readonly string[];
}

/** One environment, validated, with every default and derived value resolved. */
export interface EnvironmentConfig extends ParsedEnvironment {
  readonly project: string;
  readonly natMode: NatMode;
  readonly kmsDeletionWindowDays: number;
  readonly ipPlan: IpPlan;
  readonly gitlab: Omit<ParsedConfig['gitlab'], 'repositories'> & { readonly repositories: readonly RoutedRepository[] };
  /** The customers whose software branches map to this environment, resolved for it, in config order. */
  readonly customers: readonly CustomerEnvironment[];
}

export interface PlatformConfig {
  readonly project: string;
  /** Where the config was read from (for messages and the README's examples). */
  readonly source: string;
  readonly environments: readonly EnvironmentConfig[];
}

export function formatValue(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  const head = `Invalid platform config ${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return [head, ...problems.map((p) => `  - ${p.path}: got ${formatValue(p.value)}: ${p.message}`)].join('\n');
}

/** Reads and validates a YAML or JSON config file. Throws ConfigError. */
export function loadConfigFile(file: string): PlatformConfig {
  const source = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(source, [{ path: '(file)', value: file, message: `cannot read the config file: ${(e as Error).message}` }]);
  }
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: '(syntax)', value: undefined, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return validateConfig(doc.toJS(), source);
}

/** Validates a parsed config object. Throws ConfigError listing every problem. */
export function validateConfig(input: unknown, source = '(inline)'): PlatformConfig {
  const problems: ConfigProblem[] = [];
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const rawEnvs = Array.isArray(raw.environments) ? (raw.environments as unknown[]) : [];
  const label = (i: number) => {
    const n = (rawEnvs[i] as Record<string, unknown> | undefined)?.name;
    return typeof n === 'string' ? `environments[${i}] (${n})` : `environments[${i}]`;
  };
  const rawCustomers = Array.isArray(raw.customers) ? (raw.customers as unknown[]) : [];
  const customerLabel = (i: number) => {
    const n = (rawCustomers[i] as Record<string, unknown> | undefined)?.name;
    return typeof n === 'string' ? `customers[${i}] (${n})` : `customers[${i}]`;
  };
  const pathOf = (p: readonly PropertyKey[]) => {
    let out = '';
    p.forEach((k, i) => {
      if (i === 1 && p[0] === 'environments' && typeof k === 'number') out = label(k);
      else if (i === 1 && p[0] === 'customers' && typeof k === 'number') out = customerLabel(k);
      else if (typeof k === 'number') out += `[${k}]`;
      else out += out ? `.${String(k)}` : String(k);
    });
    return out;
  };

  const parsed = platformConfigSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(zodProblem(issue, pathOf));
  }

  // Cross-field checks, each on the parts that are well-formed on their own.
  const project = typeof raw.project === 'string' && PROJECT_NAME.test(raw.project) ? raw.project : undefined;
  const cidrs = rawEnvs.map((e, index) => checkFields(e, label(index), problems));
  rawEnvs.forEach((e, index) => {
    const r = environmentSchema.safeParse(e);
    if (r.success) checkEnvironment(r.data, cidrs[index] !== undefined, project, label(index), problems);
  });
  checkAcrossEnvironments(cidrs, rawEnvs, label, problems);
  const gitlab = gitlabSchema.safeParse(raw.gitlab ?? {});
  if (gitlab.success) checkGitlab(gitlab.data, rawEnvs, problems);
  const envsOk = rawEnvs.map((e) => environmentSchema.safeParse(e)).flatMap((r) => (r.success ? [r.data] : []));
  if (gitlab.success) checkCustomers(rawCustomers, customerLabel, gitlab.data, envsOk, project, problems);
  checkAlbsPerRegion(envsOk, problems);

  if (problems.length > 0 || !parsed.success) throw new ConfigError(source, dedupe(problems));
  return resolve(parsed.data, source);
}

function zodProblem(issue: z.core.$ZodIssue, pathOf: (p: readonly PropertyKey[]) => string): ConfigProblem {
  const p = pathOf(issue.path) || '(root)';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    return { path: p, value: issue.keys, message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}; check the spelling against the config reference in the README` };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) message = `required field is missing (expected ${issue.expected})`;
  return { path: p, value: (issue as { input?: unknown }).input, message };
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Checks of single fields that make sense even when the environment has shape errors elsewhere.
 * Returns the VPC CIDR when it is a valid network of an allowed size (for the overlap check).
 */
function checkFields(e: unknown, where: string, problems: ConfigProblem[]): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const env = e as Record<string, unknown>;
  const region = typeof env.region === 'string' ? env.region : undefined;
  if (region && environmentSchema.shape.region.safeParse(region).success && !supportsElbLogDelivery(region)) {
    problems.push({
      path: `${where}.region`,
      value: region,
      message: `the platform does not know how ELB writes ALB access logs in this region; known: ${knownElbLogRegions().join(', ')} (a new region is added to stacks/model/elb-log-delivery.ts)`,
    });
  }
  const ingress = ingressSchema.safeParse(env.ingress);
  if (ingress.success) checkIngress(ingress.data, region, where, problems);
  if (region && Array.isArray(env.availabilityZones)) checkAzs(env.availabilityZones as unknown[], region, where, problems);
  const vpcCidr = (env.network as Record<string, unknown> | undefined)?.vpcCidr;
  if (typeof vpcCidr === 'string' && /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(vpcCidr)) {
    return checkVpcCidr(vpcCidr, `${where}.network.vpcCidr`, problems) ? vpcCidr : undefined;
  }
  return undefined;
}

function checkVpcCidr(cidr: string, where: string, problems: ConfigProblem[]): boolean {
  try {
    const n = parseNetwork(cidr);
    if (n.subnetMask < 16 || n.subnetMask > 20) {
      problems.push({ path: where, value: cidr, message: `the VPC prefix must be /16 to /20 (AWS allows /16 to /28; the 9-subnet plan needs at least a /20)` });
      return false;
    }
    return true;
  } catch (err) {
    problems.push({ path: where, value: cidr, message: (err as Error).message.replace(/^"[^"]*" /, '') });
    return false;
  }
}

function checkAzs(azs: unknown[], region: string, where: string, problems: ConfigProblem[]): void {
  azs.forEach((az, i) => {
    if (typeof az === 'string' && !new RegExp(`^${region.replace(/[-]/g, '\\-')}[a-z]$`).test(az)) {
      problems.push({ path: `${where}.availabilityZones[${i}]`, value: az, message: `is not an availability zone of the environment's region ${region} (expected ${region}a, ${region}b, ...)` });
    }
  });
  const dup = azs.filter((az, i) => azs.indexOf(az) !== i);
  if (dup.length > 0) problems.push({ path: `${where}.availabilityZones`, value: azs, message: `lists ${formatValue(dup[0])} twice; expected 3 different AZs` });
}

function checkIngress(ingress: z.output<typeof ingressSchema>, region: string | undefined, where: string, problems: ConfigProblem[]): void {
  const p = `${where}.ingress`;
  if (ingress.hostedZoneId && ingress.certificateArn) {
    problems.push({ path: `${p}.certificateArn`, value: ingress.certificateArn, message: 'give either hostedZoneId (a new certificate validated by DNS) or certificateArn (an existing certificate), not both' });
  } else if (!ingress.hostedZoneId && !ingress.certificateArn) {
    problems.push({ path: `${p}.hostedZoneId`, value: undefined, message: 'give either hostedZoneId (a new certificate validated by DNS) or certificateArn (an existing certificate)' });
  }
  const certRegion = ingress.certificateArn?.split(':')[3];
  if (region && certRegion && certRegion !== region) {
    problems.push({ path: `${p}.certificateArn`, value: ingress.certificateArn, message: `the certificate is in ${certRegion}; an ALB needs a certificate in its own region ${region}` });
  }
}

function checkEnvironment(env: ParsedEnvironment, vpcOk: boolean, project: string | undefined, where: string, problems: ConfigProblem[]): void {
  if (vpcOk) {
    try {
      planNetwork(env.network.vpcCidr, env.availabilityZones, env.network.subnetPrefixLength);
    } catch (err) {
      if (!(err instanceof IpPlanError)) throw err;
      problems.push({ path: `${where}.network`, value: { vpcCidr: env.network.vpcCidr, subnetPrefixLength: env.network.subnetPrefixLength }, message: `${err.message}; use a larger VPC or smaller subnetPrefixLength values (larger numbers)` });
    }
  }
  const roleAccount = env.assumeRoleArn?.split(':')[4];
  if (roleAccount && roleAccount !== env.account) {
    problems.push({ path: `${where}.assumeRoleArn`, value: env.assumeRoleArn, message: `the role is in account ${roleAccount}, but the environment is in account ${env.account}; the provider must assume a role in the environment's account` });
  }
  for (const key of Object.keys(env.tags)) {
    if ((RESERVED_TAG_KEYS as readonly string[]).includes(key)) {
      problems.push({ path: `${where}.tags.${key}`, value: env.tags[key], message: `"${key}" is set by the platform on every resource; choose another tag key (reserved: ${RESERVED_TAG_KEYS.join(', ')})` });
    }
  }
  if (project) checkNames({ project, env: env.name, account: env.account, region: env.region }, env.ingress.shards, where, problems);
}

/** The generated S3 and IAM names must be valid: a long project + environment name can break them. */
function checkNames(parts: EnvNameParts, shards: number, where: string, problems: ConfigProblem[]): void {
  const buckets = [artifactBucketName(parts), albLogBucketName(parts), stateBucketName(parts)];
  for (const b of buckets) {
    for (const msg of bucketNameProblems(b)) {
      problems.push({ path: `${where}.name`, value: parts.env, message: `the bucket name "${b}" ${msg}; shorten the project or environment name` });
    }
  }
  for (let shard = 0; shard < shards; shard++) {
    const lb = albName(parts, shard);
    for (const msg of loadBalancerNameProblems(lb)) {
      problems.push({ path: `${where}.name`, value: parts.env, message: `the ALB name "${lb}" ${msg}; change the project or environment name` });
    }
  }
  for (const msg of environmentNameProblems(parts)) {
    problems.push({ path: `${where}.name`, value: parts.env, message: `${msg}; shorten the project or environment name` });
  }
}

function checkAcrossEnvironments(cidrs: (string | undefined)[], rawEnvs: unknown[], label: (i: number) => string, problems: ConfigProblem[]): void {
  const names = rawEnvs.map((e) => (e as Record<string, unknown> | null)?.name);
  names.forEach((n, i) => {
    const first = names.indexOf(n);
    if (typeof n === 'string' && first !== i) {
      problems.push({ path: `${label(i)}.name`, value: n, message: `duplicate environment name; ${label(first)} already uses it (names must be unique: each is a stack)` });
    }
  });
  cidrs.forEach((y, j) => {
    const i = cidrs.findIndex((x, k) => k < j && x !== undefined && y !== undefined && overlaps(x, y));
    if (i >= 0) {
      problems.push({
        path: `${label(j)}.network.vpcCidr`,
        value: y,
        message: `overlaps ${label(i)}'s VPC ${cidrs[i]}; VPC CIDRs must not overlap so that environments can be connected later`,
      });
    }
  });
}

function checkGitlab(gitlab: ParsedConfig['gitlab'], rawEnvs: unknown[], problems: ConfigProblem[]): void {
  const envNames = [...new Set(rawEnvs.map((e) => (e as Record<string, unknown> | null)?.name).filter((n): n is string => typeof n === 'string'))];
  const targets = new Map<string, string>();
  gitlab.repositories.forEach((repo, i) => {
    const where = `gitlab.repositories[${i}]`;
    const first = gitlab.repositories.findIndex((r) => r.path.toLowerCase() === repo.path.toLowerCase());
    if (first !== i) problems.push({ path: `${where}.path`, value: repo.path, message: `duplicate repository; gitlab.repositories[${first}] already lists it` });
    for (const [branch, env] of Object.entries(repo.branches)) {
      if (!envNames.includes(env)) {
        problems.push({ path: `${where}.branches.${branch}`, value: env, message: `no such environment; expected one of ${envNames.join(', ') || '(none defined)'}` });
      }
      const key = `${env}:${repo.kind}/${repo.customer}/${branch}`;
      const other = targets.get(key);
      if (other !== undefined) {
        problems.push({ path: `${where}.branches.${branch}`, value: env, message: `${other} already uploads to ${repo.kind}/${repo.customer}/${branch}.zip in ${env}; two repositories of one customer and kind cannot share a branch name in one environment` });
      } else targets.set(key, `gitlab.repositories[${i}] (${repo.path})`);
    }
  });
}

/** The environments each customer is in: those its software repositories' branches map to. */
export function customerEnvironments(customer: string, repositories: readonly Repository[]): string[] {
  const envs = repositories.filter((r) => r.customer === customer && r.kind === 'software').flatMap((r) => Object.values(r.branches));
  return [...new Set(envs)];
}

function checkCustomers(list: unknown[], label: (i: number) => string, gitlab: ParsedConfig['gitlab'], envs: ParsedEnvironment[], project: string | undefined, problems: ConfigProblem[]): void {
  const parsed = list.map((c) => customerSchema.safeParse(c));
  const names = list.map((c) => (c as Record<string, unknown> | null)?.name);
  names.forEach((n, i) => {
    const first = names.indexOf(n);
    if (typeof n === 'string' && first !== i) problems.push({ path: `${label(i)}.name`, value: n, message: `duplicate customer name; ${label(first)} already uses it` });
  });
  const known = new Set(names.filter((n): n is string => typeof n === 'string'));
  gitlab.repositories.forEach((repo, i) => {
    if (!known.has(repo.customer)) {
      problems.push({ path: `gitlab.repositories[${i}].customer`, value: repo.customer, message: `no such customer; expected one of ${[...known].join(', ') || '(none under customers:)'}` });
    }
  });
  const envByName = new Map(envs.map((e) => [e.name, e]));
  // Per environment: hosts and rule priorities must not collide between customers.
  const hostsSeen = new Map<string, Map<string, string>>();
  const prioritiesSeen = new Map<string, Map<number, string>>();
  const perEnv = new Map<string, CustomerEnvironment[]>();
  const customDomainEnv = new Map<string, string>();
  parsed.forEach((r, i) => {
    if (!r.success) return;
    const c = r.data;
    const where = label(i);
    const inEnvs = customerEnvironments(c.name, gitlab.repositories);
    if (inEnvs.length === 0) {
      problems.push({ path: `${where}.name`, value: c.name, message: 'the customer has no software repository under gitlab.repositories, so it is in no environment; add one (kind: software, customer: this name)' });
    }
    for (const envName of Object.keys(c.environments)) {
      if (!inEnvs.includes(envName)) {
        problems.push({ path: `${where}.environments.${envName}`, value: envName, message: `the customer is not in this environment; its software branches map to ${inEnvs.join(', ') || '(none)'}` });
      }
    }
    const domainLists: Array<[string, typeof c.domains]> = [[`${where}.domains`, c.domains]];
    for (const [envName, o] of Object.entries(c.environments)) if (o.domains) domainLists.push([`${where}.environments.${envName}.domains`, o.domains]);
    for (const [lp, ds] of domainLists) {
      ds.forEach((d, j) => {
        if (!d.hostedZoneId === !d.certificateArn) {
          problems.push({ path: `${lp}[${j}].hostedZoneId`, value: d.hostedZoneId, message: 'give exactly one of hostedZoneId (a new certificate validated by DNS) or certificateArn (an existing certificate)' });
        }
      });
    }
    if (c.database) checkDatabaseVersion(c, where, problems);
    for (const envName of inEnvs) {
      const env = envByName.get(envName);
      if (!env) continue;
      const ce = resolveCustomer(c, { name: env.name, production: env.production, domain: env.ingress.domain });
      checkCustomerInEnvironment(c, ce, env, where, problems);
      perEnv.set(envName, [...(perEnv.get(envName) ?? []), ce]);
      if (ce.shard >= env.ingress.shards) {
        const shardPath = c.environments[envName]?.shard !== undefined ? `${where}.environments.${envName}.shard` : `${where}.shard`;
        problems.push({ path: shardPath, value: ce.shard, message: `${envName} has ${env.ingress.shards} load-balancer shard(s), numbered 0-${env.ingress.shards - 1}; pick one of them (npm run customers -- --propose ${c.name} --env ${envName}) or raise ingress.shards of ${envName}` });
      }
      for (const d of ce.customDomains) {
        const other = customDomainEnv.get(d.name);
        if (other !== undefined) {
          problems.push({ path: `${where}.domains`, value: d.name, message: `${other} already uses the custom domain ${d.name}; a custom domain serves one environment (its DNS record and certificate exist once): list it under environments.<env>.domains` });
        } else customDomainEnv.set(d.name, `${where} in ${envName}`);
      }
      const hosts = hostsSeen.get(envName) ?? new Map<string, string>();
      hostsSeen.set(envName, hosts);
      for (const h of ce.hosts) {
        const other = hosts.get(h);
        if (other !== undefined) problems.push({ path: `${where}.domains`, value: h, message: `${other} already serves the host ${h} in ${envName}; a host name belongs to one customer` });
        else hosts.set(h, where);
      }
      const prios = prioritiesSeen.get(envName) ?? new Map<number, string>();
      prioritiesSeen.set(envName, prios);
      const other = prios.get(ce.rulePriority);
      if (other !== undefined) {
        problems.push({
          path: `${where}.rulePriority`,
          value: ce.rulePriority,
          message: `${other} and ${where} both get listener rule priority ${ce.rulePriority} in ${envName}; set rulePriority on one of them to a free number from 1000 to 50000`,
        });
      } else prios.set(ce.rulePriority, where);
      if (project) {
        for (const message of customerNameProblems({ project, env: envName }, c.name, ce.defaultHost, ce.database !== undefined)) problems.push({ path: `${where}.name`, value: c.name, message });
      }
    }
  });
  // Per shard: target groups (100, fixed), rules and certificates (the environment's budgets).
  for (const [envName, list] of perEnv) {
    const env = envByName.get(envName)!;
    for (const o of shardOverflows(list, shardBudget(env.ingress))) {
      problems.push({
        path: `customers`,
        value: o.used,
        message: `${envName} shard ${o.shard} would take ${o.used} ${SHARD_RESOURCE_LABELS[o.resource]}; one ALB takes at most ${o.budget}. Overflowing: ${o.overflowing.join(', ')}; pin them to another shard (npm run customers -- --propose <name> --env ${envName}) or add one (ingress.shards)`,
      });
    }
  }
}

/** The shards of every environment sharing an account and region against the ALBs-per-region quota. */
function checkAlbsPerRegion(envs: ParsedEnvironment[], problems: ConfigProblem[]): void {
  for (const g of albsByRegion(envs)) {
    if (g.albs > g.quota) {
      problems.push({
        path: 'environments',
        value: g.albs,
        message: `account ${g.account} in ${g.region} would have ${g.albs} ALBs (${g.environments.map((e) => `${e.name}: ${e.shards}`).join(', ')}); its ALBs-per-region quota is ${g.quota} (ingress.albsPerRegion, default 50: raise the quota first, then the setting)`,
      });
    }
  }
}

function checkDatabaseVersion(c: ParsedCustomer, where: string, problems: ConfigProblem[]): void {
  const engine = c.database!.engine ?? 'postgres';
  const versions: Array<[string, string | undefined]> = [[`${where}.database.version`, c.database!.version]];
  for (const [envName, o] of Object.entries(c.environments)) versions.push([`${where}.environments.${envName}.database.version`, o.database?.version]);
  for (const [p, v] of versions) {
    if (v === undefined) continue;
    const major = majorVersion(engine, v);
    if (!SUPPORTED_MAJOR_VERSIONS[engine].includes(major)) {
      problems.push({ path: p, value: v, message: `${engine} ${major} is not supported; expected a version of ${SUPPORTED_MAJOR_VERSIONS[engine].join(', ')}` });
    }
  }
}

function checkCustomerInEnvironment(c: ParsedCustomer, ce: CustomerEnvironment, env: ParsedEnvironment, where: string, problems: ConfigProblem[]): void {
  const w = ce.web;
  const webPath = c.environments[env.name]?.web ? `${where}.environments.${env.name}.web` : `${where}.web`;
  if (w.minCapacity > w.maxCapacity) problems.push({ path: `${webPath}.minCapacity`, value: w.minCapacity, message: `is more than maxCapacity ${w.maxCapacity} in ${env.name}` });
  if (w.desiredCapacity < w.minCapacity || w.desiredCapacity > w.maxCapacity) {
    problems.push({ path: `${webPath}.desiredCapacity`, value: w.desiredCapacity, message: `must be from minCapacity ${w.minCapacity} to maxCapacity ${w.maxCapacity} in ${env.name}` });
  }
  if (env.production && w.minCapacity < 2) {
    problems.push({ path: `${webPath}.minCapacity`, value: w.minCapacity, message: `${env.name} is production: at least 2 web servers, so that a deployment or a lost AZ never takes the customer down` });
  }
  const db = ce.database;
  if (db && env.production && db.backupRetentionDays < 7) {
    problems.push({ path: `${where}.database.backupRetentionDays`, value: db.backupRetentionDays, message: `${env.name} is production: backups are kept at least 7 days` });
  }
  ce.customDomains.forEach((d, j) => {
    const certRegion = d.certificateArn?.split(':')[3];
    if (certRegion && certRegion !== env.region) {
      problems.push({ path: `${where}.domains[${j}].certificateArn`, value: d.certificateArn, message: `the certificate is in ${certRegion}; the ALB of ${env.name} needs one in ${env.region}` });
    }
    if (d.name === env.ingress.domain || d.name.endsWith(`.${env.ingress.domain}`)) {
      problems.push({ path: `${where}.domains[${j}].name`, value: d.name, message: `is inside ${env.name}'s domain ${env.ingress.domain}; custom domains are names outside it (the customer already has ${ce.defaultHost})` });
    }
  });
}

function resolve(cfg: ParsedConfig, source: string): PlatformConfig {
  return {
    project: cfg.project,
    source,
    environments: cfg.environments.map((env) => ({
      ...env,
      project: cfg.project,
      natMode: env.network.nat.mode ?? (env.production ? 'per-az' : 'shared'),
      kmsDeletionWindowDays: env.security.kmsDeletionWindowDays ?? (env.production ? 30 : 7),
      ipPlan: planNetwork(env.network.vpcCidr, env.availabilityZones, env.network.subnetPrefixLength),
      gitlab: {
        url: cfg.gitlab.url,
        authMode: cfg.gitlab.authMode,
        tagPushes: cfg.gitlab.tagPushes,
        webhookReservedConcurrency: cfg.gitlab.webhookReservedConcurrency,
        reconcileIntervalMinutes: cfg.gitlab.reconcileIntervalMinutes,
        repositories: cfg.gitlab.repositories
          .map((r) => ({ ...r, routedBranches: Object.entries(r.branches).filter(([, e]) => e === env.name).map(([b]) => b) }))
          .filter((r) => r.routedBranches.length > 0),
      },
      customers: cfg.customers
        .filter((c) => customerEnvironments(c.name, cfg.gitlab.repositories).includes(env.name))
        .map((c) => resolveCustomer(c, { name: env.name, production: env.production, domain: env.ingress.domain }, softwareBranchesIn(cfg.gitlab.repositories, c.name, env.name), infrastructureBranchesIn(cfg.gitlab.repositories, c.name, env.name))),
    })),
  };
}
