/**
 * The npm scripts around the cdktf CLI: no version check against checkpoint-api.hashicorp.com
 * (CHECKPOINT_DISABLE=1, which fails without internet), and a bad config printed once by
 * `npm run synth` (scripts/check-config.ts runs before the CLI, which would print it twice).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkConfig, configFile } from '../scripts/check-config';
import { cliEnvironment } from '../scripts/cdktf';

const ROOT = path.join(__dirname, '..');
const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-cli-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A config with two problems, each named in the message. */
const BAD_CONFIG = 'project: X\nenvironments: nope\n';

/** Each command of a script (split at && || ;) as its leading VAR=value words and the rest. */
function commands(script: string): Array<{ env: string[]; argv: string[] }> {
  return script
    .split(/&&|\|\||;/)
    .map((c) => c.trim().split(/\s+/).filter(Boolean))
    .map((words) => {
      const env: string[] = [];
      while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) env.push(words.shift() as string);
      return { env, argv: words };
    });
}

describe('npm scripts that run the cdktf CLI', () => {
  test('get and synth go through scripts/cdktf.ts; no script calls the cdktf CLI directly', () => {
    expect(scripts.get).toBe('node --require esbuild-register scripts/cdktf.ts get');
    expect(scripts.synth).toBe('node --require esbuild-register scripts/cdktf.ts synth');
    const direct = Object.entries(scripts).filter(([, script]) => commands(script).some((c) => c.argv[0] === 'cdktf' || (c.argv[0] === 'npx' && c.argv[1] === 'cdktf')));
    expect(direct.map(([name]) => name)).toEqual([]);
  });

  test('the CLI runs with CHECKPOINT_DISABLE=1 and without a TF_CLI_CONFIG_FILE that does not exist', () => {
    const missing = cliEnvironment({ TF_CLI_CONFIG_FILE: '/nowhere/.terraformrc', HOME: '/h' }, () => false);
    expect(missing.env).toEqual({ CHECKPOINT_DISABLE: '1', HOME: '/h' });
    expect(missing.notes).toEqual(['note: TF_CLI_CONFIG_FILE names /nowhere/.terraformrc, which does not exist; cdktf runs without it']);
    const present = cliEnvironment({ TF_CLI_CONFIG_FILE: '/etc/terraformrc' }, () => true);
    expect(present.env).toEqual({ CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/etc/terraformrc' });
    expect(present.notes).toEqual([]);
    expect(cliEnvironment({}).env).toEqual({ CHECKPOINT_DISABLE: '1' });
  });

  test('config check reads the file main.ts reads', () => {
    expect(configFile({})).toBe(path.join(ROOT, 'config', 'platform.yaml'));
    expect(configFile({ PLATFORM_CONFIG: '' })).toBe(path.join(ROOT, 'config', 'platform.yaml'));
    expect(configFile({ PLATFORM_CONFIG: 'x.yaml' })).toBe(path.resolve('x.yaml'));
  });
});

describe('scripts/check-config.ts', () => {
  test('the example config passes silently', () => {
    const out: string[] = [];
    expect(checkConfig({}, (m) => out.push(m))).toBe(0);
    expect(out).toEqual([]);
  });

  test('a bad config prints every problem once and returns 1', () => {
    const file = path.join(tmpRoot, 'bad.yaml');
    fs.writeFileSync(file, BAD_CONFIG);
    const out: string[] = [];
    expect(checkConfig({ PLATFORM_CONFIG: file }, (m) => out.push(m))).toBe(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^Invalid platform config .*bad\.yaml: 2 problems\n  - project: got "X"/);
    expect(out[0]).toContain('  - environments: got "nope"');
  });
});

describe('npm run synth with a bad PLATFORM_CONFIG (one run, about 1 s: the CLI never starts)', () => {
  test('prints the problems once, writes nothing and fails', () => {
    const file = path.join(tmpRoot, 'bad-synth.yaml');
    fs.writeFileSync(file, BAD_CONFIG);
    const outdir = path.join(tmpRoot, 'synth-out');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['run', 'synth', '--', '--output', outdir], {
      cwd: ROOT,
      env: { ...process.env, PLATFORM_CONFIG: file },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const all = `${r.stdout}\n${r.stderr}`;
    const count = (s: string): number => all.split(s).length - 1;
    expect(count('Invalid platform config')).toBe(1);
    expect(count('- project: got "X"')).toBe(1);
    expect(count('- environments: got "nope"')).toBe(1);
    expect(all).not.toContain('cdktf encountered an error');
    expect(all).not.toContain('checkpoint-api.hashicorp.com');
    expect(r.status).not.toBe(0);
    expect(fs.existsSync(outdir)).toBe(false);
  }, 120_000);
});

describe('npm run synth of the example config (one run, a few seconds)', () => {
  test('writes every stack and prints no error line, even with a TF_CLI_CONFIG_FILE that does not exist', () => {
    const outdir = path.join(tmpRoot, 'example-out');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const env: NodeJS.ProcessEnv = { ...process.env, TF_CLI_CONFIG_FILE: path.join(tmpRoot, 'missing.terraformrc') };
    delete env.PLATFORM_CONFIG;
    const r = spawnSync(npm, ['run', 'synth', '--', '--output', outdir], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    const all = `${r.stdout}\n${r.stderr}`;
    expect(r.status).toBe(0);
    expect(all).not.toMatch(/\[ERROR\]|Error:|ENOTFOUND|Warning:/);
    expect(fs.readdirSync(path.join(outdir, 'stacks')).sort()).toEqual(['bootstrap', 'dev', 'dev-blog', 'dev-shop', 'dev-wiki', 'prod', 'prod-shop', 'prod-wiki', 'staging', 'staging-shop']);
  }, 120_000);
});
