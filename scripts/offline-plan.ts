/**
 * Offline terraform plan of synthesized stacks (no AWS; no registry unless --registry).
 *
 *   node --require esbuild-register scripts/offline-plan.ts [--outdir cdktf.out] [--registry] [--json] [--keep] [stack...]
 *   npm run offline-plan -- [options] [stack...]
 *
 * Plans every cdktf.out/stacks/* (or the named stacks) with the harness in
 * scripts/lib/offline-plan/, printing the relaxations made and a plan
 * summary per stack. A stack that reads another through a cdktf cross-stack
 * reference reads a state made from that stack's declared outputs, found in
 * the same stacks folder.
 *
 * Provider source:
 *   default     a local filesystem mirror (discovered; TF_PLUGIN_MIRROR overrides): no network at all;
 *               the aws version may be relaxed to the mirror's and archive_file is stood in for
 *   --registry  providers from the Terraform registry (network, no mirror; e.g. GitLab CI without
 *               AWS credentials): exact provider versions, real archive_file; only the backend is
 *               removed, the aws provider gets mock credentials and cross-stack remote states are
 *               stood in for
 *
 * Exit codes:
 *   0  all stacks validated and planned, or terraform/mirror missing (a loud
 *      "SKIPPED offline terraform plan: <reason>" line is printed to stderr;
 *      set OFFLINE_TERRAFORM_REQUIRED=1 to make that exit 1 instead)
 *   1  a stack failed to prepare, init, validate or plan
 *   2  usage error (unknown option, no synthesized stacks, unknown stack name)
 * With --json, stdout carries only one JSON document (per-stack status, timings
 * of init+validate+plan, counts); human-readable lines go to stderr.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCli } from './lib/cli-args';
import { AnyDiscovery, describeOfflinePlan, discoverTerraform, discoverTerraformForRegistry, offlinePlan, OfflinePlanResult } from './lib/offline-plan';

interface Args {
  outdir: string;
  registry: boolean;
  json: boolean;
  keep: boolean;
  stacks: string[];
}

export const USAGE = 'usage: offline-plan.ts [--outdir DIR] [--registry] [--json] [--keep] [stack...]';

const FLAGS = {
  outdir: { type: 'string' },
  registry: { type: 'boolean' },
  json: { type: 'boolean' },
  keep: { type: 'boolean' },
} as const;

/** The arguments, or a message: USAGE for -h/--help, else the problem (naming the flag). */
export function parseArgs(argv: string[]): Args | string {
  const parsed = parseCli(argv, FLAGS, { positionals: true });
  if (parsed.kind === 'help') return USAGE;
  if (parsed.kind === 'error') return parsed.message;
  const v = parsed.values;
  return { outdir: v.outdir ?? 'cdktf.out', registry: v.registry ?? false, json: v.json ?? false, keep: v.keep ?? false, stacks: parsed.positionals };
}

function jsonEntry(r: OfflinePlanResult): Record<string, unknown> {
  return {
    stack: r.stackName,
    status: r.skipped ? 'skipped' : r.ok ? 'ok' : 'failed',
    ...(r.failure ? { failedPhase: r.failure.phase, error: r.failure.message } : {}),
    timingsMs: {
      initValidatePlan: r.timings.initValidatePlanMs,
      init: r.timings.initMs,
      validate: r.timings.validateMs,
      plan: r.timings.planMs,
      show: r.timings.showMs,
      prepare: r.timings.prepareMs,
      total: r.timings.totalMs,
    },
    counts: r.plan?.counts ?? null,
    createAddresses: r.plan?.createAddresses ?? [],
    relaxations: r.relaxations,
    warnings: r.warnings,
    externalDataSources: r.externalDataSources,
    validateErrors: r.validate?.errorCount ?? null,
    awsProviderVersion: r.awsProviderVersion ?? null,
  };
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    console.error(parsed === USAGE ? USAGE : `${parsed}\n${USAGE}`);
    return parsed === USAGE ? 0 : 2;
  }
  const args = parsed;
  const out = (s: string): void => {
    (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  };

  const stacksRoot = path.resolve(args.outdir, 'stacks');
  const available = fs.existsSync(stacksRoot)
    ? fs.readdirSync(stacksRoot).filter((d) => fs.existsSync(path.join(stacksRoot, d, 'cdk.tf.json'))).sort()
    : [];
  if (available.length === 0) {
    console.error(`no synthesized stacks under ${stacksRoot} (run cdktf synth first)`);
    return 2;
  }
  const unknown = args.stacks.filter((s) => !available.includes(s));
  if (unknown.length > 0) {
    console.error(`unknown stack(s): ${unknown.join(', ')} (synthesized: ${available.join(', ')})`);
    return 2;
  }
  const selected = args.stacks.length > 0 ? args.stacks : available;

  const discovery: AnyDiscovery = args.registry ? discoverTerraformForRegistry(process.env) : discoverTerraform(process.env);
  if (!discovery.available) {
    const required = process.env.OFFLINE_TERRAFORM_REQUIRED === '1';
    console.error(`SKIPPED offline terraform plan: ${discovery.reason}${required ? ' (OFFLINE_TERRAFORM_REQUIRED=1: failing)' : ''}`);
    if (args.json) process.stdout.write(`${JSON.stringify({ skipped: true, reason: discovery.reason, stacks: [] }, null, 2)}\n`);
    return required ? 1 : 0;
  }
  out(
    `offline plan: terraform ${discovery.terraformVersion} (${discovery.terraformBin}, via ${discovery.terraformSource}); ` +
      (discovery.providerSource === 'registry'
        ? `providers from the registry at the stacks' own versions (network needed) for ${discovery.platform}`
        : `mirror ${discovery.mirrorDir} (via ${discovery.mirrorSource}) holds hashicorp/aws ${discovery.awsVersions.join(', ')} for ${discovery.platform}`),
  );

  const results: OfflinePlanResult[] = [];
  for (const stack of selected) {
    const r = await offlinePlan(path.join(stacksRoot, stack), {
      discovery,
      producers: stacksRoot,
      keepWorkDir: args.keep,
      onStep: (m) => process.stderr.write(`  ... ${m}\n`),
    });
    results.push(r);
    for (const line of describeOfflinePlan(r)) out(line);
    if (r.workDir) out(`offline plan ${stack}: work dir kept at ${r.workDir}`);
  }

  const failed = results.filter((r) => !r.ok);
  out(`offline plan: ${results.length - failed.length} of ${results.length} stack(s) planned, ${failed.length} failed`);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          skipped: false,
          terraformVersion: discovery.terraformVersion,
          providerSource: discovery.providerSource,
          mirrorDir: discovery.providerSource === 'mirror' ? discovery.mirrorDir : null,
          awsVersions: discovery.providerSource === 'mirror' ? discovery.awsVersions : null,
          stacks: results.map(jsonEntry),
        },
        null,
        2,
      )}\n`,
    );
  }
  return failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    },
  );
}
