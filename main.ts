/**
 * The cdktf app. The only file that reads process.env: everything else gets its input as props.
 *
 * Config: PLATFORM_CONFIG=<file> (see README); default config/platform.yaml. A bad config prints
 * every problem and exits 1 before the App exists, so nothing at all is written (the App creates
 * its output folder as soon as it is constructed). The cdktf CLI repeats a failing app's output,
 * so `npm run synth` checks the config first (scripts/check-config.ts, same file rule as here).
 */
import * as path from 'path';
import { App } from 'cdktf';
import { ConfigError, PlatformConfig, loadConfigFile } from './stacks/model/config/validate';
import { buildPlatform } from './stacks/platform';

export const DEFAULT_CONFIG = path.join(__dirname, 'config', 'platform.yaml');

function loadOrExit(file: string): PlatformConfig {
  try {
    return loadConfigFile(path.resolve(file));
  } catch (e) {
    if (e instanceof ConfigError) {
      // A user error: the message lists every problem; a stack trace would only hide it.
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}

function main(): void {
  // esbuild-register turns on Node's source maps; cdktf captures a stack trace for every token,
  // and mapping each one cost about 0.6 s of a 2.2 s synth. A bug's stack trace points into the
  // transpiled code instead (esbuild keeps it close to the source); user errors print no trace.
  process.setSourceMapsEnabled(false);
  const config = loadOrExit(process.env.PLATFORM_CONFIG || DEFAULT_CONFIG);
  const app = new App();
  buildPlatform(app, config);
  app.synth();
}

main();
