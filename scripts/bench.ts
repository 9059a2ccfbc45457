/**
 * Benchmark: `npm run bench [-- options]`. Prints a table and writes bench-results.json.
 *
 *   --runs N        runs per figure; each figure is the median (default 3)
 *   --skip-tests    do not time the test suite (one `npx jest` run otherwise)
 *   --skip-plans    do not time the offline terraform plans
 *   --out FILE      JSON output (default bench-results.json)
 *
 * Figures (each a fresh process; runs interleaved round-robin so drift hits every figure alike):
 *   floor:   a trivial cdktf app with one resource, run like the project (the cdktf.json `app`
 *            command) and through `npx cdktf synth` with its own copy of cdktf.json
 *   example: the project's `npx cdktf synth`, and its app alone (the cdktf.json `app` command)
 *   scaling: the app alone with 3, 10 and 30 generated environments (PLATFORM_CONFIG)
 *   customers: the app alone with the 3 example environments and 0 (platform only), 10, 100 and
 *            1,000 generated customers each: wall time, peak memory (max RSS) and stacks written;
 *            1,000 runs once (--skip-large leaves it out)
 *   pipeline: the child pipeline of a one-customer change at 3 x 1,000 customers (plan jobs, bytes)
 *   tests:   one `npx jest` run
 *   plans:   offline terraform init+validate+plan of one environment stack (dev) and one customer
 *            stack (dev-shop) (harness; n/a without terraform/mirror)
 *   webhook: zipped size and cold module-load time of the webhook Lambda bundle (n/a without
 *            lambdas/build.ts)
 * Targets (PASS/MISS, never a failing exit): example synth <= 1.3x the trivial app's synth;
 * 30 environments <= 10x the cost of 3; 3 x 100 customers <= 8x the platform alone; 3 x 1,000
 * customers under 10 minutes and 4 GiB; a one-customer change plans exactly 1 stack.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import YAML from 'yaml';
import { zipSync } from 'fflate';
import { parseCli } from './lib/cli-args';
import { discoverTerraform, offlinePlan } from './lib/offline-plan';
import { validateConfig } from '../stacks/model/config/validate';
import { changedStacks, pipelineStacks, renderChildPipeline } from './lib/gitlab-ci';
import { customerStackName } from '../stacks/model/naming';
import {
  Target,
  TargetResult,
  WebhookBundler,
  asWebhookBundler,
  evaluateTargets,
  formatRatio,
  formatSeconds,
  formatTable,
  generateCustomersConfig,
  generateEnvironmentsConfig,
  median,
} from './lib/bench';

const ROOT = path.resolve(__dirname, '..');
const CDKTF_JSON = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as { app?: unknown };
/**
 * The cdktf.json `app` command (e.g. `node --require esbuild-register main.ts`),
 * split into the program and its arguments, so that "the app alone" is exactly what synth runs.
 */
const [APP_PROGRAM, ...APP_ARGS] = appCommand(CDKTF_JSON.app);

function appCommand(app: unknown): [string, ...string[]] {
  if (typeof app !== 'string' || !/\S/.test(app) || /["'$`\\|&;<>]/.test(app)) {
    throw new Error(`cdktf.json "app" must be a plain command without quoting or shell syntax, got ${JSON.stringify(app)}`);
  }
  const [program, ...args] = app.trim().split(/\s+/) as [string, ...string[]];
  return [program === 'node' ? process.execPath : program, ...args];
}
const SCALES = [3, 10, 30] as const;
/** Customers per environment (3 environments); the last runs once, after the interleaved runs. */
const CUSTOMER_SCALES = [0, 10, 100] as const;
const LARGE_CUSTOMERS = 1000;

interface Args {
  runs: number;
  skipTests: boolean;
  skipPlans: boolean;
  skipLarge: boolean;
  out: string;
}

export const USAGE = 'usage: bench.ts [--runs N] [--skip-tests] [--skip-plans] [--skip-large] [--out FILE]';

const FLAGS = {
  runs: { type: 'string' },
  'skip-tests': { type: 'boolean' },
  'skip-plans': { type: 'boolean' },
  'skip-large': { type: 'boolean' },
  out: { type: 'string' },
} as const;

/** The arguments, or a message: USAGE for -h/--help, else the problem (naming the flag). */
export function parseArgs(argv: string[]): Args | string {
  const parsed = parseCli(argv, FLAGS, { positionals: false });
  if (parsed.kind === 'help') return USAGE;
  if (parsed.kind === 'error') return parsed.message;
  const v = parsed.values;
  const runs = v.runs === undefined ? 3 : /^\d+$/.test(v.runs) ? Number.parseInt(v.runs, 10) : Number.NaN;
  if (!(runs >= 1 && runs <= 50)) return `--runs must be 1 to 50, got ${v.runs}`;
  return {
    runs,
    skipTests: v['skip-tests'] ?? false,
    skipPlans: v['skip-plans'] ?? false,
    skipLarge: v['skip-large'] ?? false,
    out: v.out === undefined ? path.join(ROOT, 'bench-results.json') : path.resolve(v.out),
  };
}

interface Measurement {
  id: string;
  label: string;
  runsMs: number[];
  medianMs?: number;
  /** Why there is no figure ("n/a ..."), or a failure. */
  note?: string;
  status: 'ok' | 'n/a' | 'failed';
  /** Highest peak memory (max RSS) of the runs, MiB, when measured. */
  peakMiB?: number;
  /** Stacks the run wrote. */
  stacks?: number;
}

/** One run: wall time, peak memory (when the command reports it) and stacks written. */
interface RunFigures {
  ms: number;
  peakMiB?: number;
  stacks: number;
}

interface Command {
  id: string;
  label: string;
  cmd: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** A fresh output folder per run, passed through env or args by `prepare`. */
  prepare: (outdir: string) => { args: string[]; env: NodeJS.ProcessEnv };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs a command once; returns its figures, or throws with the tail of its output. */
function timeOnce(c: Command): RunFigures {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${c.id.replace(/[^a-z0-9]+/gi, '-')}-`));
  try {
    const { args, env } = c.prepare(outdir);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, args, { cwd: c.cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error || r.status !== 0) {
      const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`${c.cmd} ${args.join(' ')} ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}\n${out}`);
    }
    const stacks = path.join(outdir, 'stacks');
    if (!fs.existsSync(stacks) || fs.readdirSync(stacks).length === 0) throw new Error(`${c.label}: wrote no stacks to ${outdir}`);
    const rssFile = `${outdir}.rss`;
    const peakMiB = fs.existsSync(rssFile) ? Number.parseInt(fs.readFileSync(rssFile, 'utf8'), 10) / 1024 : undefined;
    fs.rmSync(rssFile, { force: true });
    return { ms, peakMiB, stacks: fs.readdirSync(stacks).length };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The trivial app: one stack, the aws provider and one S3 bucket, imported the way the project imports. */
const TRIVIAL_MAIN = `import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';

const app = new App();
const stack = new TerraformStack(app, 'trivial');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new S3Bucket(stack, 'bucket', { bucket: 'bench-trivial-bucket' });
app.synth();
`;

/** Preloaded into app runs: writes the process's peak memory (max RSS, KiB) to BENCH_RSS_FILE at exit. */
const PEAK_RSS_PRELOAD = `process.on('exit', () => { if (process.env.BENCH_RSS_FILE) require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n`;

function writeTrivialApp(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.ts'), TRIVIAL_MAIN);
  const cdktfJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, 'cdktf.json'), JSON.stringify({ ...cdktfJson, projectId: 'bench-trivial-app' }, null, 2));
}

function loadWebhookBundler(): WebhookBundler | string {
  const file = path.join(ROOT, 'lambdas', 'build.ts');
  if (!fs.existsSync(file)) return 'lambdas/build.ts missing';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return asWebhookBundler(require(file));
}

interface WebhookFigures {
  status: 'ok' | 'n/a' | 'failed';
  note?: string;
  bundleBytes?: number;
  zippedBytes?: number;
  bundleMs?: number;
  loadRunsMs?: number[];
  loadMedianMs?: number;
}

function measureWebhook(runs: number): WebhookFigures {
  const bundler = loadWebhookBundler();
  if (typeof bundler === 'string') return { status: 'n/a', note: `n/a (${bundler})` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webhook-'));
  try {
    const t0 = process.hrtime.bigint();
    const file = bundler.bundleGitlabWebhook(dir);
    const bundleMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const code = fs.readFileSync(file);
    // What Lambda receives: the bundle zipped (default deflate level, like the archive provider).
    const zipped = zipSync({ [path.basename(file)]: new Uint8Array(code) }, { level: 6 });
    const probe = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const loadRunsMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(process.execPath, ['-e', probe], { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
      loadRunsMs.push(Number.parseFloat(r.stdout));
    }
    return { status: 'ok', bundleBytes: code.length, zippedBytes: zipped.length, bundleMs, loadRunsMs, loadMedianMs: median(loadRunsMs) };
  } catch (e) {
    return { status: 'failed', note: e instanceof Error ? e.message : String(e) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One environment stack and one customer stack (with a database) of the example. */
const PLANNED_STACKS = ['dev', 'dev-shop'] as const;

async function measurePlans(runs: number): Promise<Measurement[]> {
  const discovery = discoverTerraform(process.env);
  if (!discovery.available) {
    return [{ id: 'plan', label: 'offline plan (dev, dev-shop)', runsMs: [], status: 'n/a', note: `n/a (${discovery.reason})` }];
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-plan-stacks-'));
  try {
    const r = spawnSync(APP_PROGRAM, APP_ARGS, { cwd: ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir, PLATFORM_CONFIG: '' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`synth for the plans failed: ${r.stderr}`);
    const stacks = PLANNED_STACKS.filter((s) => fs.existsSync(path.join(outdir, 'stacks', s)));
    const out: Measurement[] = [];
    for (const stack of stacks) {
      const m: Measurement = { id: `plan:${stack}`, label: `offline plan ${stack} (init+validate+plan)`, runsMs: [], status: 'ok' };
      for (let i = 0; i < runs; i++) {
        log(`  offline plan ${stack} run ${i + 1}/${runs}`);
        const res = await offlinePlan(path.join(outdir, 'stacks', stack), { discovery });
        if (!res.ok) {
          m.status = 'failed';
          m.note = `failed at ${res.failure?.phase}: ${res.failure?.message.split('\n')[0]}`;
          break;
        }
        m.runsMs.push(res.timings.initValidatePlanMs);
      }
      if (m.status === 'ok') {
        m.medianMs = median(m.runsMs);
        m.note = `terraform ${discovery.terraformVersion}, hashicorp/aws from the mirror`;
      }
      out.push(m);
    }
    return out;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    console.error(parsed === USAGE ? USAGE : `${parsed}\n${USAGE}`);
    return parsed === USAGE ? 0 : 2;
  }
  const args = parsed;
  const started = Date.now();
  // Inside the project so that the trivial app resolves node_modules; removed at the end.
  const work = fs.mkdtempSync(path.join(ROOT, '.bench-'));
  const measurements: Measurement[] = [];
  try {
    const trivialDir = path.join(work, 'trivial');
    writeTrivialApp(trivialDir);
    const base = YAML.parse(fs.readFileSync(path.join(ROOT, 'config', 'platform.yaml'), 'utf8'));
    const configs = new Map<number, string>();
    for (const n of SCALES) {
      const input = generateEnvironmentsConfig(base, n);
      validateConfig(input, `generated ${n}`); // throws ConfigError: the bench must measure valid configs
      const file = path.join(work, `platform-${n}-environments.yaml`);
      fs.writeFileSync(file, YAML.stringify(input));
      configs.set(n, file);
    }
    const customerConfigs = new Map<number, string>();
    for (const n of [...CUSTOMER_SCALES, LARGE_CUSTOMERS]) {
      const input = generateCustomersConfig(base, n);
      validateConfig(input, `generated ${n} customers`);
      const file = path.join(work, `platform-3x${n}-customers.yaml`);
      fs.writeFileSync(file, YAML.stringify(input));
      customerConfigs.set(n, file);
    }
    const preload = path.join(work, 'peak-rss.js');
    fs.writeFileSync(preload, PEAK_RSS_PRELOAD);

    const env = { ...process.env, CHECKPOINT_DISABLE: '1', PLATFORM_CONFIG: '' } as NodeJS.ProcessEnv;
    const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
    const app = (id: string, label: string, cwd: string, extra: NodeJS.ProcessEnv = {}): Command => ({
      id,
      label,
      cmd: APP_PROGRAM,
      args: APP_ARGS,
      cwd,
      env,
      prepare: (outdir) => ({ args: ['--require', preload, ...APP_ARGS], env: { ...env, ...extra, CDKTF_OUTDIR: outdir, BENCH_RSS_FILE: `${outdir}.rss` } }),
    });
    const synth = (id: string, label: string, cwd: string): Command => ({
      id,
      label,
      cmd: npx,
      args: [],
      cwd,
      env,
      prepare: (outdir) => ({ args: ['cdktf', 'synth', '--output', outdir], env }),
    });
    const commands: Command[] = [
      app('floor:app', 'floor: trivial app, cdktf.json app command', trivialDir),
      synth('floor:synth', 'floor: trivial app, npx cdktf synth', trivialDir),
      app('example:app', 'example (3 envs): app alone', ROOT),
      synth('example:synth', 'example (3 envs): npx cdktf synth', ROOT),
      ...SCALES.map((n) => app(`generated:${n}`, `generated ${n} envs: app alone`, ROOT, { PLATFORM_CONFIG: configs.get(n) })),
      ...CUSTOMER_SCALES.map((n) => app(`customers:${n}`, n === 0 ? '3 envs, platform only: app alone' : `3 envs x ${n} customers: app alone`, ROOT, { PLATFORM_CONFIG: customerConfigs.get(n) })),
    ];
    const large = app(`customers:${LARGE_CUSTOMERS}`, `3 envs x ${LARGE_CUSTOMERS} customers: app alone (1 run)`, ROOT, { PLATFORM_CONFIG: customerConfigs.get(LARGE_CUSTOMERS) });
    const byId = new Map<string, Measurement>(commands.map((c) => [c.id, { id: c.id, label: c.label, runsMs: [], status: 'ok' as const }]));
    for (let run = 1; run <= args.runs; run++) {
      for (const c of commands) {
        const m = byId.get(c.id)!;
        if (m.status !== 'ok') continue;
        try {
          const f = timeOnce(c);
          m.runsMs.push(f.ms);
          if (f.peakMiB !== undefined) m.peakMiB = Math.max(m.peakMiB ?? 0, f.peakMiB);
          m.stacks = f.stacks;
          log(`  run ${run}/${args.runs} ${c.label}: ${formatSeconds(f.ms)}`);
        } catch (e) {
          m.status = 'failed';
          m.note = e instanceof Error ? e.message : String(e);
          log(`  FAILED ${c.label}: ${m.note}`);
        }
      }
    }
    for (const m of byId.values()) {
      if (m.status === 'ok') m.medianMs = median(m.runsMs);
      measurements.push(m);
    }
    if (args.skipLarge) measurements.push({ id: large.id, label: large.label, runsMs: [], status: 'n/a', note: 'n/a (--skip-large)' });
    else {
      const m: Measurement = { id: large.id, label: large.label, runsMs: [], status: 'ok' };
      try {
        log(`  ${large.label} ...`);
        const f = timeOnce(large);
        Object.assign(m, { runsMs: [f.ms], medianMs: f.ms, peakMiB: f.peakMiB, stacks: f.stacks });
        log(`  ${large.label}: ${formatSeconds(f.ms)}, ${f.peakMiB?.toFixed(0)} MiB`);
      } catch (e) {
        Object.assign(m, { status: 'failed', note: e instanceof Error ? e.message : String(e) });
      }
      measurements.push(m);
    }

    // The child pipeline of a one-customer change at 3 x 1,000 customers (hashes stand in for the synth).
    const largeConfig = validateConfig(generateCustomersConfig(base, LARGE_CUSTOMERS), 'generated');
    const head = Object.fromEntries(pipelineStacks(largeConfig).map((s) => [s, 'a'.repeat(64)]));
    const oneCustomer = customerStackName(largeConfig.environments[0]!.name, largeConfig.environments[0]!.customers[0]!.name);
    const t0child = process.hrtime.bigint();
    const childText = renderChildPipeline(largeConfig, changedStacks(largeConfig, { ...head, [oneCustomer]: 'b'.repeat(64) }, head));
    const childMs = Number(process.hrtime.bigint() - t0child) / 1e6;
    const childPlanJobs = (childText.match(/^plan:/gm) ?? []).length;
    const child = { stacks: pipelineStacks(largeConfig).length, changed: oneCustomer, planJobs: childPlanJobs, bytes: Buffer.byteLength(childText), generateMs: childMs };

    if (args.skipTests) measurements.push({ id: 'tests', label: 'test suite, one npx jest run', runsMs: [], status: 'n/a', note: 'n/a (--skip-tests)' });
    else {
      log('  test suite: npx jest (one run)');
      const t0 = process.hrtime.bigint();
      const r = spawnSync(npx, ['jest', '--silent'], { cwd: ROOT, env: { ...process.env, CI: 'true' }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const lines = `${r.stderr ?? ''}`.split('\n');
      const failed = lines.filter((l) => /^\s*● /.test(l) && !/● Console/.test(l)).map((l) => l.trim().replace(/^● /, ''));
      const summary = [lines.filter((l) => /^Tests:/.test(l)).join(' ').trim(), ...(failed.length > 0 ? [`failed: ${failed.join('; ')}`] : [])].join('; ');
      measurements.push({
        id: 'tests',
        label: 'test suite, one npx jest run',
        runsMs: [ms],
        medianMs: ms,
        status: r.status === 0 ? 'ok' : 'failed',
        note: summary || `jest exited ${r.status}`,
      });
    }

    if (args.skipPlans) measurements.push({ id: 'plan', label: 'offline plan (every stack)', runsMs: [], status: 'n/a', note: 'n/a (--skip-plans)' });
    else measurements.push(...(await measurePlans(args.runs)));

    log('  webhook bundle');
    const webhook = measureWebhook(args.runs);

    const medians: Record<string, number | undefined> = Object.fromEntries(measurements.map((m) => [m.id, m.medianMs]));
    const targets: Target[] = [
      { id: 'synth-vs-floor', label: 'example synth / trivial app synth', numerator: 'example:synth', denominator: 'floor:synth', limit: 1.3 },
      { id: 'scale-30-vs-3', label: '30 environments / 3 environments (app alone)', numerator: 'generated:30', denominator: 'generated:3', limit: 10 },
      { id: 'customers-100-vs-platform', label: '3 x 100 customers / platform only (app alone)', numerator: 'customers:100', denominator: 'customers:0', limit: 8 },
    ];
    const results = evaluateTargets(targets, medians);
    const largeM = measurements.find((m) => m.id === large.id)!;
    const absolute: TargetResult[] = [
      { id: 'customers-1000-time', label: `3 x ${LARGE_CUSTOMERS} customers: seconds (limit 600 s)`, numerator: large.id, denominator: '-', limit: 600, ratio: largeM.medianMs === undefined ? undefined : largeM.medianMs / 1000, status: largeM.medianMs === undefined ? 'n/a' : largeM.medianMs <= 600_000 ? 'PASS' : 'MISS' },
      { id: 'customers-1000-memory', label: `3 x ${LARGE_CUSTOMERS} customers: peak MiB (limit 4096)`, numerator: large.id, denominator: '-', limit: 4096, ratio: largeM.peakMiB, status: largeM.peakMiB === undefined ? 'n/a' : largeM.peakMiB < 4096 ? 'PASS' : 'MISS' },
      { id: 'one-customer-plan-jobs', label: 'one-customer change: plan jobs (limit 1)', numerator: '-', denominator: '-', limit: 1, ratio: child.planJobs, status: child.planJobs === 1 ? 'PASS' : 'MISS' },
    ];
    results.push(...absolute);

    const floorApp = medians['floor:app'];
    const floorSynth = medians['floor:synth'];
    const floorPeak = measurements.find((m) => m.id === 'floor:app')?.peakMiB;
    const rows: string[][] = [['figure', 'runs', 'median', 'vs floor', 'peak MiB', 'vs floor', 'stacks', 'note']];
    for (const m of measurements) {
      const floor = m.id.endsWith(':synth') ? floorSynth : m.id === 'tests' ? undefined : floorApp;
      rows.push([
        m.label,
        String(m.runsMs.length),
        formatSeconds(m.medianMs),
        floor && m.medianMs !== undefined ? formatRatio(m.medianMs / floor) : '',
        m.peakMiB === undefined ? '' : m.peakMiB.toFixed(0),
        m.peakMiB !== undefined && floorPeak ? formatRatio(m.peakMiB / floorPeak) : '',
        m.stacks === undefined ? '' : String(m.stacks),
        m.status === 'ok' ? (m.note ?? '') : (m.note ?? m.status).split('\n')[0] ?? '',
      ]);
    }
    rows.push([`child pipeline, one-customer change (${child.stacks} stacks)`, '1', `${(child.bytes / 1024).toFixed(1)} KiB`, '', '', '', String(child.planJobs), `${child.planJobs} plan job(s) (${child.changed}); generated in ${child.generateMs.toFixed(0)} ms`]);
    if (webhook.status === 'ok') {
      rows.push(['webhook bundle, zipped size', '1', `${((webhook.zippedBytes ?? 0) / 1024).toFixed(1)} KiB`, '', '', '', '', `index.js ${((webhook.bundleBytes ?? 0) / 1024).toFixed(1)} KiB, bundled in ${formatSeconds(webhook.bundleMs)}`]);
      rows.push(['webhook bundle, cold module load', String(webhook.loadRunsMs?.length ?? 0), `${(webhook.loadMedianMs ?? 0).toFixed(1)} ms`, '', '', '', '', 'require() of index.js in a fresh node (AWS SDK loads lazily, not counted)']);
    } else {
      rows.push(['webhook bundle, zipped size', '0', 'n/a', '', '', '', '', webhook.note ?? 'n/a']);
      rows.push(['webhook bundle, cold module load', '0', 'n/a', '', '', '', '', webhook.note ?? 'n/a']);
    }
    const targetRows: string[][] = [
      ['target', 'value', 'limit', 'result'],
      ...results.map((t: TargetResult) => (t.denominator === '-' ? [t.label, t.ratio === undefined ? 'n/a' : t.ratio.toFixed(1), String(t.limit), t.status] : [t.label, formatRatio(t.ratio), `${t.limit}x`, t.status])),
    ];

    const cpus = os.cpus();
    const machine = { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}/${process.arch}` };
    console.log(`\nBenchmark (${args.runs} run(s) per figure, median; ${machine.cpus} x ${machine.cpuModel}, node ${machine.node})\n`);
    console.log(formatTable(rows));
    console.log('');
    console.log(formatTable(targetRows));
    const result = {
      generatedAt: new Date().toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      runs: args.runs,
      machine,
      measurements,
      webhook,
      childPipeline: child,
      targets: results,
    };
    fs.writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), args.out) || args.out} (${result.durationSeconds} s)`);
    return 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}
