/**
 * `npm run config-docs`: writes docs/config.md, the config reference, generated from the zod schema
 * (stacks/model/config/schema.ts) through its JSON Schema. The logic is in scripts/lib/config-docs.ts.
 * A test fails when the committed file is out of date.
 *
 *   npm run config-docs              write docs/config.md
 *   npm run config-docs -- --check   exit 1 (writing nothing) when docs/config.md is not up to date
 */
import * as fs from 'fs';
import * as path from 'path';
import { CONFIG_DOCS_FILE, configDocs } from './lib/config-docs';

const ROOT = path.resolve(__dirname, '..');
const USAGE = 'usage: config-docs.ts [--check]';

function main(argv: string[]): number {
  const mode = argv[0] ?? 'write';
  if (argv.length > 1 || !['write', '--check', '-h', '--help'].includes(mode)) {
    console.error(USAGE);
    return 2;
  }
  if (mode !== 'write' && mode !== '--check') {
    console.log(USAGE);
    return 0;
  }
  const out = path.join(ROOT, CONFIG_DOCS_FILE);
  const text = configDocs();
  if (mode === '--check') {
    const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    if (current === text) {
      console.log(`${CONFIG_DOCS_FILE} is up to date`);
      return 0;
    }
    console.error(`${CONFIG_DOCS_FILE} is out of date: run npm run config-docs and commit it`);
    return 1;
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  console.log(`wrote ${CONFIG_DOCS_FILE}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
