/**
 * Runs the cdktf CLI the way the README promises: `npm run synth` and `npm run get` go through here.
 *
 *   node --require esbuild-register scripts/cdktf.ts synth [cdktf options...]
 *
 * - synth checks the platform config first (scripts/check-config.ts): a bad config is printed once
 *   and the CLI never starts (cdktf-cli 0.21 would print a failing app's output twice).
 * - CHECKPOINT_DISABLE=1: no version check against checkpoint-api.hashicorp.com, which prints an
 *   [ERROR] line on every machine without internet.
 * - TF_CLI_CONFIG_FILE naming a file that does not exist is left out of the CLI's environment:
 *   Terraform only warns about it, but the cdktf CLI prints each warning as an [ERROR] line. One
 *   note says so; an existing file is passed on untouched.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { checkConfig } from './check-config';

type Env = Record<string, string | undefined>;

/** The environment of the cdktf CLI, and the notes to print about what was changed. */
export function cliEnvironment(env: Env, exists: (file: string) => boolean = fs.existsSync): { env: Env; notes: string[] } {
  const out: Env = { ...env, CHECKPOINT_DISABLE: '1' };
  const notes: string[] = [];
  const cliConfig = env.TF_CLI_CONFIG_FILE;
  if (cliConfig && !exists(cliConfig)) {
    delete out.TF_CLI_CONFIG_FILE;
    notes.push(`note: TF_CLI_CONFIG_FILE names ${cliConfig}, which does not exist; cdktf runs without it`);
  }
  return { env: out, notes };
}

/** The cdktf binary of this project (node_modules/.bin), so the pinned cdktf-cli runs. */
export function cdktfBinary(root: string = path.join(__dirname, '..')): string {
  return path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'cdktf.cmd' : 'cdktf');
}

/** Runs `cdktf <args>`; returns its exit code. */
export function runCdktf(args: readonly string[], env: Env = process.env): number {
  if (args[0] === 'synth' && checkConfig(env) !== 0) return 1;
  const cli = cliEnvironment(env);
  for (const n of cli.notes) console.error(n);
  const r = spawnSync(cdktfBinary(), args, { stdio: 'inherit', env: cli.env as NodeJS.ProcessEnv });
  if (r.error) {
    console.error(`cannot run ${cdktfBinary()}: ${r.error.message} (run npm ci first)`);
    return 1;
  }
  return r.status ?? 1;
}

if (require.main === module) {
  process.exitCode = runCdktf(process.argv.slice(2));
}
