/**
 * `node --require esbuild-register scripts/mutation-score.ts [report.json...] [--min N] [--survivors]`
 * (last step of `npm run mutate`): the mutation score of the Stryker JSON reports (default: every
 * reports/mutation/*.json), overall and per area. Exits 1 when the overall score is below --min
 * (default 85, the target of docs/MUTATION.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatScores, MutationReport, mutationScores, survivors } from './lib/mutation-score';

const args = process.argv.slice(2);
const minAt = args.indexOf('--min');
const min = minAt >= 0 ? Number(args[minAt + 1]) : 85;
const files = args.filter((a, i) => a.endsWith('.json') && i !== minAt + 1);
const dir = path.join(__dirname, '..', 'reports', 'mutation');
if (files.length === 0 && !fs.existsSync(dir)) {
  console.error(`no reports in ${path.relative(process.cwd(), dir)}: run npm run mutate first`);
  process.exit(1);
}
const reportFiles = files.length > 0 ? files : fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
const reports = reportFiles.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as MutationReport);
const scores = mutationScores(reports);
console.log(formatScores(scores));
if (args.includes('--survivors')) console.log(['', 'Undetected mutants:', ...survivors(reports)].join('\n'));
const overall = scores[scores.length - 1]?.score ?? 0;
if (overall < min) {
  console.error(`mutation score ${overall.toFixed(2)}% is below ${min}%`);
  process.exit(1);
}
