/**
 * Jest config of mutation testing (`npm run mutate`, stryker.config.mjs): only the test files of the
 * area in MUTATE_AREA (scripts/lib/mutation-areas.js). Never the real-Terraform plans, cross-stack,
 * bench, snapshot or construct-level synth tests: they test constructs, not this code, and would
 * make every static mutant cost minutes (docs/MUTATION.md). Not bundle.test.ts either: it checks the
 * packaging (size, requires, paths), which instrumented code changes.
 */
const base = require('./jest.config');
const { currentArea } = require('./scripts/lib/mutation-areas');

/** @type {import('jest').Config} */
module.exports = { ...base, testMatch: currentArea().tests.map((t) => `<rootDir>/${t}`) };
