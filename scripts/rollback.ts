/**
 * Rolls one customer in one environment back by hand: the previous (or the named) good software
 * revision through CodeDeploy, or with --image the previous machine image through an instance
 * refresh. Shows what it will do and asks first.
 *
 *   npm run rollback -- <customer> <env> [--to <commit>] [--image] [--yes]
 *
 * Asks y/N on a terminal; --yes skips the question; without a terminal it refuses unless --yes.
 * Credentials, region and account as for scripts/releases.ts. Exit codes: 0 rollback started,
 * 1 refused, declined or failed (nothing changed unless a message says so), 2 usage.
 * The logic is in scripts/lib/releases.ts.
 */
import { cliDeps } from './lib/releases-cli';
import { runRollback } from './lib/releases';

if (require.main === module) {
  runRollback(process.argv.slice(2), cliDeps()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}
