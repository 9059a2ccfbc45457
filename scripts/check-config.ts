/**
 * Checks the platform config that the app (main.ts) will read: PLATFORM_CONFIG, else
 * config/platform.yaml. Silent with exit 0 when it is valid; every problem and exit 1 when not.
 *
 *   node --require esbuild-register scripts/check-config.ts
 *
 * `npm run synth` runs this before `cdktf synth`, so that a bad config is printed once. The cdktf
 * CLI (cdktf-cli 0.21) prints whatever a failing app writes twice: each stderr chunk as it arrives
 * ("[ERROR] default - ..."), then all of it again in its closing "cdktf encountered an error while
 * synthesizing ... Command output on stderr:" (stdout alike: console.log as it arrives, then
 * "Command output on stdout:"). The app cannot prevent that from inside the CLI. Running
 * `cdktf synth` directly still checks the config (main.ts) but prints a bad one twice.
 */
import * as path from 'path';
import { ConfigError, loadConfigFile } from '../stacks/model/config/validate';

/** The file main.ts reads (its DEFAULT_CONFIG, unless PLATFORM_CONFIG names another). */
export function configFile(env: Record<string, string | undefined>): string {
  return path.resolve(env.PLATFORM_CONFIG || path.join(__dirname, '..', 'config', 'platform.yaml'));
}

/** 0 when the config loads; 1 after writing the ConfigError (every problem) to `error`. Other errors are thrown. */
export function checkConfig(env: Record<string, string | undefined>, error: (message: string) => void = console.error): number {
  try {
    loadConfigFile(configFile(env));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      error(e.message);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = checkConfig(process.env);
}
