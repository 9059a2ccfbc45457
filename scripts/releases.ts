/**
 * Release history of one customer in one environment: software deployments and machine-image
 * rollouts, newest first, with commit, time, status, approver and the live one.
 *
 *   npm run releases -- <customer> <env> [--software | --image] [--limit N]
 *
 * AWS credentials of the environment's account come from the default chain (AWS_PROFILE, SSO,
 * environment variables...); the region and account from the platform config (PLATFORM_CONFIG,
 * default config/platform.yaml). Exit codes: 0 listed, 1 AWS or lookup problem, 2 usage.
 * The logic is in scripts/lib/releases.ts.
 */
import { cliDeps } from './lib/releases-cli';
import { runReleases } from './lib/releases';

if (require.main === module) {
  runReleases(process.argv.slice(2), cliDeps()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}
