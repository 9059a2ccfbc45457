/**
 * The scripts' flags (scripts/lib/cli-args.ts on util.parseArgs): scripts/offline-plan.ts and
 * scripts/bench.ts accept the same flags as before, and every error names the bad flag.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { parseCli } from '../scripts/lib/cli-args';
import { parseArgs as parseBenchArgs, USAGE as BENCH_USAGE } from '../scripts/bench';
import { parseArgs as parseOfflinePlanArgs, USAGE as OFFLINE_PLAN_USAGE } from '../scripts/offline-plan';

const ROOT = path.join(__dirname, '..');

describe('parseCli', () => {
  const flags = { outdir: { type: 'string' }, json: { type: 'boolean' } } as const;

  test('string and boolean flags, inline values, positionals and --', () => {
    expect(parseCli(['--outdir', 'o', '--json', 'a', '--', '--b'], flags, { positionals: true })).toEqual({
      kind: 'ok',
      values: { outdir: 'o', json: true },
      positionals: ['a', '--b'],
    });
    expect(parseCli(['--outdir=x=y'], flags, { positionals: false })).toEqual({ kind: 'ok', values: { outdir: 'x=y' }, positionals: [] });
  });

  test('each error names the flag or argument', () => {
    const err = (argv: string[], positionals = true) => {
      const r = parseCli(argv, flags, { positionals });
      return r.kind === 'error' ? r.message : r.kind;
    };
    expect(err(['--nope'])).toBe('unknown option --nope');
    expect(err(['-x'])).toBe('unknown option -x');
    expect(err(['--outdir'])).toBe('--outdir needs a value');
    expect(err(['--outdir='])).toBe('--outdir needs a value');
    expect(err(['--json=yes'])).toBe('--json takes no value, got "yes"');
    expect(err(['stray'], false)).toBe('unexpected argument stray (no positional arguments are taken)');
  });

  test('-h and --help ask for help; the first problem from the left wins', () => {
    expect(parseCli(['-h'], flags, { positionals: false })).toEqual({ kind: 'help' });
    expect(parseCli(['--help', '--nope'], flags, { positionals: false })).toEqual({ kind: 'help' });
    expect(parseCli(['--nope', '--help'], flags, { positionals: false })).toEqual({ kind: 'error', message: 'unknown option --nope' });
  });
});

describe('scripts/offline-plan.ts flags', () => {
  test('defaults, every flag, stacks', () => {
    expect(parseOfflinePlanArgs([])).toEqual({ outdir: 'cdktf.out', registry: false, json: false, keep: false, stacks: [] });
    expect(parseOfflinePlanArgs(['--outdir', 'out', '--registry', '--json', '--keep', 'dev', 'prod'])).toEqual({
      outdir: 'out',
      registry: true,
      json: true,
      keep: true,
      stacks: ['dev', 'prod'],
    });
    expect(parseOfflinePlanArgs(['--outdir=o2', 'dev'])).toMatchObject({ outdir: 'o2', stacks: ['dev'] });
    expect(parseOfflinePlanArgs(['--help'])).toBe(OFFLINE_PLAN_USAGE);
    expect(parseOfflinePlanArgs(['--outdir'])).toBe('--outdir needs a value');
    expect(parseOfflinePlanArgs(['--regsitry'])).toBe('unknown option --regsitry');
  });
});

describe('scripts/bench.ts flags', () => {
  test('defaults, every flag', () => {
    expect(parseBenchArgs([])).toEqual({ runs: 3, skipTests: false, skipPlans: false, skipLarge: false, out: path.join(ROOT, 'bench-results.json') });
    expect(parseBenchArgs(['--runs', '5', '--skip-tests', '--skip-plans', '--skip-large', '--out', 'b.json'])).toEqual({
      runs: 5,
      skipTests: true,
      skipPlans: true,
      skipLarge: true,
      out: path.resolve('b.json'),
    });
    expect(parseBenchArgs(['-h'])).toBe(BENCH_USAGE);
  });

  test('errors name the flag and the bad value', () => {
    expect(parseBenchArgs(['--runs', '0'])).toBe('--runs must be 1 to 50, got 0');
    expect(parseBenchArgs(['--runs=51'])).toBe('--runs must be 1 to 50, got 51');
    expect(parseBenchArgs(['--runs', '3x'])).toBe('--runs must be 1 to 50, got 3x');
    expect(parseBenchArgs(['--out'])).toBe('--out needs a value');
    expect(parseBenchArgs(['--skip-test'])).toBe('unknown option --skip-test');
    expect(parseBenchArgs(['dev'])).toBe('unexpected argument dev (no positional arguments are taken)');
  });
});

describe('the scripts print the problem and the usage, and exit 2 (0 for help)', () => {
  const run = (script: string, args: string[]) =>
    spawnSync(process.execPath, ['--require', 'esbuild-register', path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

  test.each([
    ['bench.ts', ['--runs', '99'], '--runs must be 1 to 50, got 99', BENCH_USAGE],
    ['offline-plan.ts', ['--nope'], 'unknown option --nope', OFFLINE_PLAN_USAGE],
  ])('%s %j', (script, args, message, usage) => {
    const r = run(script, args);
    expect(r.stderr).toBe(`${message}\n${usage}\n`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
    const help = run(script, ['--help']);
    expect(help.stderr).toBe(`${usage}\n`);
    expect(help.status).toBe(0);
  });
});
