/**
 * Preparing a stack for the offline check: copy the synthesized stack folder to a work dir, apply
 * the relaxations (relaxations.ts) to the copy's cdk.tf.json, and write the terraform CLI config
 * that allows only the mirror (or only the registry). The original folder is never touched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ProviderSource } from './discovery';
import { ArchiveStandIn, asChildModule, mockProviderCredentials, relaxAwsVersion, RemoteStateStandIn, removeBackend, standInArchiveFiles, standInRemoteStates } from './relaxations';
import { ProducerResolver, producersFromStacksDir } from './remote-state';
import { externalDataSources, isObject, Json, JsonObject } from './stack-json';

export const STACK_FILE = 'cdk.tf.json';

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
  remoteStateStandIns: RemoteStateStandIn[];
  /** The aws version planned with: the mirror's (mirror mode) or the stack's constraint (registry mode). */
  awsProviderVersion: string;
  cliConfigFile: string;
  providerSource: ProviderSource;
}

/** Options of both modes. */
export interface CommonPrepareOptions {
  /** plugin_cache_dir to write into the CLI config (see OfflinePlanOptions.pluginCacheDir). */
  pluginCacheDir?: string;
  /**
   * Where the producers of cdktf cross-stack references are found (their declared outputs become
   * the remote-state stand-ins): the `stacks` folder of the synth output (cdktf.out/stacks) or a
   * resolver. Default: the folder holding the stack, which in a synth output is that folder.
   */
  producers?: string | ProducerResolver;
  /**
   * Prepare the stack to be called as a child module of a root module that plans several stacks
   * at once (offlinePlanMany): the asChildModule relaxation, with the other stacks' names.
   */
  asChildModule?: { moduleName: string; others: string[] };
}

export interface PrepareOptions extends CommonPrepareOptions {
  /** Default 'mirror'. */
  providerSource?: 'mirror';
  mirrorDir: string;
  /** aws versions available in the mirror (highest first); one is chosen. */
  awsVersions: string[];
  /** Force this aws provider version (must be in the mirror). */
  awsVersion?: string;
}

/** Registry mode: providers from the registry at the stack's own versions; only backend and credentials are rewritten. */
export interface RegistryPrepareOptions extends CommonPrepareOptions {
  providerSource: 'registry';
}

/** The resolver of a `producers` option (default: the stack's own parent folder). */
export function producerResolver(stackDir: string, producers: string | ProducerResolver | undefined): ProducerResolver {
  if (producers === undefined) return producersFromStacksDir(path.dirname(path.resolve(stackDir)));
  return typeof producers === 'string' ? producersFromStacksDir(producers) : producers;
}

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

/** Warnings for absolute filesystem paths in arguments (they make the stack machine-specific). */
function absolutePathWarnings(original: JsonObject): string[] {
  const warnings: string[] = [];
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
  return warnings;
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

  relaxations.push(...removeBackend(json));
  // Registry mode too: CI without AWS credentials cannot read the producers' S3 state either.
  const remote = standInRemoteStates(json, workDir, producerResolver(stackDir, opts.producers));
  relaxations.push(...remote.relaxations);
  warnings.push(...remote.warnings);

  let awsVersion: string;
  const archiveStandIns: ArchiveStandIn[] = [];
  if (opts.providerSource === 'registry') {
    // The registry has every version: plan with exactly the required one, and the real
    // hashicorp/archive runs the archive data sources.
    const awsReq = isObject(json.terraform) && isObject(json.terraform.required_providers) ? json.terraform.required_providers.aws : undefined;
    awsVersion = isObject(awsReq) && typeof awsReq.version === 'string' ? awsReq.version : '(unconstrained)';
  } else {
    const aws = relaxAwsVersion(json, opts);
    awsVersion = aws.awsVersion;
    relaxations.push(...aws.relaxations);
    const archives = standInArchiveFiles(json, workDir);
    json = archives.json;
    relaxations.push(...archives.relaxations);
    warnings.push(...archives.warnings);
    archiveStandIns.push(...archives.standIns);
  }

  relaxations.push(...mockProviderCredentials(json));
  if (opts.asChildModule) {
    const mod = asChildModule(json, opts.asChildModule.moduleName, opts.asChildModule.others);
    json = mod.json;
    relaxations.push(...mod.relaxations);
  }
  warnings.push(...absolutePathWarnings(original));

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
    remoteStateStandIns: remote.standIns,
    awsProviderVersion: awsVersion,
    cliConfigFile,
    providerSource: registry ? 'registry' : 'mirror',
  };
}
