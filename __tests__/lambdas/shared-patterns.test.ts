/**
 * The name and commit patterns and the contract constants that the webhook, worker, reconciler and
 * source-fetch programs share, each module loaded inside the test as a cold Lambda container loads
 * it. Their values are built when the module loads; loaded once at the top of a file, that code
 * would run outside any test, and mutation testing could not tell which test checks them
 * (docs/MUTATION.md, "Static mutants").
 */
import { coldLoad } from './helpers/cold-load';

type Names = typeof import('../../lambdas/shared/names');
type SourceConfig = typeof import('../../lambdas/shared/source-config');
type CloneUrl = typeof import('../../lambdas/shared/clone-url');
type Contract = typeof import('../../lambdas/gitlab-webhook/contract');

/* eslint-disable @typescript-eslint/no-require-imports */
const names = () => coldLoad<Names>(() => require('../../lambdas/shared/names'));
const sourceConfig = () => coldLoad<SourceConfig>(() => require('../../lambdas/shared/source-config'));
const cloneUrl = () => coldLoad<CloneUrl>(() => require('../../lambdas/shared/clone-url'));
const contract = () => coldLoad<Contract>(() => require('../../lambdas/gitlab-webhook/contract'));
/* eslint-enable @typescript-eslint/no-require-imports */

describe('CUSTOMER_NAME: 2-20 of a-z, 0-9 and single "-", starting with a letter, not ending in "-"', () => {
  test.each([
    ['ab', true],
    ['a1', true],
    ['shop', true],
    ['a-b', true],
    ['a-b-c', true],
    ['a0-9z', true],
    [`a${'b'.repeat(19)}`, true],
    [`a${'b'.repeat(20)}`, false],
    ['a', false],
    ['', false],
    ['1ab', false],
    ['-ab', false],
    ['ab-', false],
    ['a--b', false],
    ['Ab', false],
    ['aB', false],
    ['a_b', false],
    ['a.b', false],
    [' ab', false],
    ['ab ', false],
    ['ab\n', false],
  ])('%p is %p', (name, ok) => {
    expect(names().CUSTOMER_NAME.test(name)).toBe(ok);
  });
});

describe('ENV_NAME: 2-10 of a-z and 0-9, starting with a letter', () => {
  test.each([
    ['dev', true],
    ['d1', true],
    ['prod', true],
    [`a${'b'.repeat(9)}`, true],
    [`a${'b'.repeat(10)}`, false],
    ['d', false],
    ['', false],
    ['1dev', false],
    ['Dev', false],
    ['deV', false],
    ['-dev', false],
    ['dev-', false],
    ['dev-1', false],
    ['de v', false],
    ['dev\n', false],
  ])('%p is %p', (name, ok) => {
    expect(names().ENV_NAME.test(name)).toBe(ok);
  });
});

describe('GITLAB_PROJECT_PATH: group[/subgroup...]/project', () => {
  test.each([
    ['acme/shop', true],
    ['a/b', true],
    ['a/b/c', true],
    ['Group_1/sub.group/pro-ject', true],
    ['.a/_b', true],
    ['a-/b-', true],
    ['shop', false],
    ['', false],
    ['/acme/shop', false],
    ['acme/shop/', false],
    ['acme//shop', false],
    ['-acme/shop', false],
    ['acme/-shop', false],
    ['acme/sh op', false],
    ['acme/shop?x', false],
    [' acme/shop', false],
    ['acme/shop ', false],
    ['ac:me/shop', false],
  ])('%p is %p', (p, ok) => {
    expect(names().GITLAB_PROJECT_PATH.test(p)).toBe(ok);
  });
});

describe('COMMIT_SHA: 40 or 64 lower-case hex digits', () => {
  test.each([
    ['a'.repeat(40), true],
    ['0123456789abcdef'.repeat(4).slice(0, 40), true],
    ['f'.repeat(64), true],
    ['a'.repeat(39), false],
    ['a'.repeat(41), false],
    ['a'.repeat(63), false],
    ['a'.repeat(65), false],
    ['A'.repeat(40), false],
    ['g'.repeat(40), false],
    [` ${'a'.repeat(40)}`, false],
    [`${'a'.repeat(40)} `, false],
    ['', false],
  ])('%p is %p', (sha, ok) => {
    expect(sourceConfig().COMMIT_SHA.test(sha)).toBe(ok);
  });
});

describe('SSH clone URLs: scp-like or ssh:// with a user, a host and the project path', () => {
  const SHAPE = 'must look like git@host:group/project.git or ssh://user@host[:port]/group/project.git';
  test.each([
    ['git@gitlab.example.com:acme/shop.git', undefined],
    ['git@gitlab.example.com:acme/shop', undefined],
    ['ssh://git@gitlab.example.com/acme/shop.git', undefined],
    ['ssh://git@gitlab.example.com:2222/acme/shop.git', undefined],
    ['git@gitlab.example.com:/acme/shop.git', SHAPE],
    [' git@gitlab.example.com:acme/shop.git', SHAPE],
    ['git@gitlab.example.com:acme/shop.git x', SHAPE],
    ['x/git@gitlab.example.com:acme/shop.git', SHAPE],
    ['g:t@gitlab.example.com:acme/shop.git', SHAPE],
    ['git@gitlab example.com:acme/shop.git', SHAPE],
    ['git@gitlab.example.com/x:acme/shop.git', SHAPE],
    ['@gitlab.example.com:acme/shop.git', SHAPE],
    ['git@:acme/shop.git', SHAPE],
    ['git@gitlab.example.com:', SHAPE],
    ['gitlab.example.com:acme/shop.git', SHAPE],
    ['ssh://@gitlab.example.com/acme/shop.git', SHAPE],
    ['ssh://git@/acme/shop.git', SHAPE],
    ['ssh://git@gitlab.example.com/', SHAPE],
    ['ssh://gitlab.example.com/acme/shop.git', SHAPE],
    ['xssh://git@gitlab.example.com/acme/shop.git', SHAPE],
    ['ssh:/git@gitlab.example.com/acme/shop.git', SHAPE],
    ['ssh://git@gitlab.example.com/acme/shop.git x', SHAPE],
    ['ssh://g t@gitlab.example.com/acme/shop.git', SHAPE],
    ['ssh://git@gitlab example.com/acme/shop.git', SHAPE],
    ['git@gitlab.example.com:acme/other.git', 'has the repository path "acme/other.git", not the routed project acme/shop (compared case-insensitively, ".git" optional)'],
  ])('%p: %p', (url, problem) => {
    expect(cloneUrl().sshCloneUrlProblem(url, 'acme/shop')).toBe(problem);
  });
});

describe('contract constants, as the Lambdas load them', () => {
  test('MAX_BODY_BYTES may be at most 6 MiB (the synchronous invocation limit)', () => {
    expect(contract().MAX_BODY_BYTES_LIMIT).toBe(6 * 1024 * 1024);
  });

  test('the build retry window defaults to 2 × 15 min + 10 min', () => {
    expect(contract().DEFAULT_BUILD_RETRY_AFTER_SECONDS).toBe(2400);
  });

  test.each([
    ['up-to-date', 'ReconcileUpToDate'],
    ['queued', 'ReconcileQueued'],
    ['build-retried', 'ReconcileBuildRetried'],
    ['a-b-c-d', 'ReconcileABCD'],
  ])('the metric of outcome %p is %p', (outcome, metric) => {
    expect(contract().reconcileMetricName(outcome)).toBe(metric);
  });
});
