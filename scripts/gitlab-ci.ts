/**
 * Writes .gitlab-ci.yml from the platform config (PLATFORM_CONFIG, default config/platform.yaml).
 *
 *   npm run gitlab-ci              write .gitlab-ci.yml at the repository root
 *   npm run gitlab-ci -- --check   exit 1 (writing nothing) when .gitlab-ci.yml is not up to date
 *   npm run gitlab-ci -- --stdout  print the pipeline instead of writing it
 *   npm run gitlab-ci -- --child --head HASHES [--base HASHES] --out FILE
 *                                  write the child pipeline of the stacks whose hashes differ
 *                                  (no --base: every stack counts as changed); run by the `changes` job
 *
 * The logic is in scripts/lib/gitlab-ci.ts. A bad config prints every problem and exits 1.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfigFile } from '../stacks/model/config/validate';
import { DEFAULT_CONFIG_PATH, PIPELINE_FILE, changedStacks, renderChildPipeline, renderPipeline } from './lib/gitlab-ci';
import { parseCli } from './lib/cli-args';
import { parseStackHashes } from './lib/stack-hashes';

const ROOT = path.resolve(__dirname, '..');
const USAGE = 'usage: gitlab-ci.ts [--check | --stdout | --child --head HASHES [--base HASHES] --out FILE]   (config: PLATFORM_CONFIG, default config/platform.yaml)';

/** The child pipeline of the changed stacks. */
function child(argv: string[]): number {
  const parsed = parseCli(argv, { child: { type: 'boolean' }, head: { type: 'string' }, base: { type: 'string' }, out: { type: 'string' } } as const, { positionals: false });
  if (parsed.kind !== 'ok' || !parsed.values.head || !parsed.values.out) {
    console.error(parsed.kind === 'error' ? `${parsed.message}\n${USAGE}` : USAGE);
    return 2;
  }
  const { head, base, out } = parsed.values;
  try {
    const config = loadConfigFile(path.resolve(process.env.PLATFORM_CONFIG || path.join(ROOT, DEFAULT_CONFIG_PATH)));
    const read = (f: string) => parseStackHashes(fs.readFileSync(f, 'utf8'), f);
    const changes = changedStacks(config, base ? read(base) : undefined, read(head));
    fs.writeFileSync(out, renderChildPipeline(config, changes));
    console.log(`${out}: ${changes.changed.length} changed stack(s)${changes.compared ? '' : ' (no baseline: all)'}${changes.changed.length ? `: ${changes.changed.join(', ')}` : ''}`);
    return 0;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

function main(argv: string[]): number {
  if (argv.includes('--child')) return child(argv);
  const mode = argv[0] ?? 'write';
  if (argv.length > 1 || !['write', '--check', '--stdout', '-h', '--help'].includes(mode)) {
    console.error(USAGE);
    return 2;
  }
  if (mode === '-h' || mode === '--help') {
    console.log(USAGE);
    return 0;
  }
  const configFile = path.resolve(process.env.PLATFORM_CONFIG || path.join(ROOT, DEFAULT_CONFIG_PATH));
  const configPath = path.relative(ROOT, configFile).split(path.sep).join('/');
  if (configPath.startsWith('../') || path.isAbsolute(configPath)) {
    console.error(`${configFile} is outside the repository: the pipeline's synth job could not read it. Commit the config into the repository first.`);
    return 1;
  }
  let text: string;
  try {
    text = renderPipeline(loadConfigFile(configFile), { configPath });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const target = path.join(ROOT, PIPELINE_FILE);
  if (mode === '--stdout') {
    process.stdout.write(text);
    return 0;
  }
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  if (mode === '--check') {
    if (current === text) {
      console.log(`${PIPELINE_FILE} is up to date with ${configPath}`);
      return 0;
    }
    console.error(`${PIPELINE_FILE} is not what ${configPath} generates: run \`npm run gitlab-ci\` and commit it`);
    return 1;
  }
  fs.writeFileSync(target, text);
  console.log(`${current === text ? 'unchanged' : 'wrote'} ${PIPELINE_FILE} from ${configPath}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
