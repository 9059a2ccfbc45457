/**
 * `npm run customers`: per environment, one row per customer (host names, load-balancer shard,
 * listener rule priority, target group, database, repositories with the branches deploying there),
 * then each shard's load against its budgets; and `--propose <name> --env <env>`, the shard a new
 * customer should be pinned to. Pure: takes the validated config, returns text.
 */
import { CustomerEnvironment } from '../../stacks/model/customers';
import { EnvironmentConfig, PlatformConfig } from '../../stacks/model/config/validate';
import { CUSTOMER_NAME } from '../../stacks/model/config/schema';
import { customerNames } from '../../stacks/model/naming';
import { proposeShard, shardBudget, shardCost, shardLoads } from '../../stacks/model/shards';
import { parseCli } from './cli-args';

export const USAGE = 'usage: customers.ts [--env ENV] [--propose NAME --env ENV]';

export type CustomersArgs = { readonly kind: 'table'; readonly env?: string } | { readonly kind: 'propose'; readonly customer: string; readonly env: string };

/** The arguments, or a message: USAGE for -h/--help, else the problem. */
export function parseCustomersArgs(argv: string[]): CustomersArgs | string {
  const parsed = parseCli(argv, { env: { type: 'string' }, propose: { type: 'string' } } as const, { positionals: false });
  if (parsed.kind === 'help') return USAGE;
  if (parsed.kind === 'error') return parsed.message;
  const { env, propose } = parsed.values;
  if (propose !== undefined) {
    if (env === undefined) return '--propose needs --env ENV (shards are per environment)';
    if (!CUSTOMER_NAME.test(propose)) return `--propose: ${JSON.stringify(propose)} is not a customer name (2-20 characters of a-z, 0-9 and single "-")`;
    return { kind: 'propose', customer: propose, env };
  }
  return { kind: 'table', env };
}

/** A plain-text table: a header, a rule, the rows; columns padded to their widest cell. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export const TABLE_HEADER = ['customer', 'hosts', 'shard', 'priority', 'target group', 'database', 'repositories (branches)'] as const;

/** The rows of one environment, customers in config order. */
export function customerRows(env: EnvironmentConfig): string[][] {
  return env.customers.map((c) => [
    c.name,
    c.hosts.join(' '),
    String(c.shard),
    String(c.rulePriority),
    customerNames({ project: env.project, env: env.name }, c.name).targetGroup,
    c.database ? `yes (${c.database.engine} ${c.database.version})` : 'no',
    env.gitlab.repositories
      .filter((r) => r.customer === c.name)
      .map((r) => `${r.path} [${r.kind}] (${r.routedBranches.join(', ')})`)
      .join('; '),
  ]);
}

function shardSummary(env: EnvironmentConfig): string {
  const budget = shardBudget(env.ingress);
  return shardLoads(env.customers, env.ingress.shards)
    .map((l) => `  shard ${l.shard}: ${l.targetGroups}/${budget.targetGroups} target groups, ${l.rules}/${budget.rules} rules, ${l.certificates}/${budget.certificates} certificates`)
    .join('\n');
}

/** The table of every environment (or one), each followed by its shards' load. */
export function renderCustomers(config: PlatformConfig, only?: string): string {
  const envs = config.environments.filter((e) => only === undefined || e.name === only);
  if (envs.length === 0) throw new Error(`no environment ${only}; expected one of ${config.environments.map((e) => e.name).join(', ')}`);
  return envs
    .map((env) => {
      const head = `${env.name} (${env.customers.length} customer${env.customers.length === 1 ? '' : 's'}, ${env.ingress.shards} shard${env.ingress.shards === 1 ? '' : 's'})`;
      const body = env.customers.length === 0 ? '(no customers)' : formatTable([[...TABLE_HEADER], ...customerRows(env)]);
      return `${head}\n${body}\nshards:\n${shardSummary(env)}`;
    })
    .join('\n\n');
}

/** The shard to pin a customer to in one environment, as advice; throws when none has room. */
export function renderProposal(config: PlatformConfig, customer: string, envName: string): string {
  const env = config.environments.find((e) => e.name === envName);
  if (!env) throw new Error(`no environment ${envName}; expected one of ${config.environments.map((e) => e.name).join(', ')}`);
  const existing: CustomerEnvironment | undefined = env.customers.find((c) => c.name === customer);
  const others = env.customers.filter((c) => c.name !== customer);
  const cost = existing ? shardCost(existing) : { targetGroups: 1, rules: 1, certificates: 0 };
  const p = proposeShard(others, env.ingress.shards, shardBudget(env.ingress), cost);
  if (p.kind === 'full') throw new Error(`${envName}: ${p.message}`);
  const now = existing ? ` (now on shard ${existing.shard}; moving it changes its DNS target and certificate attachment: docs/RUNBOOK.md "Moving a customer between shards")` : '';
  return [
    `${customer} in ${envName}: shard ${p.shard}${now}`,
    `  shard ${p.shard} carries ${p.load.customers.length} other customer(s): ${p.load.targetGroups} target groups, ${p.load.rules} rules, ${p.load.certificates} certificates`,
    `  pin it in the config: customers: - name: ${customer} ... ${p.shard === 0 ? '(shard 0 is the default)' : `shard: ${p.shard}`}` +
      `  (or environments.${envName}.shard: ${p.shard} when its other environments differ)`,
  ].join('\n');
}
