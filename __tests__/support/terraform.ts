/**
 * Offline real-Terraform harness.
 *
 * Runs `terraform init/validate/plan` on a synthesized cdktf stack without the
 * Terraform registry and without AWS:
 *   - the aws provider comes from a local filesystem mirror (discovered, never
 *     hard-coded; env vars override discovery),
 *   - the stack is copied to a temp dir and only the copy is rewritten
 *     (backend dropped, aws constraint relaxed to the mirrored version,
 *     data.archive_file stood in for by a zip we build ourselves, provider
 *     blocks given mock credentials),
 *   - every rewrite is reported as a human-readable "relaxation" so tests and
 *     CI print exactly what was not checked against the real configuration.
 *
 * Registry mode (`providerSource: 'registry'`, CLI `offline-plan --registry`): for
 * machines that reach the Terraform registry but have no mirror and no AWS
 * credentials (GitLab CI without AWS_ROLE_ARN). Providers are installed from
 * the registry at exactly the versions the stack requires, so the aws version
 * is NOT relaxed and archive_file is NOT stood in for; only the backend is
 * removed and the aws provider blocks get mock credentials.
 *
 * Env overrides:
 *   TERRAFORM_BIN              path of the terraform binary (else PATH lookup)
 *   TF_PLUGIN_MIRROR           provider filesystem mirror root (else discovery)
 *   OFFLINE_TERRAFORM_REQUIRED "1" makes a missing terraform/mirror a test failure
 *                              instead of a loud skip (for CI machines that have it)
 * Also read during discovery: TF_CLI_CONFIG_FILE (its filesystem_mirror paths and
 * plugin_cache_dir), TF_PLUGIN_CACHE_DIR, HOME, XDG_DATA_HOME, XDG_DATA_DIRS, PATH.
 * The terraform child processes get our own CLI config and no AWS_* / TF_CLI_ARGS* /
 * TF_VAR_* / TF_DATA_DIR / TF_WORKSPACE / TF_PLUGIN_CACHE_DIR from the parent.
 */
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { zipSync, Zippable } from 'fflate';

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

export type Env = Record<string, string | undefined>;

/** Where terraform installs providers from: a local filesystem mirror (offline) or the public registry (network). */
export type ProviderSource = 'mirror' | 'registry';

export interface TerraformAvailable {
  available: true;
  providerSource: 'mirror';
  /** Absolute path of the terraform binary. */
  terraformBin: string;
  /** How the binary was found, e.g. "TERRAFORM_BIN" or "PATH". */
  terraformSource: string;
  terraformVersion: string;
  /** Root of the filesystem mirror (contains registry.terraform.io/...). */
  mirrorDir: string;
  /** How the mirror was found, e.g. "TF_PLUGIN_MIRROR" or "conventional place". */
  mirrorSource: string;
  /** hashicorp/aws versions in the mirror for this OS/arch, highest first. */
  awsVersions: string[];
  /** Terraform platform string, e.g. "linux_amd64". */
  platform: string;
}

export interface TerraformUnavailable {
  available: false;
  /** One-line reason, suitable for a loud SKIPPED line. */
  reason: string;
}

export type TerraformDiscovery = TerraformAvailable | TerraformUnavailable;

/** A usable terraform binary for registry mode (no mirror needed). */
export interface TerraformRegistryAvailable {
  available: true;
  providerSource: 'registry';
  terraformBin: string;
  terraformSource: string;
  terraformVersion: string;
  platform: string;
}

export type RegistryDiscovery = TerraformRegistryAvailable | TerraformUnavailable;

/** Either kind of discovery result (what offlinePlan accepts). */
export type AnyDiscovery = TerraformDiscovery | RegistryDiscovery;

const PROVIDER_HOST_NS = path.join('registry.terraform.io', 'hashicorp');

/** Terraform's name for this machine's OS/arch (e.g. linux_amd64). */
export function terraformPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const osName = platform === 'win32' ? 'windows' : platform;
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${osName}_${archMap[arch] ?? arch}`;
}

/** Compares dotted numeric versions ("5.100.0" > "5.99.1"); pre-release suffixes sort lower. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): { nums: number[]; pre: string } => {
    const [core = '', pre = ''] = v.replace(/^v/, '').split('-', 2);
    return { nums: core.split('.').map((p) => Number.parseInt(p, 10) || 0), pre };
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < Math.max(pa.nums.length, pb.nums.length); i++) {
    const d = (pa.nums[i] ?? 0) - (pb.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === '') return 1;
  if (pb.pre === '') return -1;
  return pa.pre < pb.pre ? -1 : 1;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Versions of a provider held by a mirror root for a platform. Understands both
 * mirror layouts: unpacked (<v>/<platform>/terraform-provider-*) and packed
 * (terraform-provider-<type>_<v>_<platform>.zip).
 */
export function mirroredProviderVersions(mirrorDir: string, providerType: string, platform: string): string[] {
  const typeDir = path.join(mirrorDir, PROVIDER_HOST_NS, providerType);
  if (!isDir(typeDir)) return [];
  const found = new Set<string>();
  for (const entry of fs.readdirSync(typeDir)) {
    const platDir = path.join(typeDir, entry, platform);
    if (isDir(platDir) && fs.readdirSync(platDir).some((f) => f.startsWith(`terraform-provider-${providerType}`))) {
      found.add(entry);
    }
    const packed = new RegExp(`^terraform-provider-${providerType}_(.+)_${platform}\\.zip$`).exec(entry);
    if (packed?.[1]) found.add(packed[1]);
  }
  return [...found].sort((a, b) => compareVersions(b, a));
}

/** Default CLI config file location (TF_CLI_CONFIG_FILE, else ~/.terraformrc or %APPDATA%/terraform.rc). */
function cliConfigPath(env: Env): string | undefined {
  if (env.TF_CLI_CONFIG_FILE) return env.TF_CLI_CONFIG_FILE;
  if (process.platform === 'win32') return env.APPDATA ? path.join(env.APPDATA, 'terraform.rc') : undefined;
  return env.HOME ? path.join(env.HOME, '.terraformrc') : undefined;
}

/**
 * Directories named by a CLI config file (HCL or JSON): every filesystem_mirror
 * `path` and the `plugin_cache_dir` (which uses the same unpacked layout).
 */
export function mirrorDirsFromCliConfig(text: string): Array<{ dir: string; kind: string }> {
  const out: Array<{ dir: string; kind: string }> = [];
  const cache = /"?plugin_cache_dir"?\s*[=:]\s*"([^"]+)"/.exec(text);
  const mirrorRe = /"?filesystem_mirror"?\s*[=:]?\s*[{[]([^}]*)}/g;
  for (let m = mirrorRe.exec(text); m; m = mirrorRe.exec(text)) {
    const p = /"?path"?\s*[=:]\s*"([^"]+)"/.exec(m[1] ?? '');
    if (p?.[1]) out.push({ dir: p[1], kind: 'filesystem_mirror' });
  }
  if (cache?.[1]) out.push({ dir: cache[1], kind: 'plugin_cache_dir' });
  return out;
}

function expandHome(p: string, env: Env): string {
  return p.startsWith('~/') && env.HOME ? path.join(env.HOME, p.slice(2)) : p;
}

/** Candidate mirror roots in search order, with where each came from. */
export function candidateMirrorDirs(env: Env = process.env): Array<{ dir: string; source: string }> {
  const out: Array<{ dir: string; source: string }> = [];
  const cfg = cliConfigPath(env);
  if (cfg && fs.existsSync(cfg)) {
    try {
      for (const { dir, kind } of mirrorDirsFromCliConfig(fs.readFileSync(cfg, 'utf8'))) {
        out.push({ dir: expandHome(dir, env), source: `CLI config ${cfg} (${kind})` });
      }
    } catch {
      // unreadable config: ignore, other places are still searched
    }
  }
  if (env.TF_PLUGIN_CACHE_DIR) out.push({ dir: env.TF_PLUGIN_CACHE_DIR, source: 'TF_PLUGIN_CACHE_DIR' });
  const home = env.HOME;
  if (home) {
    out.push({ dir: path.join(home, '.terraform.d', 'plugins'), source: 'conventional place' });
    const xdgData = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
    out.push({ dir: path.join(xdgData, 'terraform', 'plugins'), source: 'conventional place' });
  }
  const xdgDirs = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  for (const d of xdgDirs) out.push({ dir: path.join(d, 'terraform', 'plugins'), source: 'conventional place' });
  for (const d of ['/usr/share/terraform/plugins', '/usr/local/share/terraform/plugins', '/opt/terraform/plugins', '/opt/tf-plugins']) {
    out.push({ dir: d, source: 'conventional place' });
  }
  // One level under /opt: any /opt/<x>/ that has the registry layout.
  try {
    for (const entry of fs.readdirSync('/opt').sort()) {
      const d = path.join('/opt', entry);
      if (isDir(path.join(d, PROVIDER_HOST_NS))) out.push({ dir: d, source: 'scan of /opt/*' });
    }
  } catch {
    // no /opt
  }
  const seen = new Set<string>();
  return out.filter(({ dir }) => {
    const key = path.resolve(dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function findOnPath(name: string, env: Env): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      if (isExecutableFile(p)) return p;
    }
  }
  return undefined;
}

function terraformVersionOf(bin: string, env: Env): { version: string } | { error: string } {
  const r = spawnSync(bin, ['version', '-json'], {
    env: { ...env, CHECKPOINT_DISABLE: '1' } as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error) return { error: r.error.message };
  try {
    const v = (JSON.parse(r.stdout) as { terraform_version?: unknown }).terraform_version;
    if (typeof v === 'string') return { version: v };
  } catch {
    // older terraform without -json: fall through to text parsing
  }
  const m = /Terraform v(\d+\.\d+\.\d+\S*)/.exec(r.stdout ?? '');
  if (m?.[1]) return { version: m[1] };
  return { error: `\`${bin} version\` exited ${r.status} without a version (${(r.stderr ?? '').trim().split('\n')[0] ?? ''})` };
}

interface TerraformBinary {
  terraformBin: string;
  terraformSource: string;
  terraformVersion: string;
  platform: string;
}

/** Finds a usable terraform binary (TERRAFORM_BIN, else PATH). Never throws. */
function findTerraformBinary(env: Env): TerraformBinary | TerraformUnavailable {
  const platform = terraformPlatform();
  let terraformBin: string;
  let terraformSource: string;
  if (env.TERRAFORM_BIN) {
    terraformBin = path.resolve(env.TERRAFORM_BIN);
    terraformSource = 'TERRAFORM_BIN';
    if (!isExecutableFile(terraformBin)) {
      return { available: false, reason: `TERRAFORM_BIN=${env.TERRAFORM_BIN} is not an executable file` };
    }
  } else {
    const found = findOnPath('terraform', env);
    if (!found) return { available: false, reason: 'no terraform binary on PATH (set TERRAFORM_BIN to point at one)' };
    terraformBin = found;
    terraformSource = 'PATH';
  }
  const v = terraformVersionOf(terraformBin, env);
  if ('error' in v) return { available: false, reason: `terraform at ${terraformBin} is not usable: ${v.error}` };
  if (compareVersions(v.version, '1.0.0') < 0) {
    return { available: false, reason: `terraform ${v.version} at ${terraformBin} is older than 1.0 (filesystem mirrors and plan JSON need >= 1.0)` };
  }
  return { terraformBin, terraformSource, terraformVersion: v.version, platform };
}

/**
 * Registry mode: only a terraform binary is needed; providers come from the
 * registry during init (network). Never throws.
 */
export function discoverTerraformForRegistry(env: Env = process.env): RegistryDiscovery {
  const bin = findTerraformBinary(env);
  if ('available' in bin) return bin;
  return { available: true, providerSource: 'registry', ...bin };
}

/**
 * Finds the terraform binary and a provider mirror holding hashicorp/aws for
 * this OS/arch. Never throws: returns a reason string when anything is missing.
 */
export function discoverTerraform(env: Env = process.env): TerraformDiscovery {
  const bin = findTerraformBinary(env);
  if ('available' in bin) return bin;
  const { terraformBin, terraformSource, platform } = bin;
  const v = { version: bin.terraformVersion };

  const pick = (dir: string, source: string): TerraformAvailable | undefined => {
    const awsVersions = mirroredProviderVersions(dir, 'aws', platform);
    if (awsVersions.length === 0) return undefined;
    return { available: true, providerSource: 'mirror', terraformBin, terraformSource, terraformVersion: v.version, mirrorDir: path.resolve(dir), mirrorSource: source, awsVersions, platform };
  };

  if (env.TF_PLUGIN_MIRROR) {
    const hit = pick(env.TF_PLUGIN_MIRROR, 'TF_PLUGIN_MIRROR');
    return hit ?? {
      available: false,
      reason: `TF_PLUGIN_MIRROR=${env.TF_PLUGIN_MIRROR} holds no registry.terraform.io/hashicorp/aws/<version>/${platform}`,
    };
  }
  const candidates = candidateMirrorDirs(env);
  for (const { dir, source } of candidates) {
    const hit = pick(dir, source);
    if (hit) return hit;
  }
  return {
    available: false,
    reason: `no provider mirror with hashicorp/aws for ${platform} (looked in ${candidates.map((c) => c.dir).join(', ')}; set TF_PLUGIN_MIRROR)`,
  };
}

// ---------------------------------------------------------------------------
// Stack JSON helpers
// ---------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function blocks(v: Json | undefined): JsonObject[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

export interface DeclaredResources {
  /** Number of resource instances declared (one per block; count/for_each not expanded). */
  total: number;
  byType: Record<string, number>;
  /** Addresses of resources using count or for_each (their instance count is not static). */
  countOrForEach: string[];
}

/** Counts resources declared in a synthesized cdk.tf.json. */
export function declaredResourceCount(stackJson: JsonObject): DeclaredResources {
  const byType: Record<string, number> = {};
  const countOrForEach: string[] = [];
  let total = 0;
  const resources = stackJson.resource;
  if (isObject(resources)) {
    for (const [type, byName] of Object.entries(resources)) {
      if (!isObject(byName)) continue;
      for (const [name, cfg] of Object.entries(byName)) {
        total++;
        byType[type] = (byType[type] ?? 0) + 1;
        for (const b of blocks(cfg)) {
          if ('count' in b || 'for_each' in b) countOrForEach.push(`${type}.${name}`);
        }
      }
    }
  }
  return { total, byType, countOrForEach };
}

/** Data sources that are evaluated locally by the provider (no AWS API call). */
export const LOCAL_DATA_SOURCES: ReadonlySet<string> = new Set([
  'archive_file',
  'aws_iam_policy_document',
  'aws_partition',
  'aws_region',
  'aws_default_tags',
  'aws_arn',
]);

/** `data.<type>.<name>` addresses of data sources that would need a real API. */
export function externalDataSources(stackJson: JsonObject): string[] {
  const out: string[] = [];
  const data = stackJson.data;
  if (!isObject(data)) return out;
  for (const [type, byName] of Object.entries(data)) {
    if (LOCAL_DATA_SOURCES.has(type) || !isObject(byName)) continue;
    for (const name of Object.keys(byName)) out.push(`data.${type}.${name}`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Rewriting for the offline check
// ---------------------------------------------------------------------------

export interface ArchiveStandIn {
  address: string;
  local: string;
  /** Absolute path of the zip we wrote inside the work dir. */
  zipPath: string;
  files: number;
  outputBase64sha256: string;
}

export interface PreparedStack {
  stackName: string;
  workDir: string;
  /** Path of the rewritten stack JSON inside workDir. */
  jsonPath: string;
  json: JsonObject;
  relaxations: string[];
  warnings: string[];
  externalDataSources: string[];
  archiveStandIns: ArchiveStandIn[];
  /** The aws version planned with: the mirror's (mirror mode) or the stack's constraint (registry mode). */
  awsProviderVersion: string;
  cliConfigFile: string;
  providerSource: ProviderSource;
}

export interface PrepareOptions {
  /** Default 'mirror'. */
  providerSource?: 'mirror';
  mirrorDir: string;
  /** aws versions available in the mirror (highest first); one is chosen. */
  awsVersions: string[];
  /** Force this aws provider version (must be in the mirror). */
  awsVersion?: string;
  /** plugin_cache_dir to write into the CLI config (see OfflinePlanOptions.pluginCacheDir). */
  pluginCacheDir?: string;
}

/** Registry mode: providers from the registry at the stack's own versions; only backend and credentials are rewritten. */
export interface RegistryPrepareOptions {
  providerSource: 'registry';
  /** plugin_cache_dir to write into the CLI config. */
  pluginCacheDir?: string;
}

const MOCK_ACCESS_KEY = 'mock-access-key';
const MOCK_SECRET_KEY = 'mock-secret-key';
const STACK_FILE = 'cdk.tf.json';
/** Fixed mtime so stand-in zips (and their hashes) are reproducible. */
const ZIP_MTIME = new Date('2000-01-01T00:00:00Z');

function copyStackDir(src: string, dest: string): void {
  fs.cpSync(src, dest, {
    recursive: true,
    dereference: false,
    filter: (p) => {
      const base = path.basename(p);
      // Never copy previous terraform working state (may be huge or point at a real backend).
      return base !== '.terraform' && base !== '.terraform.lock.hcl' && !base.endsWith('.tfstate') && !base.endsWith('.tfstate.backup');
    },
  });
}

/** Resolves a path argument that may use ${path.module}/${path.root}/${path.cwd}; undefined if it has other expressions. */
function resolvePathExpr(expr: string, workDir: string): string | undefined {
  const s = expr.replace(/\$\{path\.(module|root|cwd)\}/g, (_m, which: string) => (which === 'cwd' ? workDir : '.'));
  if (s.includes('${') || s.includes('%{')) return undefined;
  return path.isAbsolute(s) ? s : path.join(workDir, s);
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(/.*)?$`);
}

function walkFiles(root: string, rel: string, excludes: RegExp[], excludeSymlinkDirs: boolean, out: string[]): void {
  for (const entry of fs.readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${entry}` : entry;
    if (excludes.some((e) => e.test(r))) continue;
    const full = path.join(root, r);
    const lst = fs.lstatSync(full);
    if (lst.isSymbolicLink() && excludeSymlinkDirs && isDir(full)) continue;
    if (isDir(full)) walkFiles(root, r, excludes, excludeSymlinkDirs, out);
    else out.push(r);
  }
}

function stringArg(cfg: JsonObject, key: string): string | undefined {
  const v = cfg[key];
  return typeof v === 'string' ? v : undefined;
}

function unixMode(mode: string | undefined): number | undefined {
  return mode ? Number.parseInt(mode, 8) : undefined;
}

/** Builds the zip the archive provider would build and returns its attributes. */
function buildArchive(
  address: string,
  cfg: JsonObject,
  workDir: string,
): { entries: Zippable; files: number; describe: string } {
  const type = stringArg(cfg, 'type');
  if (type !== 'zip') throw new Error(`${address}: stand-in supports type "zip" only, got ${JSON.stringify(type)}`);
  const mode = unixMode(stringArg(cfg, 'output_file_mode'));
  const entryOpts = mode !== undefined ? { mtime: ZIP_MTIME, os: 3, attrs: (mode | 0o100000) << 16 } : { mtime: ZIP_MTIME };
  const entries: Zippable = {};
  const add = (name: string, data: Uint8Array): void => {
    entries[name] = [data, entryOpts];
  };
  const need = (key: string): string => {
    const raw = stringArg(cfg, key) ?? '';
    const p = resolvePathExpr(raw, workDir);
    if (!p) throw new Error(`${address}: cannot stand in, ${key} = ${JSON.stringify(raw)} uses expressions other than path.*`);
    if (!fs.existsSync(p)) throw new Error(`${address}: ${key} ${JSON.stringify(raw)} does not exist in the stack copy (${p})`);
    return p;
  };
  const srcFile = stringArg(cfg, 'source_file');
  const srcDir = stringArg(cfg, 'source_dir');
  const srcContent = stringArg(cfg, 'source_content');
  const srcList = blocks(cfg.source);
  if (srcFile !== undefined) {
    const p = need('source_file');
    add(path.basename(p), fs.readFileSync(p));
    return { entries, files: 1, describe: `source_file ${srcFile}` };
  }
  if (srcDir !== undefined) {
    const p = need('source_dir');
    const rawExcludes = Array.isArray(cfg.excludes) ? cfg.excludes.filter((e): e is string => typeof e === 'string') : [];
    const files: string[] = [];
    walkFiles(p, '', rawExcludes.map(globToRegExp), cfg.exclude_symlink_directories === true, files);
    for (const f of files) add(f, fs.readFileSync(path.join(p, f)));
    return { entries, files: files.length, describe: `source_dir ${srcDir}` };
  }
  if (srcContent !== undefined) {
    const name = stringArg(cfg, 'source_content_filename');
    if (!name) throw new Error(`${address}: source_content without source_content_filename`);
    if (srcContent.includes('${')) throw new Error(`${address}: cannot stand in, source_content uses expressions`);
    add(name, new TextEncoder().encode(srcContent));
    return { entries, files: 1, describe: 'source_content' };
  }
  if (srcList.length > 0) {
    for (const s of srcList) {
      const content = stringArg(s, 'content');
      const filename = stringArg(s, 'filename');
      if (content === undefined || !filename || content.includes('${')) {
        throw new Error(`${address}: cannot stand in, source block needs literal content and filename`);
      }
      add(filename, new TextEncoder().encode(content));
    }
    return { entries, files: srcList.length, describe: `${srcList.length} source block(s)` };
  }
  throw new Error(`${address}: no source_file, source_dir, source_content or source block`);
}

function digest(algo: string, data: Uint8Array, enc: 'hex' | 'base64'): string {
  return crypto.createHash(algo).update(data).digest(enc);
}

/** Rewrites `data.archive_file.<name>` references inside every template string. */
function rewriteRefs(v: Json, map: Map<string, string>, key?: string): Json {
  if (typeof v === 'string') {
    if (!v.includes('${') && !v.includes('%{')) return v;
    return v.replace(/data\.archive_file\.([A-Za-z_][A-Za-z0-9_-]*)(?![A-Za-z0-9_-])/g, (m, name: string) => {
      const local = map.get(name);
      return local ? `local.${local}` : m;
    });
  }
  if (Array.isArray(v)) {
    if (key === 'depends_on') {
      // depends_on cannot name a local: drop the stood-in data sources from it.
      return v.filter((d) => !(typeof d === 'string' && /^data\.archive_file\.([A-Za-z0-9_-]+)$/.test(d) && map.has(d.split('.')[2] ?? '')));
    }
    return v.map((x) => rewriteRefs(x, map));
  }
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = rewriteRefs(x, map, k);
    return out;
  }
  return v;
}

function hasDependsOnData(v: Json, names: Set<string>): boolean {
  if (Array.isArray(v)) return v.some((x) => hasDependsOnData(x, names));
  if (!isObject(v)) return false;
  return Object.entries(v).some(([k, x]) =>
    k === 'depends_on' && Array.isArray(x)
      ? x.some((d) => typeof d === 'string' && names.has(d))
      : hasDependsOnData(x, names),
  );
}

function pluginCacheLines(pluginCacheDir: string | undefined): string[] {
  // Without a lock file in the fresh work dir, terraform >= 1.4 ignores the cache unless allowed to.
  return pluginCacheDir ? [`plugin_cache_dir = ${JSON.stringify(pluginCacheDir)}`, 'plugin_cache_may_break_dependency_lock_file = true', ''] : [];
}

export function cliConfigText(mirrorDir: string, pluginCacheDir?: string): string {
  return [
    ...pluginCacheLines(pluginCacheDir),
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirrorDir)}`,
    '    include = ["registry.terraform.io/hashicorp/*"]',
    '  }',
    '  direct {',
    '    exclude = ["*/*/*"]',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * CLI config of registry mode: every provider installed directly from its
 * registry (the TF_CLI_CONFIG_FILE of the child replaces any user config, so a
 * mirror or network_mirror configured on the machine cannot change the versions).
 */
export function registryCliConfigText(pluginCacheDir?: string): string {
  return [...pluginCacheLines(pluginCacheDir), 'provider_installation {', '  direct {}', '}', ''].join('\n');
}

/**
 * Copies stackDir into workDir (which must not exist or be empty) and rewrites
 * the copy's cdk.tf.json for the offline check. The original is never touched.
 * Throws when the stack cannot be made offline-plannable (e.g. an archive_file
 * whose sources are computed).
 */
export function prepareOfflineStack(stackDir: string, workDir: string, opts: PrepareOptions | RegistryPrepareOptions): PreparedStack {
  const registry = opts.providerSource === 'registry';
  const stackName = path.basename(path.resolve(stackDir));
  const original = JSON.parse(fs.readFileSync(path.join(stackDir, STACK_FILE), 'utf8')) as JsonObject;
  copyStackDir(stackDir, workDir);
  const relaxations: string[] = [];
  const warnings: string[] = [];
  let json: JsonObject = JSON.parse(JSON.stringify(original)) as JsonObject;

  const terraform: JsonObject = isObject(json.terraform) ? json.terraform : {};
  json.terraform = terraform;

  // (a) backend / cloud
  for (const key of ['backend', 'cloud'] as const) {
    const b = terraform[key];
    if (b !== undefined) {
      const kinds = isObject(b) ? Object.keys(b).join(', ') : key;
      delete terraform[key];
      relaxations.push(`terraform.${key} (${kinds}) removed: no remote state offline (init -backend=false)`);
    }
  }

  // (b) aws version constraint
  const required: JsonObject = isObject(terraform.required_providers) ? terraform.required_providers : {};
  terraform.required_providers = required;
  const awsReq = required.aws;
  const wanted = isObject(awsReq) && typeof awsReq.version === 'string' ? awsReq.version : undefined;
  let awsVersion: string;
  if (opts.providerSource === 'registry') {
    // The registry has every version: plan with exactly the required one.
    awsVersion = wanted ?? '(unconstrained)';
  } else if (opts.awsVersion) {
    if (!opts.awsVersions.includes(opts.awsVersion)) {
      throw new Error(`aws provider ${opts.awsVersion} is not in the mirror ${opts.mirrorDir} (has ${opts.awsVersions.join(', ')})`);
    }
    awsVersion = opts.awsVersion;
  } else if (wanted && opts.awsVersions.includes(wanted)) {
    awsVersion = wanted;
  } else {
    const highest = opts.awsVersions[0];
    if (!highest) throw new Error(`mirror ${opts.mirrorDir} holds no aws provider`);
    awsVersion = highest;
  }
  if (opts.providerSource !== 'registry' && isObject(awsReq)) {
    if (awsReq.version !== awsVersion) {
      relaxations.push(
        `required_providers.aws.version relaxed from ${JSON.stringify(awsReq.version ?? null)} to "${awsVersion}" (the version in the mirror ${opts.mirrorDir}); attributes that exist only in the required version will fail validate`,
      );
      awsReq.version = awsVersion;
    }
  }

  // (c) archive_file stand-ins
  const archiveStandIns: ArchiveStandIn[] = [];
  const data = isObject(json.data) ? json.data : undefined;
  const archives = data && isObject(data.archive_file) ? data.archive_file : undefined;
  const refMap = new Map<string, string>();
  // Registry mode installs hashicorp/archive itself, so the real data source runs.
  if (archives && data && !registry) {
    const locals: JsonObject = isObject(json.locals) ? json.locals : {};
    for (const [name, rawCfg] of Object.entries(archives)) {
      const address = `data.archive_file.${name}`;
      const cfg = blocks(rawCfg)[0];
      if (!cfg) throw new Error(`${address}: unexpected shape`);
      for (const meta of ['count', 'for_each', 'depends_on']) {
        if (meta in cfg) throw new Error(`${address}: cannot stand in for an archive_file using ${meta}`);
      }
      const { entries, files, describe } = buildArchive(address, cfg, workDir);
      const zip = zipSync(entries, { level: 6 });
      const outputPathExpr = stringArg(cfg, 'output_path');
      if (!outputPathExpr) throw new Error(`${address}: output_path is required`);
      let outPath = resolvePathExpr(outputPathExpr, workDir);
      let outputPathValue = outputPathExpr;
      if (!outPath) throw new Error(`${address}: cannot stand in, output_path ${JSON.stringify(outputPathExpr)} uses expressions other than path.*`);
      const relOut = path.relative(workDir, outPath);
      if (relOut.startsWith('..') || path.isAbsolute(relOut)) {
        // Never write outside the work dir.
        outputPathValue = `\${path.module}/.offline-archives/${name}.zip`;
        outPath = path.join(workDir, '.offline-archives', `${name}.zip`);
        warnings.push(`${address}: output_path ${JSON.stringify(outputPathExpr)} is outside the stack folder; the stand-in writes ${outputPathValue} instead`);
      }
      fs.mkdirSync(path.dirname(outPath), { recursive: true });
      fs.writeFileSync(outPath, zip);
      const local = `offline_archive_file_${name}`;
      const attrs: JsonObject = {};
      for (const [k, x] of Object.entries(cfg)) if (k !== '//') attrs[k] = x;
      const sha1 = digest('sha1', zip, 'hex');
      Object.assign(attrs, {
        id: sha1,
        output_path: outputPathValue,
        output_size: zip.length,
        output_md5: digest('md5', zip, 'hex'),
        output_sha: sha1,
        output_sha256: digest('sha256', zip, 'hex'),
        output_base64sha256: digest('sha256', zip, 'base64'),
        output_sha512: digest('sha512', zip, 'hex'),
        output_base64sha512: digest('sha512', zip, 'base64'),
      });
      locals[local] = attrs;
      refMap.set(name, local);
      const b64 = attrs.output_base64sha256 as string;
      archiveStandIns.push({ address, local, zipPath: outPath, files, outputBase64sha256: b64 });
      relaxations.push(
        `${address} stood in for: zipped ${describe} (${files} file(s)) ourselves to ${outputPathValue}; references rewritten to local.${local} (output_base64sha256 ${b64} is the stand-in zip's, not the archive provider's)`,
      );
    }
    const dependsNames = new Set([...refMap.keys()].map((n) => `data.archive_file.${n}`));
    if (hasDependsOnData(json, dependsNames)) {
      relaxations.push('depends_on entries naming stood-in archive_file data sources removed');
    }
    delete data.archive_file;
    if (Object.keys(data).length === 0) delete json.data;
    json.locals = locals;
    json = rewriteRefs(json, refMap) as JsonObject;
  }
  const jsonTerraform = json.terraform as JsonObject;
  const jsonRequired = jsonTerraform.required_providers as JsonObject;
  const leftoverArchive = [
    ...Object.keys(isObject(json.resource) ? json.resource : {}),
    ...Object.keys(isObject(json.data) ? json.data : {}),
  ].filter((t) => t.startsWith('archive_'));
  if (!registry && (refMap.size > 0 || jsonRequired.archive !== undefined)) {
    if (leftoverArchive.length > 0) {
      throw new Error(`archive provider still needed by ${leftoverArchive.join(', ')}: only data.archive_file can be stood in for`);
    }
    const provider = isObject(json.provider) ? json.provider : undefined;
    if (jsonRequired.archive !== undefined) {
      delete jsonRequired.archive;
      if (provider) delete provider.archive;
      relaxations.push('hashicorp/archive removed from required_providers and provider blocks (not in the mirror; its data sources are stood in for)');
    }
  }

  // (d) aws provider blocks: mock credentials, no STS / metadata calls.
  const providers: JsonObject = isObject(json.provider) ? json.provider : {};
  const usesAws = jsonRequired.aws !== undefined || Object.keys(isObject(json.resource) ? json.resource : {}).some((t) => t.startsWith('aws_'));
  if (providers.aws === undefined && usesAws) {
    providers.aws = [{}];
    relaxations.push('provider "aws" block added (stack has none) so mock credentials can be set');
  }
  const awsBlocks = blocks(providers.aws);
  awsBlocks.forEach((b, i) => {
    const label = `provider aws[${i}]${typeof b.alias === 'string' ? ` (alias ${b.alias})` : ''}`;
    const removed: string[] = [];
    for (const k of [
      'assume_role',
      'assume_role_with_web_identity',
      'profile',
      'shared_config_files',
      'shared_credentials_files',
      'token',
      'allowed_account_ids',
      'forbidden_account_ids',
    ]) {
      if (k in b) {
        delete b[k];
        removed.push(k);
      }
    }
    Object.assign(b, {
      access_key: MOCK_ACCESS_KEY,
      secret_key: MOCK_SECRET_KEY,
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
    });
    let note = '';
    if (typeof b.region !== 'string') {
      b.region = 'us-east-1';
      note = '; region was unset, using us-east-1';
    }
    relaxations.push(
      `${label}: mock credentials, skip_credentials_validation/skip_requesting_account_id/skip_metadata_api_check/skip_region_validation set` +
        (removed.length ? `; removed ${removed.join(', ')} (would call AWS)` : '') +
        note,
    );
  });
  if (awsBlocks.length > 0) {
    providers.aws = awsBlocks;
    json.provider = providers;
  }

  // Absolute filesystem paths in arguments make the stack machine-specific.
  const pathKeys = new Set(['filename', 'source', 'source_file', 'source_dir', 'output_path']);
  const scan = (v: Json, where: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => scan(x, `${where}[${i}]`));
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k === '//') continue;
        if (typeof x === 'string' && pathKeys.has(k) && /^\/(?:home|tmp|Users|root|work|var|opt)\//.test(x)) {
          warnings.push(`${where}.${k} is an absolute path (${x}); use \${path.module}-relative paths`);
        } else scan(x, `${where}.${k}`);
      }
    }
  };
  scan(original.resource ?? null, 'resource');
  scan(original.data ?? null, 'data');

  const jsonPath = path.join(workDir, STACK_FILE);
  fs.writeFileSync(jsonPath, JSON.stringify(json, null, 2));
  const cliConfigFile = path.join(workDir, '.offline-terraform.tfrc');
  fs.writeFileSync(cliConfigFile, opts.providerSource === 'registry' ? registryCliConfigText(opts.pluginCacheDir) : cliConfigText(opts.mirrorDir, opts.pluginCacheDir));

  return {
    stackName,
    workDir,
    jsonPath,
    json,
    relaxations,
    warnings,
    externalDataSources: externalDataSources(json),
    archiveStandIns,
    awsProviderVersion: awsVersion,
    cliConfigFile,
    providerSource: registry ? 'registry' : 'mirror',
  };
}

// ---------------------------------------------------------------------------
// Running terraform
// ---------------------------------------------------------------------------

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

/** True when a provider version is in the mirror only as a packed .zip for this platform. */
export function isPackedOnly(mirrorDir: string, providerType: string, version: string, platform: string): boolean {
  const typeDir = path.join(mirrorDir, PROVIDER_HOST_NS, providerType);
  return !isDir(path.join(typeDir, version, platform)) && fs.existsSync(path.join(typeDir, `terraform-provider-${providerType}_${version}_${platform}.zip`));
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

interface PlanJson {
  resource_changes?: Array<{ address: string; mode: string; change: { actions: string[] } }>;
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

/**
 * Copies the stack to a temp dir, rewrites it for offline use and runs
 * terraform init, validate -json, plan and show -json on the copy.
 * Never throws for terraform failures: they come back in `failure`.
 */
export async function offlinePlan(stackDir: string, options: OfflinePlanOptions = {}): Promise<OfflinePlanResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const stackName = path.basename(path.resolve(stackDir));
  const timings: OfflinePlanTimings = { prepareMs: 0, initMs: 0, validateMs: 0, planMs: 0, showMs: 0, initValidatePlanMs: 0, totalMs: 0 };
  const result: OfflinePlanResult = {
    stackName,
    stackDir: path.resolve(stackDir),
    ok: false,
    relaxations: [],
    warnings: [],
    externalDataSources: [],
    timings,
  };
  const discovery: AnyDiscovery =
    options.discovery ?? (options.providerSource === 'registry' ? discoverTerraformForRegistry(env) : discoverTerraform(env));
  if (!discovery.available) {
    result.skipped = discovery.reason;
    return result;
  }
  result.terraformVersion = discovery.terraformVersion;
  result.providerSource = discovery.providerSource;
  const step = options.onStep ?? ((): void => undefined);
  const timeout = options.commandTimeoutMs ?? 300_000;
  const workRoot = options.workRoot ?? os.tmpdir();
  fs.mkdirSync(workRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(workRoot, `offline-plan-${stackName}-`));
  const workDir = path.join(tmp, stackName);
  const fail = (phase: Phase, message: string): OfflinePlanResult => {
    result.failure = { phase, message };
    return result;
  };
  try {
    step(`${stackName}: preparing copy in ${workDir}`);
    const t0 = Date.now();
    let prepared: PreparedStack;
    try {
      const cacheOpt = options.pluginCacheDir ?? 'auto';
      let cacheDir: string | undefined;
      if (cacheOpt !== 'auto') cacheDir = cacheOpt || undefined;
      else if (discovery.providerSource === 'registry') cacheDir = sharedPluginCacheDir();
      else {
        const chosen = options.awsVersion ?? discovery.awsVersions[0] ?? '';
        cacheDir = isPackedOnly(discovery.mirrorDir, 'aws', chosen, discovery.platform) ? sharedPluginCacheDir() : undefined;
      }
      if (cacheDir) fs.mkdirSync(cacheDir, { recursive: true });
      prepared = prepareOfflineStack(
        stackDir,
        workDir,
        discovery.providerSource === 'registry'
          ? { providerSource: 'registry', ...(cacheDir ? { pluginCacheDir: cacheDir } : {}) }
          : {
              mirrorDir: discovery.mirrorDir,
              awsVersions: discovery.awsVersions,
              ...(options.awsVersion ? { awsVersion: options.awsVersion } : {}),
              ...(cacheDir ? { pluginCacheDir: cacheDir } : {}),
            },
      );
    } catch (e) {
      return fail('prepare', e instanceof Error ? e.message : String(e));
    } finally {
      timings.prepareMs = Date.now() - t0;
    }
    result.relaxations = prepared.relaxations;
    result.warnings = prepared.warnings;
    result.externalDataSources = prepared.externalDataSources;
    result.awsProviderVersion = prepared.awsProviderVersion;
    const childEnv = terraformChildEnv(env, prepared.cliConfigFile);
    const tf = (args: string[]): Promise<RunResult> => runTerraform(discovery.terraformBin, args, workDir, childEnv, timeout);
    const describeRun = (what: string, r: RunResult): string =>
      `${what} ${r.timedOut ? `timed out after ${timeout} ms` : `exited ${r.code}`}:\n${tail(r.stderr || r.stdout)}`;

    step(`${stackName}: terraform init`);
    const init = await tf(['init', '-backend=false', '-input=false', '-no-color']);
    timings.initMs = init.ms;
    if (init.code !== 0) return fail('init', describeRun('terraform init', init));

    step(`${stackName}: terraform validate`);
    const val = await tf(['validate', '-json', '-no-color']);
    timings.validateMs = val.ms;
    try {
      const v = JSON.parse(val.stdout) as { valid: boolean; error_count: number; warning_count: number; diagnostics?: Diagnostic[] };
      result.validate = { valid: v.valid, errorCount: v.error_count, warningCount: v.warning_count, diagnostics: v.diagnostics ?? [] };
    } catch {
      return fail('validate', describeRun('terraform validate -json (unparseable output)', val));
    }
    if (!result.validate.valid) {
      return fail('validate', `terraform validate found ${result.validate.errorCount} error(s):\n${formatDiagnostics(result.validate.diagnostics.filter((d) => d.severity === 'error'))}`);
    }
    if (result.externalDataSources.length > 0 && !options.allowExternalDataSources) {
      return fail('preflight', `plan not run: data sources that call AWS cannot be read offline: ${result.externalDataSources.join(', ')}`);
    }

    step(`${stackName}: terraform plan`);
    const plan = await tf(['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color', '-out=offline.tfplan']);
    timings.planMs = plan.ms;
    if (plan.code !== 0) return fail('plan', describeRun('terraform plan', plan));

    step(`${stackName}: terraform show -json`);
    const show = await tf(['show', '-json', '-no-color', 'offline.tfplan']);
    timings.showMs = show.ms;
    if (show.code !== 0) return fail('show', describeRun('terraform show -json', show));
    try {
      result.plan = summarizePlan(JSON.parse(show.stdout) as PlanJson);
    } catch (e) {
      return fail('show', `terraform show -json output unparseable: ${e instanceof Error ? e.message : String(e)}`);
    }
    result.ok = true;
    return result;
  } finally {
    timings.initValidatePlanMs = timings.initMs + timings.validateMs + timings.planMs;
    timings.totalMs = Date.now() - started;
    if (options.keepWorkDir) result.workDir = workDir;
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

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
        ` (init ${r.timings.initMs} ms, validate ${r.timings.validateMs} ms, plan ${r.timings.planMs} ms)`,
    );
  }
  if (r.failure) lines.push(`offline plan ${name}: FAILED at ${r.failure.phase}: ${r.failure.message}`);
  return lines;
}

// ---------------------------------------------------------------------------
// Jest integration
// ---------------------------------------------------------------------------

export interface OfflineGate {
  discovery: TerraformDiscovery;
  available: boolean;
  /** The reason terraform tests are skipped (undefined when available). */
  reason: string | undefined;
  /**
   * Call first in every test that needs terraform: when terraform/mirror are
   * missing it returns true (return early); the gate already printed the one loud SKIPPED line.
   * With OFFLINE_TERRAFORM_REQUIRED=1 it throws instead.
   */
  skipIfUnavailable(testName: string): boolean;
}

/**
 * Discovers terraform once per test file. When unavailable, prints one loud
 * line immediately (at describe time); gated tests then return early.
 */
export function offlineTerraformGate(env: Env = process.env, warn: (line: string) => void = console.warn): OfflineGate {
  const discovery = discoverTerraform(env);
  const reason = discovery.available ? undefined : discovery.reason;
  const required = env.OFFLINE_TERRAFORM_REQUIRED === '1';
  if (reason !== undefined) {
    warn(`SKIPPED offline terraform plan: ${reason}${required ? ' (OFFLINE_TERRAFORM_REQUIRED=1: gated tests will fail)' : ''}`);
  }
  return {
    discovery,
    available: discovery.available,
    reason,
    skipIfUnavailable(testName: string): boolean {
      if (reason === undefined) return false;
      if (required) throw new Error(`offline terraform required (OFFLINE_TERRAFORM_REQUIRED=1) but unavailable: ${reason} [${testName}]`);
      // The one loud line was printed when the gate was made; each gated test just returns early.
      return true;
    },
  };
}

/** Prints what an offline plan relaxed and planned (so test output always says it). */
export function logOfflinePlan(r: OfflinePlanResult, log: (line: string) => void = console.log): void {
  log(describeOfflinePlan(r).join('\n'));
}
