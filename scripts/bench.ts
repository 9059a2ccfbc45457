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
 *   tests:   one `npx jest` run
 *   plans:   offline terraform init+validate+plan per stack (harness; n/a without terraform/mirror)
 *   webhook: zipped size and cold module-load time of the webhook Lambda bundle (n/a without
 *            lambdas/build.ts)
 * Targets (PASS/MISS, never a failing exit): example synth <= 1.3x the trivial app's synth;
 * 30 environments <= 10x the cost of 3.
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
import {
  Target,
  TargetResult,
  WebhookBundler,
  asWebhookBundler,
  evaluateTargets,
  formatRatio,
  formatSeconds,
  formatTable,
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

interface Args {
  runs: number;
  skipTests: boolean;
  skipPlans: boolean;
  out: string;
}

export const USAGE = 'usage: bench.ts [--runs N] [--skip-tests] [--skip-plans] [--out FILE]';

const FLAGS = {
  runs: { type: 'string' },
  'skip-tests': { type: 'boolean' },
  'skip-plans': { type: 'boolean' },
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

/** Runs a command once; returns its wall time in ms, or throws with the tail of its output. */
function timeOnce(c: Command): number {
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
    return ms;
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

async function measurePlans(runs: number): Promise<Measurement[]> {
  const discovery = discoverTerraform(process.env);
  if (!discovery.available) {
    return [{ id: 'plan', label: 'offline plan (every stack)', runsMs: [], status: 'n/a', note: `n/a (${discovery.reason})` }];
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-plan-stacks-'));
  try {
    const r = spawnSync(APP_PROGRAM, APP_ARGS, { cwd: ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir, PLATFORM_CONFIG: '' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`synth for the plans failed: ${r.stderr}`);
    const stacks = fs.readdirSync(path.join(outdir, 'stacks')).sort();
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

    const env = { ...process.env, CHECKPOINT_DISABLE: '1', PLATFORM_CONFIG: '' } as NodeJS.ProcessEnv;
    const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
    const app = (id: string, label: string, cwd: string, extra: NodeJS.ProcessEnv = {}): Command => ({
      id,
      label,
      cmd: APP_PROGRAM,
      args: APP_ARGS,
      cwd,
      env,
      prepare: (outdir) => ({ args: APP_ARGS, env: { ...env, ...extra, CDKTF_OUTDIR: outdir } }),
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
    ];
    const byId = new Map<string, Measurement>(commands.map((c) => [c.id, { id: c.id, label: c.label, runsMs: [], status: 'ok' as const }]));
    for (let run = 1; run <= args.runs; run++) {
      for (const c of commands) {
        const m = byId.get(c.id)!;
        if (m.status !== 'ok') continue;
        try {
          const ms = timeOnce(c);
          m.runsMs.push(ms);
          log(`  run ${run}/${args.runs} ${c.label}: ${formatSeconds(ms)}`);
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
    ];
    const results = evaluateTargets(targets, medians);

    const floorApp = medians['floor:app'];
    const floorSynth = medians['floor:synth'];
    const rows: string[][] = [['figure', 'runs', 'median', 'vs floor', 'note']];
    for (const m of measurements) {
      const floor = m.id.endsWith(':synth') ? floorSynth : m.id.startsWith('plan') || m.id === 'tests' ? undefined : floorApp;
      rows.push([m.label, String(m.runsMs.length), formatSeconds(m.medianMs), floor && m.medianMs !== undefined ? formatRatio(m.medianMs / floor) : '', m.status === 'ok' ? (m.note ?? '') : (m.note ?? m.status).split('\n')[0] ?? '']);
    }
    if (webhook.status === 'ok') {
      rows.push(['webhook bundle, zipped size', '1', `${((webhook.zippedBytes ?? 0) / 1024).toFixed(1)} KiB`, '', `index.js ${((webhook.bundleBytes ?? 0) / 1024).toFixed(1)} KiB, bundled in ${formatSeconds(webhook.bundleMs)}`]);
      rows.push(['webhook bundle, cold module load', String(webhook.loadRunsMs?.length ?? 0), `${(webhook.loadMedianMs ?? 0).toFixed(1)} ms`, '', 'require() of index.js in a fresh node (AWS SDK loads lazily, not counted)']);
    } else {
      rows.push(['webhook bundle, zipped size', '0', 'n/a', '', webhook.note ?? 'n/a']);
      rows.push(['webhook bundle, cold module load', '0', 'n/a', '', webhook.note ?? 'n/a']);
    }
    const targetRows: string[][] = [['target', 'ratio', 'limit', 'result'], ...results.map((t: TargetResult) => [t.label, formatRatio(t.ratio), `${t.limit}x`, t.status])];

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
