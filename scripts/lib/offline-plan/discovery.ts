/**
 * Discovery: finds the terraform binary and a local provider filesystem mirror holding
 * hashicorp/aws for this OS/arch (never hard-coded; env vars override). Never throws: a missing
 * piece comes back as a one-line reason for the loud SKIPPED line.
 *
 * Env overrides:
 *   TERRAFORM_BIN     path of the terraform binary (else PATH lookup)
 *   TF_PLUGIN_MIRROR  provider filesystem mirror root (else discovery)
 * Also read: TF_CLI_CONFIG_FILE (its filesystem_mirror paths and plugin_cache_dir),
 * TF_PLUGIN_CACHE_DIR, HOME, XDG_DATA_HOME, XDG_DATA_DIRS, PATH.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

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

export function isDir(p: string): boolean {
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
/** True when a provider version is in the mirror only as a packed .zip for this platform. */
export function isPackedOnly(mirrorDir: string, providerType: string, version: string, platform: string): boolean {
  const typeDir = path.join(mirrorDir, PROVIDER_HOST_NS, providerType);
  return !isDir(path.join(typeDir, version, platform)) && fs.existsSync(path.join(typeDir, `terraform-provider-${providerType}_${version}_${platform}.zip`));
}
