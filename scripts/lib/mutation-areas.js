/**
 * The areas of `npm run mutate` (docs/MUTATION.md): each a Stryker run of its own, with the files
 * it mutates and the only test files that run for it. A static mutant (one in code that runs when
 * a module loads, such as the zod schema) makes Stryker run every test of its run, so each area
 * runs only the tests of that code: a mutant killed by a test of another area counts as survived
 * here (the score errs low, never high). Read by stryker.config.mjs and jest.mutation.config.js
 * through MUTATE_AREA. Plain CommonJS: both load it without a TypeScript loader.
 */
const AREAS = {
  webhook: {
    mutate: ['lambdas/gitlab-webhook/**/*.ts', 'lambdas/shared/**/*.ts'],
    tests: [
      '__tests__/lambdas/gitlab-webhook.test.ts',
      '__tests__/lambdas/gitlab-webhook.property.test.ts',
      '__tests__/lambdas/gitlab-webhook.settings.test.ts',
      '__tests__/lambdas/gitlab-webhook.front.test.ts',
      '__tests__/lambdas/gitlab-worker.test.ts',
      '__tests__/lambdas/gitlab-worker.delivery.test.ts',
      '__tests__/lambdas/gitlab-reconciler.test.ts',
      '__tests__/lambdas/clone-url.test.ts',
      '__tests__/lambdas/source-config.test.ts',
      '__tests__/lambdas/gitlab-contract.test.ts',
      '__tests__/lambdas/shared-patterns.test.ts',
    ],
  },
  /**
   * The clone-and-upload program, in-process: main/cloneAndUpload with S3 mocked and a fake git
   * (clone-and-upload.unit.test.ts), git.ts with a fake git script (clone-and-upload.git.test.ts).
   * clone-and-upload.test.ts (the bundle in a child process against a real git server and S3
   * server) is not in the area: the child's coverage does not reach Stryker, so with per-test
   * coverage it would never run for a mutant and would only add its ~20 s to the initial run.
   */
  'source-fetch': {
    mutate: ['lambdas/source-fetch/**/*.ts'],
    tests: ['__tests__/lambdas/clone-and-upload.unit.test.ts', '__tests__/lambdas/clone-and-upload.git.test.ts'],
  },
  'image-rollout': {
    mutate: ['lambdas/image-rollout/**/*.ts'],
    tests: ['__tests__/lambdas/image-rollout.test.ts'],
  },
  config: {
    mutate: ['stacks/model/config/**/*.ts'],
    tests: ['__tests__/config.test.ts', '__tests__/config-messages.test.ts', '__tests__/config-docs.test.ts', '__tests__/customers.test.ts'],
  },
  /**
   * The model's logic: the IP plan, the naming module, the customers' derived settings and the ALB
   * shards. The other model files (IAM documents, delivery and artifact layouts) are data for the
   * constructs; docs/MUTATION.md says why they are left out. Only pure tests run (no stack is
   * synthesized): every mutant of naming.ts is covered by many tests, and a synthesizing test
   * costs seconds per mutant.
   */
  model: {
    mutate: ['stacks/model/ip-plan.ts', 'stacks/model/naming.ts', 'stacks/model/customers.ts', 'stacks/model/shards.ts'],
    tests: ['__tests__/ip-plan.test.ts', '__tests__/naming.test.ts', '__tests__/customers.test.ts', '__tests__/shards-model.test.ts'],
  },
};

/** The area named by MUTATE_AREA; throws on a missing or unknown name. */
function currentArea(env = process.env) {
  const name = env.MUTATE_AREA;
  const area = name === undefined ? undefined : AREAS[name];
  if (!area) throw new Error(`MUTATE_AREA must be one of ${Object.keys(AREAS).join(', ')} (got ${name ?? 'nothing'}); run npm run mutate`);
  return { name, ...area };
}

module.exports = { AREAS, currentArea };
