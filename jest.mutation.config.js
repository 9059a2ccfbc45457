/**
 * Jest config for mutation testing (`npm run mutate`, stryker.config.mjs): only the test files that
 * test the Lambda code and the model (config validation, IP plan, names, customers, IAM documents).
 * Left out: the real-Terraform plans, cross-stack, bench and snapshot tests and the construct-level
 * synth tests (network, ingress, security, IAM simulation, buckets...), which test constructs, not
 * this code, and would make every mutant of a module they load cost minutes (docs/MUTATION.md).
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
    // Not bundle.test.ts: it checks the packaging (size, requires, paths), which instrumented code changes.
    '<rootDir>/__tests__/lambdas/!(bundle).test.ts',
    '<rootDir>/__tests__/ip-plan.test.ts',
    '<rootDir>/__tests__/config.test.ts',
    '<rootDir>/__tests__/config-docs.test.ts',
    '<rootDir>/__tests__/customers.test.ts',
    '<rootDir>/__tests__/customer-routing.test.ts',
    '<rootDir>/__tests__/customer-database.test.ts',
    '<rootDir>/__tests__/customer-web-tier.test.ts',
  ],
};
