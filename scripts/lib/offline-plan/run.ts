/**
 * Running terraform on prepared stack copies: init (no backend), validate -json, plan
 * -refresh=false and show -json, with our own CLI config and no AWS credentials in the child.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AnyDiscovery, discoverTerraform, discoverTerraformForRegistry, Env, isPackedOnly, ProviderSource } from './discovery';
import { PreparedStack, PrepareOptions, prepareOfflineStack, RegistryPrepareOptions } from './prepare';
import { ProducerResolver } from './remote-state';

export interface Diagnostic {
  severity: 'error' | 'warning' | string;
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number; column: number } };
  snippet?: { context?: string | null; code?: string };
}

export interface ValidateResult {
  valid: boolean;
  errorCount: number;
  warningCount: number;
  diagnostics: Diagnostic[];
}

export interface PlanCounts {
  create: number;
  update: number;
  delete: number;
  replace: number;
  noop: number;
  read: number;
}

export interface PlanSummary {
  /** Counts over managed resources (data-source reads are counted in `read`). */
  counts: PlanCounts;
  createAddresses: string[];
}

export type Phase = 'prepare' | 'preflight' | 'init' | 'validate' | 'plan' | 'show';

export interface OfflinePlanTimings {
  prepareMs: number;
  initMs: number;
  validateMs: number;
  planMs: number;
  showMs: number;
  /** Wall time of init + validate + plan (what the benchmark reports). */
  initValidatePlanMs: number;
  totalMs: number;
}

export interface OfflinePlanResult {
  stackName: string;
  stackDir: string;
  /** true when validate passed and the plan was made and read. */
  ok: boolean;
  /** Set (and nothing else ran) when terraform or the mirror is missing. */
  skipped?: string;
  failure?: { phase: Phase; message: string };
  relaxations: string[];
  warnings: string[];
  externalDataSources: string[];
  validate?: ValidateResult;
  plan?: PlanSummary;
  timings: OfflinePlanTimings;
  terraformVersion?: string;
  awsProviderVersion?: string;
  /** Where providers came from (set once discovery succeeded). */
  providerSource?: ProviderSource;
  /** Kept work dir (only with keepWorkDir). */
  workDir?: string;
  /** `terraform show -json` of the plan (only with includePlanJson). */
  planJson?: PlanJson;
  /**
   * Set when the stack was planned by offlinePlanMany: the module it was planned as and the
   * stacks of that one run (the timings are the run's, shared by all of them).
   */
  sharedRun?: { module: string; stacks: string[] };
}

export interface OfflinePlanOptions {
  /**
   * Discovery result to use (default: discoverTerraform(env), or
   * discoverTerraformForRegistry(env) with providerSource 'registry'). Its
   * providerSource decides the mode.
   */
  discovery?: AnyDiscovery;
  /** Used only when no discovery is given. Default 'mirror'. */
  providerSource?: ProviderSource;
  /** Environment for discovery and the terraform child processes (default process.env). */
  env?: Env;
  /** Force an aws provider version from the mirror (mirror mode only). */
  awsVersion?: string;
  /** Parent of the temp work dir (default os.tmpdir()). */
  workRoot?: string;
  /** Keep the temp work dir (its path is returned). */
  keepWorkDir?: boolean;
  /** Per terraform command timeout (default 300 s). */
  commandTimeoutMs?: number;
  /**
   * Plugin cache shared across runs. 'auto' (default): only when the chosen
   * aws build is a packed .zip in the mirror (init would unzip ~700 MB every
   * run); an unpacked mirror is symlinked by init, which a cache would only
   * slow down. In registry mode 'auto' uses the shared cache (saves the
   * download on the next run). A path forces that cache dir; false disables it.
   */
  pluginCacheDir?: string | 'auto' | false;
  /**
   * Run the plan even if the stack has data sources that call AWS (they will
   * fail or hang on mock credentials). Default false: validate only.
   */
  allowExternalDataSources?: boolean;
  /**
   * Where the producers of cdktf cross-stack references are found, for the remote-state
   * stand-ins: the `stacks` folder of the synth output (cdktf.out/stacks) or a resolver
   * (producersFromStacksDir, producersFromJson). Default: the folder holding the stack.
   */
  producers?: string | ProducerResolver;
  /** Attach `terraform show -json` of the plan to the result (planJson). */
  includePlanJson?: boolean;
  /** Receives each step as it starts (for CLI progress). */
  onStep?: (message: string) => void;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

function runTerraform(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const finish = (code: number | null, extraErr = ''): void => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + extraErr,
        ms: Date.now() - started,
        timedOut,
      });
    };
    child.on('error', (e) => finish(null, e.message));
    child.on('close', (code) => finish(code));
  });
}

/** Plugin cache shared by all offline plans of this user on this machine. */
export function sharedPluginCacheDir(): string {
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return path.join(os.tmpdir(), `offline-terraform-plugin-cache-${uid}`);
}

/** Child env: only our CLI config, no checkpoint, no real AWS credentials or TF_* that change behaviour. */
export function terraformChildEnv(base: Env, cliConfigFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue;
    if (k.startsWith('AWS_') || k.startsWith('TF_CLI_ARGS') || k === 'TF_DATA_DIR' || k === 'TF_WORKSPACE' || k === 'TF_PLUGIN_CACHE_DIR' || k.startsWith('TF_VAR_')) continue;
    env[k] = v;
  }
  env.TF_CLI_CONFIG_FILE = cliConfigFile;
  env.TF_IN_AUTOMATION = '1';
  env.TF_INPUT = '0';
  env.CHECKPOINT_DISABLE = '1';
  env.AWS_EC2_METADATA_DISABLED = 'true';
  return env;
}

/** One line per diagnostic: "Error: <summary>: <detail> [at <file>:<line> <context>]". */
export function formatDiagnostics(diags: Diagnostic[]): string {
  return diags
    .map((d) => {
      const sev = d.severity === 'error' ? 'Error' : d.severity === 'warning' ? 'Warning' : d.severity;
      const where = d.range ? ` [at ${d.range.filename}:${d.range.start.line}${d.snippet?.context ? ` in ${d.snippet.context}` : ''}]` : '';
      return `${sev}: ${d.summary}${d.detail ? `: ${d.detail.replace(/\s+/g, ' ').trim()}` : ''}${where}`;
    })
    .join('\n');
}

function tail(s: string, lines = 30): string {
  // Strip ANSI colours in case -no-color was not honoured.
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').slice(-lines).join('\n');
}

/** The parts of `terraform show -json` of a plan that the harness reads (tests may read more). */
export interface PlanJson {
  resource_changes?: Array<{ address: string; mode: string; type?: string; name?: string; change: { actions: string[]; after?: unknown } }>;
  [key: string]: unknown;
}

export function summarizePlan(plan: PlanJson): PlanSummary {
  const counts: PlanCounts = { create: 0, update: 0, delete: 0, replace: 0, noop: 0, read: 0 };
  const createAddresses: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const a = rc.change.actions;
    if (a.includes('read')) {
      counts.read++;
      continue;
    }
    if (rc.mode !== 'managed') continue;
    if (a.includes('create') && a.includes('delete')) counts.replace++;
    else if (a.includes('create')) {
      counts.create++;
      createAddresses.push(rc.address);
    } else if (a.includes('update')) counts.update++;
    else if (a.includes('delete')) counts.delete++;
    else if (a.includes('no-op')) counts.noop++;
  }
  createAddresses.sort();
  return { counts, createAddresses };
}

/** The discovery the options ask for (given, or discovered from options.env in the chosen mode). */
export function discoveryFor(options: OfflinePlanOptions, env: Env): AnyDiscovery {
  return options.discovery ?? (options.providerSource === 'registry' ? discoverTerraformForRegistry(env) : discoverTerraform(env));
}

type Available = Extract<AnyDiscovery, { available: true }>;

/** Prepare options for a discovery's mode, with the plugin cache chosen as OfflinePlanOptions.pluginCacheDir says. */
export function prepareOptionsFor(discovery: Available, options: OfflinePlanOptions): PrepareOptions | RegistryPrepareOptions {
  const cacheOpt = options.pluginCacheDir ?? 'auto';
  let cacheDir: string | undefined;
  if (cacheOpt !== 'auto') cacheDir = cacheOpt || undefined;
  else if (discovery.providerSource === 'registry') cacheDir = sharedPluginCacheDir();
  else {
    const chosen = options.awsVersion ?? discovery.awsVersions[0] ?? '';
    cacheDir = isPackedOnly(discovery.mirrorDir, 'aws', chosen, discovery.platform) ? sharedPluginCacheDir() : undefined;
  }
  if (cacheDir) fs.mkdirSync(cacheDir, { recursive: true });
  return discovery.providerSource === 'registry'
    ? { providerSource: 'registry', producers: options.producers, ...(cacheDir ? { pluginCacheDir: cacheDir } : {}) }
    : {
        producers: options.producers,
        mirrorDir: discovery.mirrorDir,
        awsVersions: discovery.awsVersions,
        ...(options.awsVersion ? { awsVersion: options.awsVersion } : {}),
        ...(cacheDir ? { pluginCacheDir: cacheDir } : {}),
      };
}

export interface TerraformSteps {
  validate?: ValidateResult;
  /** `terraform show -json` of the saved plan. */
  planJson?: PlanJson;
  failure?: { phase: Phase; message: string };
  /** The whole output of the failed command (failure.message holds its last lines). */
  failureOutput?: string;
}

/**
 * terraform init (no backend), validate -json, plan -refresh=false and show -json in workDir,
 * stopping at the first failure. beforePlan may stop the run after a valid validate (preflight).
 * Fills the init/validate/plan/show timings.
 */
export async function runTerraformSteps(args: {
  terraformBin: string;
  workDir: string;
  childEnv: NodeJS.ProcessEnv;
  timeoutMs: number;
  label: string;
  step: (message: string) => void;
  timings: OfflinePlanTimings;
  beforePlan?: () => { phase: Phase; message: string } | undefined;
}): Promise<TerraformSteps> {
  const { timings, timeoutMs, step, label } = args;
  const out: TerraformSteps = {};
  const tf = (a: string[]): Promise<RunResult> => runTerraform(args.terraformBin, a, args.workDir, args.childEnv, timeoutMs);
  const describeRun = (what: string, r: RunResult): string =>
    `${what} ${r.timedOut ? `timed out after ${timeoutMs} ms` : `exited ${r.code}`}:\n${tail(r.stderr || r.stdout)}`;
  const fail = (phase: Phase, message: string, r?: RunResult): TerraformSteps => {
    out.failure = { phase, message };
    if (r) out.failureOutput = `${r.stderr}\n${r.stdout}`;
    return out;
  };

  step(`${label}: terraform init`);
  const init = await tf(['init', '-backend=false', '-input=false', '-no-color']);
  timings.initMs = init.ms;
  if (init.code !== 0) return fail('init', describeRun('terraform init', init), init);

  step(`${label}: terraform validate`);
  const val = await tf(['validate', '-json', '-no-color']);
  timings.validateMs = val.ms;
  try {
    const v = JSON.parse(val.stdout) as { valid: boolean; error_count: number; warning_count: number; diagnostics?: Diagnostic[] };
    out.validate = { valid: v.valid, errorCount: v.error_count, warningCount: v.warning_count, diagnostics: v.diagnostics ?? [] };
  } catch {
    return fail('validate', describeRun('terraform validate -json (unparseable output)', val));
  }
  if (!out.validate.valid) {
    return fail('validate', `terraform validate found ${out.validate.errorCount} error(s):\n${formatDiagnostics(out.validate.diagnostics.filter((d) => d.severity === 'error'))}`);
  }
  const stop = args.beforePlan?.();
  if (stop) return fail(stop.phase, stop.message);

  step(`${label}: terraform plan`);
  const plan = await tf(['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color', '-out=offline.tfplan']);
  timings.planMs = plan.ms;
  if (plan.code !== 0) return fail('plan', describeRun('terraform plan', plan), plan);

  step(`${label}: terraform show -json`);
  const show = await tf(['show', '-json', '-no-color', 'offline.tfplan']);
  timings.showMs = show.ms;
  if (show.code !== 0) return fail('show', describeRun('terraform show -json', show), show);
  try {
    out.planJson = JSON.parse(show.stdout) as PlanJson;
  } catch (e) {
    return fail('show', `terraform show -json output unparseable: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}

export function emptyTimings(): OfflinePlanTimings {
  return { prepareMs: 0, initMs: 0, validateMs: 0, planMs: 0, showMs: 0, initValidatePlanMs: 0, totalMs: 0 };
}

/**
 * Copies the stack to a temp dir, rewrites it for offline use and runs
 * terraform init, validate -json, plan and show -json on the copy.
 * Never throws for terraform failures: they come back in `failure`.
 */
export async function offlinePlan(stackDir: string, options: OfflinePlanOptions = {}): Promise<OfflinePlanResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const stackName = path.basename(path.resolve(stackDir));
  const timings = emptyTimings();
  const result: OfflinePlanResult = {
    stackName,
    stackDir: path.resolve(stackDir),
    ok: false,
    relaxations: [],
    warnings: [],
    externalDataSources: [],
    timings,
  };
  const discovery = discoveryFor(options, env);
  if (!discovery.available) {
    result.skipped = discovery.reason;
    return result;
  }
  result.terraformVersion = discovery.terraformVersion;
  result.providerSource = discovery.providerSource;
  const step = options.onStep ?? ((): void => undefined);
  const workRoot = options.workRoot ?? os.tmpdir();
  fs.mkdirSync(workRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(workRoot, `offline-plan-${stackName}-`));
  const workDir = path.join(tmp, stackName);
  try {
    step(`${stackName}: preparing copy in ${workDir}`);
    const t0 = Date.now();
    let prepared: PreparedStack;
    try {
      prepared = prepareOfflineStack(stackDir, workDir, prepareOptionsFor(discovery, options));
    } catch (e) {
      result.failure = { phase: 'prepare', message: e instanceof Error ? e.message : String(e) };
      return result;
    } finally {
      timings.prepareMs = Date.now() - t0;
    }
    result.relaxations = prepared.relaxations;
    result.warnings = prepared.warnings;
    result.externalDataSources = prepared.externalDataSources;
    result.awsProviderVersion = prepared.awsProviderVersion;
    const run = await runTerraformSteps({
      terraformBin: discovery.terraformBin,
      workDir,
      childEnv: terraformChildEnv(env, prepared.cliConfigFile),
      timeoutMs: options.commandTimeoutMs ?? 300_000,
      label: stackName,
      step,
      timings,
      beforePlan: () =>
        result.externalDataSources.length > 0 && !options.allowExternalDataSources
          ? { phase: 'preflight', message: `plan not run: data sources that call AWS cannot be read offline: ${result.externalDataSources.join(', ')}` }
          : undefined,
    });
    if (run.validate) result.validate = run.validate;
    if (run.failure) {
      result.failure = run.failure;
      return result;
    }
    result.plan = summarizePlan(run.planJson ?? {});
    if (options.includePlanJson) result.planJson = run.planJson;
    result.ok = true;
    return result;
  } finally {
    timings.initValidatePlanMs = timings.initMs + timings.validateMs + timings.planMs;
    timings.totalMs = Date.now() - started;
    if (options.keepWorkDir) result.workDir = workDir;
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}
