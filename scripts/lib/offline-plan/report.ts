/** Human-readable reports of offline plans (what tests and the CLI print). */
import { OfflinePlanManyResult } from './many';
import { OfflinePlanResult } from './run';

/** Human-readable lines describing a result (relaxations, warnings, summary). */
export function describeOfflinePlan(r: OfflinePlanResult): string[] {
  const lines: string[] = [];
  const name = r.stackName;
  if (r.skipped) return [`SKIPPED offline terraform plan of ${name}: ${r.skipped}`];
  const from = r.providerSource === 'registry' ? 'from the registry' : 'from the local mirror';
  lines.push(`offline plan ${name}: terraform ${r.terraformVersion ?? '?'}, hashicorp/aws ${r.awsProviderVersion ?? '?'} ${from}`);
  for (const x of r.relaxations) lines.push(`offline plan ${name}: RELAXED ${x}`);
  for (const w of r.warnings) lines.push(`offline plan ${name}: WARNING ${w}`);
  if (r.externalDataSources.length) lines.push(`offline plan ${name}: WARNING data sources needing AWS: ${r.externalDataSources.join(', ')}`);
  if (r.plan) {
    const c = r.plan.counts;
    lines.push(
      `offline plan ${name}: ${c.create} to create, ${c.update} to update, ${c.delete} to delete, ${c.replace} to replace, ${c.noop} no-op` +
        ` (${r.sharedRun ? `one run for ${r.sharedRun.stacks.length} stacks: ` : ''}init ${r.timings.initMs} ms, validate ${r.timings.validateMs} ms, plan ${r.timings.planMs} ms)`,
    );
  }
  if (r.failure) lines.push(`offline plan ${name}: FAILED at ${r.failure.phase}: ${r.failure.message}`);
  return lines;
}

/** Prints what an offline plan relaxed and planned (so test output always says it). */
export function logOfflinePlan(r: OfflinePlanResult, log: (line: string) => void = console.log): void {
  log(describeOfflinePlan(r).join('\n'));
}

/** Lines of every stack of an offlinePlanMany run, then one line for the run. */
export function describeOfflinePlanMany(r: OfflinePlanManyResult): string[] {
  if (r.skipped) return [`SKIPPED offline terraform plan of ${r.stacks.map((s) => s.stackName).join(', ')}: ${r.skipped}`];
  const lines = r.stacks.flatMap(describeOfflinePlan);
  const planned = r.stacks.filter((s) => s.ok).length;
  lines.push(
    `offline plan (one run): ${planned} of ${r.stacks.length} stack(s) planned` +
      ` (prepare ${r.timings.prepareMs} ms, init ${r.timings.initMs} ms, validate ${r.timings.validateMs} ms, plan ${r.timings.planMs} ms, show ${r.timings.showMs} ms)` +
      (r.failure ? `; the run FAILED at ${r.failure.phase}` : ''),
  );
  return lines;
}

/** Prints describeOfflinePlanMany. */
export function logOfflinePlanMany(r: OfflinePlanManyResult, log: (line: string) => void = console.log): void {
  log(describeOfflinePlanMany(r).join('\n'));
}
