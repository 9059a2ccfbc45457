/** @type {import('jest').Config} */
module.exports = {
  roots: ['<rootDir>'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  testEnvironment: 'node',
  setupFilesAfterEnv: ['<rootDir>/setup.js'],
  modulePathIgnorePatterns: ['<rootDir>/cdktf.out', '<rootDir>/dist', '<rootDir>/build'],
  testTimeout: 120000,
};
