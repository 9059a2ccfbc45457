// @ts-check
/**
 * Mutation testing of the clone-and-upload program (`npm run mutate`, docs/MUTATION.md). Its tests
 * bundle it and run the bundle in a child process against local git and S3 servers; the child
 * picks the active mutant from __STRYKER_ACTIVE_MUTANT__ (the test passes it on), but its coverage
 * does not reach Stryker, so coverage analysis is off: every mutant runs the whole test file.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
import base from './stryker.config.mjs';

export default {
  ...base,
  jest: { ...base.jest, configFile: 'jest.mutation.child.config.js' },
  mutate: ['lambdas/source-fetch/**/*.ts'],
  coverageAnalysis: 'off',
  incrementalFile: 'reports/stryker-incremental-clone-and-upload.json',
  htmlReporter: { fileName: 'reports/mutation/clone-and-upload.html' },
  jsonReporter: { fileName: 'reports/mutation/clone-and-upload.json' },
  tempDirName: '.stryker-tmp-child',
};
