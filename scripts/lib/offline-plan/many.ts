/**
 * Several stacks in one terraform run: each stack is prepared as for offlinePlan (every
 * relaxation applied to its own copy), plus the asChildModule relaxation; one root module calls
 * each prepared copy as `module "<stack>" { source = "./<stack>" }` and re-exports its outputs;
 * terraform init, validate and plan run once, and the plan is split back per stack by the
 * `module.<stack>.` address prefix. Loading the aws provider schema dominates each terraform
 * command, so N stacks cost about one stack's init/validate/plan plus their own graph work.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PreparedStack, prepareOfflineStack } from './prepare';
import {
  Diagnostic,
  discoveryFor,
  emptyTimings,
  formatDiagnostics,
  OfflinePlanOptions,
  OfflinePlanResult,
  OfflinePlanTimings,
  Phase,
  PlanJson,
  prepareOptionsFor,
  runTerraformSteps,
  summarizePlan,
  terraformChildEnv,
} from './run';
import { blocks, isObject, JsonObject } from './stack-json';

export interface OfflinePlanManyResult {
  /** true when every stack was prepared, validated and planned. */
  ok: boolean;
  /** Set (and nothing else ran) when terraform or the mirror is missing. */
  skipped?: string;
  /** The failure of the shared run, if it failed (each stack's result says what it means for that stack). */
  failure?: { phase: Phase; message: string };
  /** One result per stack, in the order given: its relaxations, its diagnostics and its part of the plan. */
  stacks: OfflinePlanResult[];
  /** Timings of the one shared run (prepareMs covers every stack). */
  timings: OfflinePlanTimings;
  terraformVersion?: string;
  /** Kept root work dir (only with keepWorkDir); each stack is in <workDir>/<stack>. */
  workDir?: string;
  /** `terraform show -json` of the whole plan (only with includePlanJson). */
  planJson?: PlanJson;
}

/** Module names: what Terraform accepts as a block label identifier. */
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** The root module: one module call per stack, and every output of every stack re-exported with its own sensitive flag. */
export function rootModuleJson(prepared: Array<{ moduleName: string; json: JsonObject }>): JsonObject {
  const module: JsonObject = {};
  const output: JsonObject = {};
  for (const { moduleName, json } of prepared) {
    module[moduleName] = { source: `./${moduleName}` };
    const outputs = isObject(json.output) ? json.output : {};
    for (const [name, decl] of Object.entries(outputs)) {
      const sensitive = blocks(decl)[0]?.sensitive === true;
      output[`${moduleName}--${name}`] = { value: `\${module.${moduleName}.${name}}`, ...(sensitive ? { sensitive: true } : {}) };
    }
  }
  return { '//': 'offlinePlanMany: one root module calling each prepared stack', module, ...(Object.keys(output).length ? { output } : {}) };
}

/**
 * The module a diagnostic belongs to: by the file it points at (<module>/cdk.tf.json), or, in the
 * root's main.tf.json, by the re-exported output it names (`output "<module>--<name>"`).
 * Undefined for anything else of the root.
 */
export function diagnosticModule(d: Diagnostic, modules: string[]): string | undefined {
  const file = d.range?.filename?.replace(/\\/g, '/').replace(/^\.\//, '');
  if (!file) return undefined;
  const inModule = modules.find((m) => file.startsWith(`${m}/`));
  if (inModule) return inModule;
  const output = /output "([^"]+)"/.exec(d.snippet?.context ?? '');
  return output ? modules.find((m) => output[1]?.startsWith(`${m}--`)) : undefined;
}

/**
 * The modules that terraform's text output blames in its "Error: ..." blocks: by `with
 * module.<m>.`, by `on <m>/cdk.tf.json line`, or by a re-exported root output `"<m>--<name>"`.
 */
export function blamedModules(text: string, modules: string[]): Set<string> {
  const blamed = new Set<string>();
  for (const block of text.split(/^(?=Error: )/m).filter((b) => b.startsWith('Error: '))) {
    const withModule = /with module\.([A-Za-z0-9_-]+)\./.exec(block)?.[1];
    const file = /\bon (\S+) line \d+/.exec(block)?.[1]?.replace(/\\/g, '/');
    const output = /"([A-Za-z0-9_-]+?)--[^"]*"/.exec(block)?.[1];
    const m =
      modules.find((x) => x === withModule) ??
      modules.find((x) => file?.startsWith(`${x}/`)) ??
      (file === 'main.tf.json' ? modules.find((x) => output === x || block.includes(`"${x}--`)) : undefined);
    if (m) blamed.add(m);
  }
  return blamed;
}

/**
 * Plans several synthesized stacks in one terraform run (see the top of this file). Stack names
 * (their folder names) must be unique and valid module names. A stack that cannot be prepared, or
 * whose data sources would call AWS (without allowExternalDataSources), fails alone and is left
 * out of the run; a validate or plan failure fails every stack of the run (each result says
 * whether its own configuration was at fault). Never throws for terraform failures.
 *
 * The remote-state stand-ins find producers as offlinePlan does (options.producers, default each
 * stack's own parent folder); a producer planned in the same run is still stood in for by its
 * declared outputs, not wired to its module.
 */
export async function offlinePlanMany(stackDirs: string[], options: OfflinePlanOptions = {}): Promise<OfflinePlanManyResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const timings = emptyTimings();
  const names = stackDirs.map((d) => path.basename(path.resolve(d)));
  if (names.length === 0) throw new Error('offlinePlanMany: no stack folders given (pass at least one cdktf.out/stacks/<stack>)');
  for (const n of names) {
    if (!MODULE_NAME.test(n)) throw new Error(`offlinePlanMany: stack folder name "${n}" is not a valid Terraform module name (letters, digits, _ and -, not starting with a digit or -)`);
  }
  const dupes = names.filter((n, i) => names.indexOf(n) !== i);
  if (dupes.length > 0) throw new Error(`offlinePlanMany: stack names must be unique, got ${[...new Set(dupes)].join(', ')} more than once (from ${stackDirs.join(', ')})`);

  const results: OfflinePlanResult[] = stackDirs.map((d, i) => ({
    stackName: names[i] as string,
    stackDir: path.resolve(d),
    ok: false,
    relaxations: [],
    warnings: [],
    externalDataSources: [],
    timings,
  }));
  const out: OfflinePlanManyResult = { ok: false, stacks: results, timings };
  const discovery = discoveryFor(options, env);
  if (!discovery.available) {
    out.skipped = discovery.reason;
    for (const r of results) r.skipped = discovery.reason;
    return out;
  }
  out.terraformVersion = discovery.terraformVersion;
  for (const r of results) {
    r.terraformVersion = discovery.terraformVersion;
    r.providerSource = discovery.providerSource;
  }
  const step = options.onStep ?? ((): void => undefined);
  const workRoot = options.workRoot ?? os.tmpdir();
  fs.mkdirSync(workRoot, { recursive: true });
  const rootDir = fs.mkdtempSync(path.join(workRoot, 'offline-plan-many-'));
  const label = `${names.length} stacks (${names.join(', ')})`;
  try {
    // Prepare every stack as a child module; a stack that cannot be planned fails alone.
    const t0 = Date.now();
    const base = prepareOptionsFor(discovery, options);
    const planned: Array<{ result: OfflinePlanResult; prepared: PreparedStack }> = [];
    results.forEach((r, i) => {
      const workDir = path.join(rootDir, r.stackName);
      step(`${r.stackName}: preparing copy in ${workDir}`);
      try {
        const prepared = prepareOfflineStack(stackDirs[i] as string, workDir, {
          ...base,
          asChildModule: { moduleName: r.stackName, others: names.filter((n) => n !== r.stackName) },
        });
        r.relaxations = prepared.relaxations;
        r.warnings = prepared.warnings;
        r.externalDataSources = prepared.externalDataSources;
        r.awsProviderVersion = prepared.awsProviderVersion;
        if (prepared.externalDataSources.length > 0 && !options.allowExternalDataSources) {
          r.failure = {
            phase: 'preflight',
            message: `not planned (nor validated) with the others: data sources that call AWS cannot be read offline: ${prepared.externalDataSources.join(', ')}`,
          };
          fs.rmSync(workDir, { recursive: true, force: true });
          return;
        }
        planned.push({ result: r, prepared });
      } catch (e) {
        r.failure = { phase: 'prepare', message: e instanceof Error ? e.message : String(e) };
        fs.rmSync(workDir, { recursive: true, force: true });
      }
    });
    timings.prepareMs = Date.now() - t0;
    if (planned.length === 0) {
      out.failure = { phase: 'prepare', message: `no stack could be prepared: ${results.map((r) => `${r.stackName}: ${r.failure?.message}`).join('; ')}` };
      return out;
    }
    const modules = planned.map((p) => p.result.stackName);
    fs.writeFileSync(path.join(rootDir, 'main.tf.json'), JSON.stringify(rootModuleJson(planned.map((p) => ({ moduleName: p.result.stackName, json: p.prepared.json }))), null, 2));
    // Every prepared copy wrote the same CLI config (same mode, mirror and cache); the root uses the first.
    const cliConfigFile = path.join(rootDir, '.offline-terraform.tfrc');
    fs.copyFileSync((planned[0] as { prepared: PreparedStack }).prepared.cliConfigFile, cliConfigFile);

    const run = await runTerraformSteps({
      terraformBin: discovery.terraformBin,
      workDir: rootDir,
      childEnv: terraformChildEnv(env, cliConfigFile),
      timeoutMs: options.commandTimeoutMs ?? 300_000,
      label,
      step,
      timings,
    });
    if (run.failure) out.failure = run.failure;
    const diags = run.validate?.diagnostics ?? [];
    const failedModules = new Set(diags.filter((d) => d.severity === 'error').map((d) => diagnosticModule(d, modules) ?? '(root module)'));
    for (const { result: r } of planned) {
      r.sharedRun = { module: r.stackName, stacks: modules };
      if (run.validate) {
        const own = diags.filter((d) => diagnosticModule(d, modules) === r.stackName);
        const errors = own.filter((d) => d.severity === 'error').length;
        r.validate = { valid: errors === 0, errorCount: errors, warningCount: own.length - errors, diagnostics: own };
      }
      if (run.failure) {
        const others = [...failedModules].filter((m) => m !== r.stackName);
        if (run.failure.phase === 'validate' && r.validate && !r.validate.valid) {
          r.failure = {
            phase: 'validate',
            message: `terraform validate found ${r.validate.errorCount} error(s):\n${formatDiagnostics(r.validate.diagnostics.filter((d) => d.severity === 'error'))}`,
          };
        } else if (run.failure.phase === 'validate') {
          r.failure = { phase: 'validate', message: `valid, but not planned: terraform validate failed in ${others.join(', ')} of the same run` };
        } else {
          const blamed = blamedModules(run.failureOutput ?? run.failure.message, modules);
          r.failure =
            blamed.size > 0 && !blamed.has(r.stackName)
              ? { phase: run.failure.phase, message: `not planned: terraform ${run.failure.phase} failed in ${[...blamed].join(', ')} of the same run` }
              : { phase: run.failure.phase, message: `the shared run of ${label} failed: ${run.failure.message}` };
        }
        continue;
      }
      const prefix = `module.${r.stackName}.`;
      const mine = (run.planJson?.resource_changes ?? [])
        .filter((rc) => rc.address.startsWith(prefix))
        .map((rc) => ({ ...rc, address: rc.address.slice(prefix.length) }));
      r.plan = summarizePlan({ resource_changes: mine });
      r.ok = true;
    }
    if (options.includePlanJson && run.planJson) out.planJson = run.planJson;
    out.ok = !run.failure && results.every((r) => r.ok);
    return out;
  } finally {
    timings.initValidatePlanMs = timings.initMs + timings.validateMs + timings.planMs;
    timings.totalMs = Date.now() - started;
    if (options.keepWorkDir) {
      out.workDir = rootDir;
      for (const r of results) r.workDir = path.join(rootDir, r.stackName);
    } else fs.rmSync(rootDir, { recursive: true, force: true });
  }
}
