/**
 * `npm run mutate [-- area...]`: mutation testing (StrykerJS) of the Lambda code and the model, one
 * Stryker run per area of scripts/lib/mutation-areas.js (default: all), then the score per area
 * and overall of every report in reports/mutation/ (scripts/mutation-score.ts; exit 1 below 85%).
 * Each area's incremental file (committed) is kept without the mutants' status reasons.
 * HTML reports: reports/mutation/<area>.html. docs/MUTATION.md.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { withoutStatusReasons } from './lib/mutation-score';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AREAS } = require('./lib/mutation-areas') as { AREAS: Record<string, unknown> };

const ROOT = path.join(__dirname, '..');
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in AREAS));
if (unknown.length > 0) {
  console.error(`unknown area(s) ${unknown.join(', ')}; areas: ${Object.keys(AREAS).join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const area of asked.length > 0 ? asked : Object.keys(AREAS)) {
  const started = Date.now();
  console.log(`\n=== mutate ${area} ===`);
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, MUTATE_AREA: area } });
  console.log(`=== ${area}: ${r.status === 0 ? 'done' : `failed (${r.status ?? r.signal})`} in ${((Date.now() - started) / 60000).toFixed(1)} min ===`);
  if (r.status !== 0) failed = true;
  const incremental = path.join(ROOT, 'reports', 'stryker-incremental', `${area}.json`);
  if (fs.existsSync(incremental)) fs.writeFileSync(incremental, `${JSON.stringify(withoutStatusReasons(JSON.parse(fs.readFileSync(incremental, 'utf8'))))}\n`);
}
const score = spawnSync(process.execPath, ['--require', 'esbuild-register', path.join(__dirname, 'mutation-score.ts')], { cwd: ROOT, stdio: 'inherit' });
process.exit(failed ? 1 : (score.status ?? 1));
