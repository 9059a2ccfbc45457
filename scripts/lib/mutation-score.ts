/**
 * Mutation score of the Stryker JSON reports (mutation-testing-report-schema) of `npm run mutate`,
 * overall and per area. Score = detected / (detected + undetected): detected is Killed or Timeout,
 * undetected is Survived or NoCoverage; CompileError, RuntimeError and Ignored do not count
 * (Stryker's own definition).
 */

export interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly status: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
  readonly replacement?: string;
}

export interface MutationReport {
  readonly files: Record<string, { readonly mutants: readonly ReportMutant[] }>;
}

export interface AreaScore {
  readonly area: string;
  readonly detected: number;
  readonly undetected: number;
  readonly excluded: number;
  /** Percent, or undefined when no mutant counts. */
  readonly score: number | undefined;
}

/** The areas the score is reported by, first match wins. */
export const AREAS: readonly (readonly [area: string, prefix: string])[] = [
  ['lambdas/gitlab-webhook', 'lambdas/gitlab-webhook/'],
  ['lambdas/shared', 'lambdas/shared/'],
  ['lambdas/source-fetch', 'lambdas/source-fetch/'],
  ['lambdas/image-rollout', 'lambdas/image-rollout/'],
  ['stacks/model/config', 'stacks/model/config/'],
  ['stacks/model (IP plan, names, customers, shards)', 'stacks/model/'],
];

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

export function areaOf(file: string): string {
  const f = file.replace(/\\/g, '/');
  return AREAS.find(([, prefix]) => f.startsWith(prefix))?.[0] ?? 'other';
}

function score(area: string, mutants: readonly ReportMutant[]): AreaScore {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
  const valid = detected + undetected;
  return { area, detected, undetected, excluded: mutants.length - valid, score: valid === 0 ? undefined : (100 * detected) / valid };
}

/** Per area (in AREAS order, then 'other'), and 'all' last. Several reports are merged. */
export function mutationScores(reports: readonly MutationReport[]): AreaScore[] {
  const byArea = new Map<string, ReportMutant[]>();
  const all: ReportMutant[] = [];
  for (const report of reports) {
    for (const [file, { mutants }] of Object.entries(report.files)) {
      const area = areaOf(file);
      byArea.set(area, [...(byArea.get(area) ?? []), ...mutants]);
      all.push(...mutants);
    }
  }
  const order = [...AREAS.map(([a]) => a), 'other'];
  return [
    ...order.filter((a) => byArea.has(a)).map((a) => score(a, byArea.get(a) ?? [])),
    score('all', all),
  ];
}

/** The surviving (and uncovered) mutants as `file:line:column mutator → replacement`, sorted. */
export function survivors(reports: readonly MutationReport[]): string[] {
  const out: string[] = [];
  for (const report of reports) {
    for (const [file, { mutants }] of Object.entries(report.files)) {
      for (const m of mutants) {
        if (!UNDETECTED.has(m.status)) continue;
        const at = `${file}:${m.location.start.line}:${m.location.start.column}`;
        out.push(`${at} ${m.mutatorName}${m.status === 'NoCoverage' ? ' (no coverage)' : ''} → ${JSON.stringify(m.replacement ?? '')}`);
      }
    }
  }
  return out.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export function formatScores(scores: readonly AreaScore[]): string {
  const rows = scores.map((s) => [s.area, s.score === undefined ? 'n/a' : `${s.score.toFixed(2)}%`, String(s.detected), String(s.undetected), String(s.excluded)]);
  const header = ['area', 'score', 'killed+timeout', 'survived+no coverage', 'not counted'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/**
 * The incremental file of a run without the mutants' `statusReason` (the failing test's message
 * with a stack trace through the Stryker sandbox: machine paths, and most of the file's size) and
 * without `projectRoot` (the machine path of the checkout). Stryker reuses a result from the
 * file names, locations, status and tests, never from those.
 */
export function withoutStatusReasons<T extends { files: Record<string, { mutants: object[] }>; projectRoot?: string }>(report: T): T {
  const { projectRoot: _root, ...rest } = report;
  return {
    ...(rest as T),
    files: Object.fromEntries(
      Object.entries(report.files).map(([file, f]) => [file, { ...f, mutants: f.mutants.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'statusReason'))) }]),
    ),
  };
}
