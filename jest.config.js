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
};
