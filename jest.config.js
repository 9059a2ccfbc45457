/** @type {import('jest').Config} */
module.exports = {
  roots: ['<rootDir>'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  testEnvironment: 'node',
  setupFilesAfterEnv: ['<rootDir>/setup.js'],
  // .stryker-tmp: the sandboxes of a running `npm run mutate` (copies of the whole project).
  modulePathIgnorePatterns: ['<rootDir>/cdktf.out', '<rootDir>/dist', '<rootDir>/build', '<rootDir>/.stryker-tmp'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.stryker-tmp/'],
  testTimeout: 120000,
  // One worker per core. Jest's default (cores - 1) is a single worker on the 2-core CI machine, so
  // the files ran one after the other: 182 s there, 110 s with two workers. Every test writes only
  // to its own temporary directory and listens on port 0, so files can run side by side.
  maxWorkers: '100%',
};
