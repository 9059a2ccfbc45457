/**
 * Customers, resolved for one environment: defaults, production defaults and per-environment
 * overrides applied; host names, listener rule priority and database engine family derived.
 * Pure functions: validate.ts checks the results, the customer stacks build from them.
 */
import { createHash } from 'crypto';
import {
  CUSTOMER_RULE_PRIORITY_MAX,
  CUSTOMER_RULE_PRIORITY_MIN,
  DatabaseEngine,
  GRAVITON_INSTANCE_TYPE,
  ParsedCustomer,
} from './config/schema';
import { customerDefaultHost } from './naming';

export type Architecture = 'arm64' | 'x86_64';

/** The web tier of a customer in one environment, every default resolved. */
export interface WebTierSettings {
  readonly instanceType: string;
  /** arm64 for Graviton types (a "g" after the generation digit), else x86_64. */
  readonly architecture: Architecture;
  readonly minCapacity: number;
  readonly desiredCapacity: number;
  readonly maxCapacity: number;
  readonly appPort: number;
  readonly healthCheckPath: string;
  readonly healthCheckMatcher: string;
  readonly rootVolumeGiB: number;
  readonly requestsPerTarget: number;
}

/** The database of a customer in one environment, every default resolved. */
export interface DatabaseSettings {
  readonly engine: DatabaseEngine;
  readonly version: string;
  /** Parameter group family, e.g. postgres16 or mysql8.0. */
  readonly family: string;
  readonly port: number;
  readonly instanceClass: string;
  readonly storageGiB: number;
  readonly backupRetentionDays: number;
  /** Production: Multi-AZ, deletion protection, a final snapshot and prevent_destroy. */
  readonly production: boolean;
}

export interface CustomDomain {
  readonly name: string;
  readonly hostedZoneId?: string;
  readonly certificateArn?: string;
}

/** One customer in one environment. */
export interface CustomerEnvironment {
  readonly name: string;
  /** `<name>.<domain>` first, then the custom domains: the listener rule's host-header values. */
  readonly hosts: readonly string[];
  readonly defaultHost: string;
  readonly customDomains: readonly CustomDomain[];
  /** The listener rule priority: configured, or computed from the name. */
  readonly rulePriority: number;
  /** Whether rulePriority came from the config (true) or from the name. */
  readonly rulePriorityConfigured: boolean;
  /** The load-balancer shard (0-based) the customer is pinned to: configured, default 0. */
  readonly shard: number;
  readonly web: WebTierSettings;
  readonly database?: DatabaseSettings;
  /**
   * The branches of the customer's software repositories that deploy to this environment, in config
   * order: one software pipeline each, on `software/<customer>/<branch>.zip`.
   */
  readonly softwareBranches: readonly string[];
  /**
   * The branches of the customer's infrastructure repositories (machine-image recipes) that map to
   * this environment, in config order: one image pipeline each, on `infrastructure/<customer>/<branch>.zip`.
   */
  readonly infrastructureBranches: readonly string[];
}

type RepositoryRoutes = readonly { readonly kind: string; readonly customer: string; readonly branches: Readonly<Record<string, string>> }[];

/** The branches of a customer's software repositories that map to an environment, in config order, once each. */
export function softwareBranchesIn(repositories: RepositoryRoutes, customer: string, env: string): string[] {
  return branchesIn(repositories, 'software', customer, env);
}

/** The branches of a customer's infrastructure repositories that map to an environment, in config order, once each. */
export function infrastructureBranchesIn(repositories: RepositoryRoutes, customer: string, env: string): string[] {
  return branchesIn(repositories, 'infrastructure', customer, env);
}

function branchesIn(repositories: RepositoryRoutes, kind: string, customer: string, env: string): string[] {
  const out: string[] = [];
  for (const r of repositories) {
    if (r.kind !== kind || r.customer !== customer) continue;
    for (const [branch, e] of Object.entries(r.branches)) if (e === env && !out.includes(branch)) out.push(branch);
  }
  return out;
}

export const WEB_DEFAULTS = {
  instanceType: 't4g.small',
  appPort: 8080,
  healthCheckPath: '/healthz',
  healthCheckMatcher: '200',
  rootVolumeGiB: 20,
  requestsPerTarget: 1000,
} as const;
export const WEB_CAPACITY_DEFAULTS = { production: { min: 2, max: 4 }, other: { min: 1, max: 2 } } as const;

export const DATABASE_DEFAULTS = {
  version: { postgres: '16', mysql: '8.0' },
  port: { postgres: 5432, mysql: 3306 },
  instanceClass: 'db.t4g.micro',
  storageGiB: 20,
  backupRetentionDays: { production: 7, other: 1 },
} as const;

/** Engine versions the platform has a TLS-enforcing parameter group for. */
export const SUPPORTED_MAJOR_VERSIONS: Record<DatabaseEngine, readonly string[]> = {
  postgres: ['13', '14', '15', '16', '17'],
  mysql: ['8.0', '8.4'],
};

/** arm64 for Graviton instance families (m7g, t4g, c7gn, ...), x86_64 otherwise. */
export function architectureOf(instanceType: string): Architecture {
  return GRAVITON_INSTANCE_TYPE.test(instanceType) ? 'arm64' : 'x86_64';
}

/** The major version a parameter group family is named after: "16.4" → "16", "8.0.35" → "8.0". */
export function majorVersion(engine: DatabaseEngine, version: string): string {
  const parts = version.split('.');
  return engine === 'postgres' ? parts[0]! : parts.slice(0, 2).join('.');
}

/**
 * The listener rule priority computed from a customer name: SHA-256 of the name, mapped into
 * 1000-50000. It depends on nothing but the name, so adding, removing or reordering customers
 * never moves anyone; two names that map to the same number are a config error naming both.
 */
export function computedRulePriority(customer: string): number {
  const n = parseInt(createHash('sha256').update(customer).digest('hex').slice(0, 12), 16);
  return CUSTOMER_RULE_PRIORITY_MIN + (n % (CUSTOMER_RULE_PRIORITY_MAX - CUSTOMER_RULE_PRIORITY_MIN + 1));
}

/** A customer in one environment of the given domain, with every default and override applied. */
export function resolveCustomer(
  c: ParsedCustomer,
  env: { readonly name: string; readonly production: boolean; readonly domain: string },
  softwareBranches: readonly string[] = [],
  infrastructureBranches: readonly string[] = [],
): CustomerEnvironment {
  const over = c.environments[env.name] ?? {};
  const web = { ...c.web, ...(over.web ?? {}) };
  const caps = env.production ? WEB_CAPACITY_DEFAULTS.production : WEB_CAPACITY_DEFAULTS.other;
  const minCapacity = web.minCapacity ?? caps.min;
  const maxCapacity = web.maxCapacity ?? Math.max(caps.max, minCapacity);
  const instanceType = web.instanceType ?? WEB_DEFAULTS.instanceType;
  const defaultHost = customerDefaultHost(c.name, env.domain);
  const customDomains = over.domains ?? c.domains;
  let database: DatabaseSettings | undefined;
  if (c.database) {
    const d = { ...c.database, ...(over.database ?? {}) };
    const engine = c.database.engine; // the schema's default: postgres
    const version = d.version ?? DATABASE_DEFAULTS.version[engine];
    database = {
      engine,
      version,
      family: `${engine}${majorVersion(engine, version)}`,
      port: DATABASE_DEFAULTS.port[engine],
      instanceClass: d.instanceClass ?? DATABASE_DEFAULTS.instanceClass,
      storageGiB: d.storageGiB ?? DATABASE_DEFAULTS.storageGiB,
      backupRetentionDays: d.backupRetentionDays ?? (env.production ? DATABASE_DEFAULTS.backupRetentionDays.production : DATABASE_DEFAULTS.backupRetentionDays.other),
      production: env.production,
    };
  }
  return {
    name: c.name,
    defaultHost,
    hosts: [defaultHost, ...customDomains.map((d) => d.name)],
    customDomains,
    rulePriority: c.rulePriority ?? computedRulePriority(c.name),
    rulePriorityConfigured: c.rulePriority !== undefined,
    shard: over.shard ?? c.shard ?? 0,
    web: {
      instanceType,
      architecture: architectureOf(instanceType),
      minCapacity,
      desiredCapacity: web.desiredCapacity ?? minCapacity,
      maxCapacity,
      appPort: web.appPort ?? WEB_DEFAULTS.appPort,
      healthCheckPath: web.healthCheckPath ?? WEB_DEFAULTS.healthCheckPath,
      healthCheckMatcher: web.healthCheckMatcher ?? WEB_DEFAULTS.healthCheckMatcher,
      rootVolumeGiB: web.rootVolumeGiB ?? WEB_DEFAULTS.rootVolumeGiB,
      requestsPerTarget: web.requestsPerTarget ?? WEB_DEFAULTS.requestsPerTarget,
    },
    database,
    softwareBranches: [...softwareBranches],
    infrastructureBranches: [...infrastructureBranches],
  };
}
