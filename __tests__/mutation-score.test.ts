import { areaOf, formatScores, MutationReport, mutationScores, ReportMutant, survivors, withoutStatusReasons } from '../scripts/lib/mutation-score';

const m = (status: string, line = 1, mutatorName = 'StringLiteral'): ReportMutant => ({ id: `${line}`, status, mutatorName, location: { start: { line, column: 3 } }, replacement: '""' });

describe('mutation score', () => {
  test('areas by path prefix; model files outside config fall in the model area', () => {
    expect(areaOf('lambdas/gitlab-webhook/auth.ts')).toBe('lambdas/gitlab-webhook');
    expect(areaOf('lambdas/source-fetch/git.ts')).toBe('lambdas/source-fetch');
    expect(areaOf('lambdas/image-rollout/rollout.ts')).toBe('lambdas/image-rollout');
    expect(areaOf('stacks/model/config/validate.ts')).toBe('stacks/model/config');
    expect(areaOf('stacks/model/naming.ts')).toBe('stacks/model (IP plan, names, customers, shards)');
    expect(areaOf('scripts/x.ts')).toBe('other');
  });

  test('killed and timeout are detected, survived and no coverage are not, compile errors and ignored do not count', () => {
    const report: MutationReport = {
      files: {
        'lambdas/shared/clone-url.ts': { mutants: [m('Killed'), m('Timeout'), m('Survived'), m('NoCoverage'), m('CompileError'), m('Ignored')] },
        'stacks/model/naming.ts': { mutants: [m('Killed'), m('Killed'), m('Killed'), m('Survived')] },
      },
    };
    const other: MutationReport = { files: { 'lambdas/source-fetch/git.ts': { mutants: [m('CompileError')] } } };
    expect(mutationScores([report, other])).toEqual([
      { area: 'lambdas/shared', detected: 2, undetected: 2, excluded: 2, score: 50 },
      { area: 'lambdas/source-fetch', detected: 0, undetected: 0, excluded: 1, score: undefined },
      { area: 'stacks/model (IP plan, names, customers, shards)', detected: 3, undetected: 1, excluded: 0, score: 75 },
      { area: 'all', detected: 5, undetected: 3, excluded: 3, score: 62.5 },
    ]);
  });

  test('survivors list file:line:column, mutator and replacement, in line order', () => {
    const report: MutationReport = { files: { 'a.ts': { mutants: [m('Survived', 10, 'BooleanLiteral'), m('Killed', 2), m('NoCoverage', 9)] } } };
    expect(survivors([report])).toEqual(['a.ts:9:3 StringLiteral (no coverage) → "\\"\\""', 'a.ts:10:3 BooleanLiteral → "\\"\\""']);
  });

  test('the table shows n/a for an area without counted mutants', () => {
    const table = formatScores([{ area: 'x', detected: 0, undetected: 0, excluded: 4, score: undefined }]);
    expect(table.split('\n')[1]).toMatch(/^x\s+n\/a\s+0\s+0\s+4$/);
  });
});

describe('incremental files', () => {
  test('lose only the status reasons (stack traces through the sandbox) and the project root, nothing Stryker reuses', () => {
    const report = {
      schemaVersion: '2',
      files: {
        'lambdas/a.ts': {
          language: 'typescript',
          source: 'x',
          mutants: [
            { id: '1', mutatorName: 'StringLiteral', status: 'Killed', statusReason: 'Expected 1 at /work/x/.stryker-tmp/sandbox/a.ts:1', killedBy: ['t1'], coveredBy: ['t1'], location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } },
            { id: '2', mutatorName: 'BooleanLiteral', status: 'Survived', coveredBy: ['t1'], location: { start: { line: 2, column: 1 }, end: { line: 2, column: 2 } } },
          ],
        },
      },
      testFiles: { 't.test.ts': { tests: [{ id: 't1', name: 'a' }] } },
    };
    const run = { ...report, projectRoot: '/work/x' };
    const out = withoutStatusReasons(run);
    const [killed, survived] = report.files['lambdas/a.ts'].mutants;
    const { statusReason: _reason, ...killedWithoutReason } = killed!;
    expect(out).toEqual({ ...report, files: { 'lambdas/a.ts': { ...report.files['lambdas/a.ts'], mutants: [killedWithoutReason, survived] } } });
    expect(JSON.stringify(out)).not.toContain('statusReason');
    expect(JSON.stringify(out)).not.toContain('/work/');
  });
});
