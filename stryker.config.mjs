// @ts-check
/**
 * Mutation testing of the Lambda code and the model (`npm run mutate`, docs/MUTATION.md).
 * This run: every file that its tests load in the jest process, with per-test coverage.
 * stryker.child.config.mjs: the clone-and-upload program, which its tests run as a bundle in a
 * child process (no per-test coverage reaches Stryker from there).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    'lambdas/**/*.ts',
    '!lambdas/build.ts',
    '!lambdas/source-fetch/**',
    'stacks/model/**/*.ts',
  ],
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 2,
  timeoutMS: 60000,
  reporters: ['progress-append-only', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/lambdas-and-model.html' },
  jsonReporter: { fileName: 'reports/mutation/lambdas-and-model.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
