/**
 * Writes .gitlab-ci.yml from the platform config (PLATFORM_CONFIG, default config/platform.yaml).
 *
 *   npm run gitlab-ci              write .gitlab-ci.yml at the repository root
 *   npm run gitlab-ci -- --check   exit 1 (writing nothing) when .gitlab-ci.yml is not up to date
 *   npm run gitlab-ci -- --stdout  print the pipeline instead of writing it
 *
 * The logic is in scripts/lib/gitlab-ci.ts. A bad config prints every problem and exits 1.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfigFile } from '../stacks/model/config/validate';
import { DEFAULT_CONFIG_PATH, PIPELINE_FILE, renderPipeline } from './lib/gitlab-ci';

const ROOT = path.resolve(__dirname, '..');
const USAGE = 'usage: gitlab-ci.ts [--check | --stdout]   (config: PLATFORM_CONFIG, default config/platform.yaml)';

function main(argv: string[]): number {
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
