// @ts-check
/**
 * Mutation testing of the Lambda code and the model: `npm run mutate` (scripts/mutate.ts) runs this
 * once per area of scripts/lib/mutation-areas.js, with MUTATE_AREA set (docs/MUTATION.md).
 * MUTATE_STATIC=1 also tests the static mutants (code that runs when a module loads: the zod
 * schema, constant tables); each of those runs every test of its area, which takes hours.
 * MUTATE_CHECK=1 type-checks every mutant first: a mutant that does not compile is then not run at
 * all, instead of running and usually failing a test. On 2 cores it made the image-rollout area's
 * run 8 times slower (16.4 min instead of 2.0), so it is off by default, also in the scheduled
 * pipeline job (docs/MUTATION.md).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
import areas from './scripts/lib/mutation-areas.js';

const area = areas.currentArea();

export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  checkers: process.env.MUTATE_CHECK === '1' ? ['typescript'] : [],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: area.mutate,
  coverageAnalysis: area.coverageAnalysis ?? 'perTest',
  ignoreStatic: process.env.MUTATE_STATIC !== '1',
  incremental: true,
  incrementalFile: `reports/stryker-incremental/${area.name}.json`,
  concurrency: 2,
  timeoutMS: 60000,
  reporters: ['progress-append-only', 'clear-text', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  htmlReporter: { fileName: `reports/mutation/${area.name}.html` },
  jsonReporter: { fileName: `reports/mutation/${area.name}.json` },
  tempDirName: `.stryker-tmp/${area.name}`,
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
