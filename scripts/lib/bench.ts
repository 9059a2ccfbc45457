/**
 * The pure parts of the benchmark (scripts/bench.ts): statistics, target evaluation, the generator
 * of N-environment configs, and the printed table. No I/O, no clocks.
 */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** a / b, or undefined when either is missing or b is not positive. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !(b > 0)) return undefined;
  return a / b;
}

export type TargetStatus = 'PASS' | 'MISS' | 'n/a';

export interface Target {
  readonly id: string;
  /** What is compared, e.g. "example synth / trivial synth". */
  readonly label: string;
  readonly numerator: string;
  readonly denominator: string;
  /** The ratio must be at most this. */
  readonly limit: number;
}

export interface TargetResult extends Target {
  readonly ratio: number | undefined;
  readonly status: TargetStatus;
}

/** Evaluates each target on the medians (by measurement id). A missing figure gives "n/a", never a failure. */
export function evaluateTargets(targets: readonly Target[], medians: Readonly<Record<string, number | undefined>>): TargetResult[] {
  return targets.map((t) => {
    const r = ratio(medians[t.numerator], medians[t.denominator]);
    return { ...t, ratio: r, status: r === undefined ? 'n/a' : r <= t.limit ? 'PASS' : 'MISS' };
  });
}

// ---------------------------------------------------------------------------
// Generated configs
// ---------------------------------------------------------------------------

type Json = any; // the raw (unvalidated) config input, as parsed from YAML

/**
 * A config input with `n` environments, made by cycling through the base config's environments
 * (so 30 environments are 10 copies of dev, staging and prod, in the same proportions as the
 * example). Each copy gets a numbered name (dev1, staging1, prod1, dev2, ...), its own
 * non-overlapping VPC `10.<i>.0.0/16` (i = 1..n), its own domain, and numbered branches of the
 * base's repositories routed to it. Validate the result with validateConfig.
 */
export function generateEnvironmentsConfig(base: Json, n: number): Json {
  if (!Number.isInteger(n) || n < 1 || n > 254) throw new Error(`n must be an integer from 1 to 254 (one 10.<i>.0.0/16 each), got ${n}`);
  const templates: Json[] = Array.isArray(base?.environments) ? base.environments : [];
  if (templates.length === 0) throw new Error('the base config has no environments to copy');
  const environments: Json[] = [];
  const routes: Array<{ template: string; copy: number; name: string }> = [];
  for (let i = 0; i < n; i++) {
    const t = templates[i % templates.length];
    const copy = Math.floor(i / templates.length) + 1;
    const suffix = String(copy);
    const name = `${String(t.name).slice(0, 10 - suffix.length)}${suffix}`;
    const env = JSON.parse(JSON.stringify(t));
    env.name = name;
    env.network = { ...env.network, vpcCidr: `10.${i + 1}.0.0/16` };
    env.ingress = { ...env.ingress, domain: `${name}.bench.example.com` };
    environments.push(env);
    routes.push({ template: String(t.name), copy, name });
  }
  const out = JSON.parse(JSON.stringify(base));
  out.environments = environments;
  if (Array.isArray(out.gitlab?.repositories)) {
    out.gitlab.repositories = out.gitlab.repositories.map((repo: Json) => {
      const branches: Record<string, string> = {};
      for (const [branch, target] of Object.entries(repo.branches ?? {})) {
        for (const r of routes) if (r.template === target) branches[`${branch}-${r.copy}`] = r.name;
      }
      return { ...repo, branches };
    });
  }
  // Customer overrides follow their environment into every copy; a custom domain stays with the
  // first copy only (a custom domain serves one environment).
  if (Array.isArray(out.customers)) {
    out.customers = out.customers.map((c: Json) => {
      const environments: Record<string, Json> = {};
      for (const [target, over] of Object.entries((c.environments ?? {}) as Record<string, Json>)) {
        for (const r of routes) {
          if (r.template !== target) continue;
          const copyOver = JSON.parse(JSON.stringify(over));
          if (r.copy > 1) delete copyOver.domains;
          environments[r.name] = copyOver;
        }
      }
      return { ...c, environments };
    });
  }
  delete out.$schema;
  return out;
}

/** Customers per load-balancer shard in generated configs: room below the 100-rule default. */
export const BENCH_CUSTOMERS_PER_SHARD = 90;

/**
 * A config input with the base's environments (dev, staging, prod) and `n` generated customers in
 * each: c0000..c<n-1>, one software repository each (develop → dev, release → staging, main →
 * prod), explicit rule priorities (1000 + i: computed ones collide at this count), every third with
 * a PostgreSQL database, pinned to shard floor(i / 90), and `ingress.shards` to match. n = 0 gives
 * the platform alone (no customers, no repositories).
 */
export function generateCustomersConfig(base: Json, n: number): Json {
  if (!Number.isInteger(n) || n < 0 || n > 4000) throw new Error(`n must be an integer from 0 to 4000, got ${n}`);
  const out = JSON.parse(JSON.stringify(base));
  delete out.$schema;
  const shards = Math.max(1, Math.ceil(n / BENCH_CUSTOMERS_PER_SHARD));
  const envNames: string[] = (out.environments as Json[]).map((e: Json) => e.name);
  for (const e of out.environments as Json[]) e.ingress = { ...e.ingress, shards };
  const branchOf = ['develop', 'release', 'main'];
  out.customers = Array.from({ length: n }, (_, i) => ({
    name: `c${String(i).padStart(4, '0')}`,
    rulePriority: 1000 + i,
    ...(Math.floor(i / BENCH_CUSTOMERS_PER_SHARD) > 0 ? { shard: Math.floor(i / BENCH_CUSTOMERS_PER_SHARD) } : {}),
    ...(i % 3 === 0 ? { database: { engine: 'postgres' } } : {}),
  }));
  out.gitlab = {
    ...(out.gitlab ?? {}),
    repositories: Array.from({ length: n }, (_, i) => ({
      path: `customers/c${String(i).padStart(4, '0')}`,
      kind: 'software',
      customer: `c${String(i).padStart(4, '0')}`,
      branches: Object.fromEntries(envNames.map((e, j) => [branchOf[j] ?? `env-${e}`, e])),
    })),
  };
  return out;
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

export function formatSeconds(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`;
}

export function formatRatio(r: number | undefined): string {
  return r === undefined ? 'n/a' : `${r.toFixed(2)}x`;
}

/** A plain text table: the first row is the header; columns of numbers (and "n/a") are right-aligned. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const [head, ...body] = rows;
  if (!head) return '';
  const isNumber = (c: string) => /^[\d.]+( s|x| KiB| ms)?$/.test(c);
  const numericColumn = widths.map((_w, i) => {
    const cells = body.map((r) => r[i] ?? '').filter((c) => c !== '' && c !== 'n/a');
    return cells.length > 0 && cells.every(isNumber);
  });
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (numericColumn[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------
// The webhook bundler (lambdas/build.ts, written separately; may be absent)
// ---------------------------------------------------------------------------

/** What the benchmark needs from lambdas/build.ts. */
export interface WebhookBundler {
  /** Bundles lambdas/gitlab-webhook into `<outDir>/index.js` and returns that file's path. */
  bundleGitlabWebhook(outDir: string): string;
}

/** The bundler from a loaded module, or a reason why the module does not fit. */
export function asWebhookBundler(mod: unknown): WebhookBundler | string {
  const fn = (mod as { bundleGitlabWebhook?: unknown } | null | undefined)?.bundleGitlabWebhook;
  if (typeof fn !== 'function') return 'lambdas/build.ts does not export bundleGitlabWebhook(outDir)';
  return { bundleGitlabWebhook: (outDir: string) => String(fn(outDir)) };
}
