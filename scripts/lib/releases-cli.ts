/** The real dependencies of `npm run releases` / `npm run rollback`: config file, AWS clients, terminal. */
import * as path from 'path';
import * as readline from 'readline';
import { loadConfigFile } from '../../stacks/model/config/validate';
import { awsClients, CliDeps } from './releases';

export const DEFAULT_CONFIG = path.join(__dirname, '..', '..', 'config', 'platform.yaml');

export function cliDeps(env: NodeJS.ProcessEnv = process.env): CliDeps {
  return {
    loadConfig: () => loadConfigFile(env.PLATFORM_CONFIG || DEFAULT_CONFIG),
    clients: awsClients,
    isTTY: process.stdin.isTTY === true && process.stdout.isTTY === true,
    ask: (question) =>
      new Promise((resolve) => {
        const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}
