/**
 * Load-balancer shards: an environment has `ingress.shards` ALBs and every customer is pinned to
 * one by its configured `shard` (default 0). Pure functions: what each shard carries, which
 * customers overflow a shard's quotas, the least-loaded shard for a new customer, and how many ALBs
 * the environments sharing an account and region add up to.
 *
 * Stability: a customer's shard comes only from its own config entry, never from its position or
 * from other customers, so adding, removing or reordering customers never moves anyone.
 */
import { ALB_DEFAULT_QUOTAS } from './config/schema';
import { CustomerEnvironment } from './customers';

/** What one customer takes of its shard's ALB. */
export interface ShardCost {
  /** Its target group (quota 100 per ALB, not adjustable). */
  readonly targetGroups: number;
  /** Its host-header listener rule. */
  readonly rules: number;
  /** One listener certificate per custom domain (the environment certificate is the default, not counted). */
  readonly certificates: number;
}

export type ShardResource = keyof ShardCost;

/** How much of each resource a shard may take. */
export type ShardBudget = ShardCost;

/** The quota each resource stands for, for messages. */
export const SHARD_RESOURCE_LABELS: Readonly<Record<ShardResource, string>> = {
  targetGroups: 'target groups (AWS quota, not adjustable)',
  rules: 'listener rules (ingress.rulesPerShard)',
  certificates: 'listener certificates (ingress.certificatesPerShard)',
};

export function shardCost(c: Pick<CustomerEnvironment, 'customDomains'>): ShardCost {
  return { targetGroups: 1, rules: 1, certificates: c.customDomains.length };
}

/** The budget of every shard of an environment from its ingress settings. */
export function shardBudget(ingress: { readonly rulesPerShard: number; readonly certificatesPerShard: number }): ShardBudget {
  return { targetGroups: ALB_DEFAULT_QUOTAS.targetGroupsPerAlb, rules: ingress.rulesPerShard, certificates: ingress.certificatesPerShard };
}

/** What one shard carries. */
export interface ShardLoad extends ShardCost {
  readonly shard: number;
  /** Customers pinned to it, in config order. */
  readonly customers: readonly string[];
}

/** The load of shards 0..shards-1 (customers pinned beyond the count are not counted here). */
export function shardLoads(customers: readonly CustomerEnvironment[], shards: number): ShardLoad[] {
  return Array.from({ length: shards }, (_, shard) => {
    const on = customers.filter((c) => c.shard === shard);
    const sum = (k: ShardResource) => on.reduce((n, c) => n + shardCost(c)[k], 0);
    return { shard, customers: on.map((c) => c.name), targetGroups: sum('targetGroups'), rules: sum('rules'), certificates: sum('certificates') };
  });
}

/** A shard over one of its budgets. */
export interface ShardOverflow {
  readonly shard: number;
  readonly resource: ShardResource;
  readonly used: number;
  readonly budget: number;
  /** The customers (config order) whose resources no longer fit: the ones that overflow it. */
  readonly overflowing: readonly string[];
}

/** Every budget a shard exceeds, with the customers past the budget (in config order). */
export function shardOverflows(customers: readonly CustomerEnvironment[], budget: ShardBudget): ShardOverflow[] {
  const out: ShardOverflow[] = [];
  const shards = [...new Set(customers.map((c) => c.shard))].sort((a, b) => a - b);
  for (const shard of shards) {
    const on = customers.filter((c) => c.shard === shard);
    for (const resource of Object.keys(SHARD_RESOURCE_LABELS) as ShardResource[]) {
      let used = 0;
      const overflowing: string[] = [];
      for (const c of on) {
        const cost = shardCost(c)[resource];
        used += cost;
        if (cost > 0 && used > budget[resource]) overflowing.push(c.name);
      }
      if (used > budget[resource]) out.push({ shard, resource, used, budget: budget[resource], overflowing });
    }
  }
  return out;
}

/** Why no shard can be proposed, or the proposal. */
export type ShardProposal =
  | { readonly kind: 'shard'; readonly shard: number; readonly load: ShardLoad }
  | { readonly kind: 'full'; readonly message: string };

/**
 * The shard for a new customer (or one being placed again): of the shards with room for `cost`, the
 * one whose fullest resource is least full; ties go to the lowest number. `customers` are the others,
 * already pinned.
 */
export function proposeShard(customers: readonly CustomerEnvironment[], shards: number, budget: ShardBudget, cost: ShardCost): ShardProposal {
  const fill = (l: ShardCost) => Math.max(...(Object.keys(budget) as ShardResource[]).map((k) => l[k] / budget[k]));
  const fits = shardLoads(customers, shards).filter((l) => (Object.keys(budget) as ShardResource[]).every((k) => l[k] + cost[k] <= budget[k]));
  if (fits.length === 0) {
    return { kind: 'full', message: `all ${shards} shard(s) are full for a customer taking ${cost.targetGroups} target group, ${cost.rules} rule and ${cost.certificates} certificate(s); add a shard (ingress.shards: ${shards + 1}, docs/RUNBOOK.md "Adding a shard")` };
  }
  const best = fits.reduce((a, b) => (fill(b) < fill(a) ? b : a));
  return { kind: 'shard', shard: best.shard, load: best };
}

/** The ALBs of the environments sharing one account and region. */
export interface RegionAlbs {
  readonly account: string;
  readonly region: string;
  /** Environment names with their shard counts. */
  readonly environments: readonly { readonly name: string; readonly shards: number }[];
  readonly albs: number;
  /** The smallest `ingress.albsPerRegion` among them. */
  readonly quota: number;
}

/** ALBs per account and region, in order of first appearance. */
export function albsByRegion(
  envs: readonly { readonly name: string; readonly account: string; readonly region: string; readonly ingress: { readonly shards: number; readonly albsPerRegion: number } }[],
): RegionAlbs[] {
  const groups = new Map<string, { account: string; region: string; environments: { name: string; shards: number }[]; albs: number; quota: number }>();
  for (const e of envs) {
    const key = `${e.account}/${e.region}`;
    const g = groups.get(key) ?? { account: e.account, region: e.region, environments: [], albs: 0, quota: Number.POSITIVE_INFINITY };
    g.environments.push({ name: e.name, shards: e.ingress.shards });
    g.albs += e.ingress.shards;
    g.quota = Math.min(g.quota, e.ingress.albsPerRegion);
    groups.set(key, g);
  }
  return [...groups.values()];
}
