/** Jest config for the clone-and-upload mutation run (stryker.child.config.mjs): its one test file. */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...base, testMatch: ['<rootDir>/__tests__/lambdas/clone-and-upload.test.ts'] };
