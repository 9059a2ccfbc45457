/**
 * The relaxations: every rewrite the offline check makes to a stack copy, one exported function
 * each. Each mutates the stack JSON of the copy (never the original) and returns the
 * human-readable lines that every plan prints after "RELAXED", so a reader sees exactly what was
 * not checked against the real configuration. prepareOfflineStack (prepare.ts) applies them in
 * this order: removeBackend, standInRemoteStates, then in mirror mode relaxAwsVersion and
 * standInArchiveFiles, then mockProviderCredentials, and for offlinePlanMany asChildModule.
 */
import * as fs from 'fs';
import * as path from 'path';
import { zipSync } from 'fflate';
import { buildArchive, digest, hasDependsOnData, resolvePathExpr, rewriteRefs, stringArg } from './archive';
import { CROSS_STACK_INPUT_PREFIX, PlaceholderContext, placeholderValue, ProducerResolver, referencedOutputs, stateFileJson } from './remote-state';
import { blocks, isObject, Json, JsonObject } from './stack-json';

const MOCK_ACCESS_KEY = 'mock-access-key';
const MOCK_SECRET_KEY = 'mock-secret-key';

/** The `terraform` block of a stack, created when missing. */
function terraformBlock(json: JsonObject): JsonObject {
  const terraform: JsonObject = isObject(json.terraform) ? json.terraform : {};
  json.terraform = terraform;
  return terraform;
}

/** The `terraform.required_providers` block of a stack, created when missing. */
function requiredProviders(json: JsonObject): JsonObject {
  const terraform = terraformBlock(json);
  const required: JsonObject = isObject(terraform.required_providers) ? terraform.required_providers : {};
  terraform.required_providers = required;
  return required;
}

/**
 * Backend removal: drops `terraform.backend` and `terraform.cloud` (no remote state offline; init
 * runs with -backend=false).
 */
export function removeBackend(json: JsonObject): string[] {
  const terraform = terraformBlock(json);
  const relaxations: string[] = [];
  for (const key of ['backend', 'cloud'] as const) {
    const b = terraform[key];
    if (b !== undefined) {
      const kinds = isObject(b) ? Object.keys(b).join(', ') : key;
      delete terraform[key];
      relaxations.push(`terraform.${key} (${kinds}) removed: no remote state offline (init -backend=false)`);
    }
  }
  return relaxations;
}

export interface AwsVersionOptions {
  mirrorDir: string;
  /** aws versions available in the mirror (highest first); one is chosen. */
  awsVersions: string[];
  /** Force this aws provider version (must be in the mirror). */
  awsVersion?: string;
}

/**
 * aws version relaxation (mirror mode): plans with the stack's required aws version when the
 * mirror has it, else with the forced or the highest mirrored version, rewriting the constraint.
 * Throws when a forced version is not in the mirror, or the mirror has no aws at all.
 */
export function relaxAwsVersion(json: JsonObject, opts: AwsVersionOptions): { awsVersion: string; relaxations: string[] } {
  const awsReq = requiredProviders(json).aws;
  const wanted = isObject(awsReq) && typeof awsReq.version === 'string' ? awsReq.version : undefined;
  let awsVersion: string;
  if (opts.awsVersion) {
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
  const relaxations: string[] = [];
  if (isObject(awsReq) && awsReq.version !== awsVersion) {
    relaxations.push(
      `required_providers.aws.version relaxed from ${JSON.stringify(awsReq.version ?? null)} to "${awsVersion}" (the version in the mirror ${opts.mirrorDir}); attributes that exist only in the required version will fail validate`,
    );
    awsReq.version = awsVersion;
  }
  return { awsVersion, relaxations };
}

export interface ArchiveStandIn {
  address: string;
  local: string;
  /** Absolute path of the zip we wrote inside the work dir. */
  zipPath: string;
  files: number;
  outputBase64sha256: string;
}

/**
 * archive_file stand-in (mirror mode; the mirror has no hashicorp/archive): zips each
 * `data.archive_file` ourselves from the files in the stack copy at workDir, replaces the data
 * source with a local holding the same attributes, rewrites references to it, and removes
 * hashicorp/archive from required_providers and provider blocks. Returns the rewritten JSON (a
 * new object when references were rewritten). Throws when a stand-in is impossible (computed
 * sources, count/for_each, archive resources other than data.archive_file).
 */
export function standInArchiveFiles(
  input: JsonObject,
  workDir: string,
): { json: JsonObject; relaxations: string[]; warnings: string[]; standIns: ArchiveStandIn[] } {
  let json = input;
  const relaxations: string[] = [];
  const warnings: string[] = [];
  const standIns: ArchiveStandIn[] = [];
  const data = isObject(json.data) ? json.data : undefined;
  const archives = data && isObject(data.archive_file) ? data.archive_file : undefined;
  const refMap = new Map<string, string>();
  if (archives && data) {
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
      standIns.push({ address, local, zipPath: outPath, files, outputBase64sha256: b64 });
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
  const jsonRequired = requiredProviders(json);
  const leftoverArchive = [
    ...Object.keys(isObject(json.resource) ? json.resource : {}),
    ...Object.keys(isObject(json.data) ? json.data : {}),
  ].filter((t) => t.startsWith('archive_'));
  if (refMap.size > 0 || jsonRequired.archive !== undefined) {
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
  return { json, relaxations, warnings, standIns };
}

/**
 * Provider mock credentials: every aws provider block (one is added when the stack uses aws but
 * has none) gets mock keys and skips every call that would reach AWS (credentials validation,
 * account id, metadata API, region validation); assume_role, profiles, shared files, token and
 * account allow/deny lists are removed. An unset region becomes us-east-1.
 */
export function mockProviderCredentials(json: JsonObject): string[] {
  const relaxations: string[] = [];
  const jsonRequired = requiredProviders(json);
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
  return relaxations;
}

export interface RemoteStateStandIn {
  /** `data.terraform_remote_state.<name>` */
  address: string;
  /** The producer stack whose declared outputs the state holds. */
  producer: string;
  /** Where the producer's JSON was read. */
  producerSource: string;
  /** Absolute path of the fabricated state file inside the work dir. */
  stateFile: string;
  /** Every output the producer declares, with its placeholder value. */
  outputs: Record<string, Json>;
  /** The outputs this stack reads. */
  referenced: string[];
}

/** A value for a relaxation line: JSON, cut to a readable length. */
function brief(v: Json): string {
  const s = JSON.stringify(v);
  return s.length > 90 ? `${s.slice(0, 87)}...` : s;
}

/** Where a remote state reads from, for the relaxation line: backend and its bucket/key or path. */
function describeBackend(cfg: JsonObject): string {
  const backend = typeof cfg.backend === 'string' ? cfg.backend : '?';
  const c = isObject(cfg.config) ? cfg.config : {};
  if (backend === 's3' && typeof c.bucket === 'string') return `backend "s3" (s3://${c.bucket}/${String(c.key ?? '')})`;
  if (typeof c.path === 'string') return `backend "${backend}" (${c.path})`;
  return `backend "${backend}"`;
}

/**
 * Remote-state stand-in: every `data.terraform_remote_state.cross-stack-reference-input-<producer>`
 * (cdktf's cross-stack references) reads, instead of the producer's real state (S3 offline is out
 * of reach), a state file written into workDir and holding exactly the outputs the producer stack
 * declares, each with a placeholder value of a plausible shape derived from the output's
 * expression (remote-state.ts, placeholderValue); the data source becomes `backend = "local"`.
 * Producers are found with `producers` (e.g. producersFromStacksDir(cdktf.out/stacks)).
 *
 * Throws, naming the data source, when the producer stack is not found, when the stack reads an
 * output the producer does not declare (a real bug: terraform would fail the same way against
 * the real state), when both use an s3 backend but at different buckets or keys (the two stacks
 * come from different synth runs), or when the data source uses count/for_each.
 * Remote states not made by cdktf's cross-stack references are left alone.
 */
export function standInRemoteStates(
  json: JsonObject,
  workDir: string,
  producers: ProducerResolver,
): { relaxations: string[]; warnings: string[]; standIns: RemoteStateStandIn[] } {
  const relaxations: string[] = [];
  const warnings: string[] = [];
  const standIns: RemoteStateStandIn[] = [];
  const data = isObject(json.data) ? json.data : undefined;
  const states = data && isObject(data.terraform_remote_state) ? data.terraform_remote_state : undefined;
  if (!states) return { relaxations, warnings, standIns };
  for (const [name, raw] of Object.entries(states)) {
    if (!name.startsWith(CROSS_STACK_INPUT_PREFIX)) continue;
    const address = `data.terraform_remote_state.${name}`;
    const producerName = name.slice(CROSS_STACK_INPUT_PREFIX.length);
    const cfg = blocks(raw)[0];
    if (!cfg) throw new Error(`${address}: unexpected shape ${JSON.stringify(raw)} (expected one data source block)`);
    for (const meta of ['count', 'for_each']) {
      if (meta in cfg) throw new Error(`${address}: cannot stand in for a remote state using ${meta}`);
    }
    const producer = producers.find(producerName);
    if (!producer) {
      throw new Error(`${address}: the producer stack "${producerName}" is not in ${producers.where()}; synthesize the producer together with this stack`);
    }
    const declared = isObject(producer.json.output) ? producer.json.output : {};
    const declaredNames = Object.keys(declared).sort();
    const referenced = referencedOutputs(json, name);
    const missing = referenced.filter((o) => !(o in declared));
    if (missing.length > 0) {
      throw new Error(
        `${address}: this stack reads output(s) ${missing.join(', ')} that stack ${producerName} does not declare ` +
          `(${producer.source} declares: ${declaredNames.join(', ') || 'no outputs'})`,
      );
    }
    const remoteConfig = isObject(cfg.config) ? cfg.config : {};
    const producerBackend = isObject(producer.json.terraform) && isObject(producer.json.terraform.backend) ? producer.json.terraform.backend : {};
    const producerS3 = isObject(producerBackend.s3) ? producerBackend.s3 : undefined;
    if (cfg.backend === 's3' && producerS3) {
      for (const key of ['bucket', 'key']) {
        if (remoteConfig[key] !== producerS3[key]) {
          throw new Error(
            `${address}: reads ${key} ${JSON.stringify(remoteConfig[key] ?? null)} but stack ${producerName} keeps its state at ${key} ` +
              `${JSON.stringify(producerS3[key] ?? null)} (${producer.source}); are the two stacks from different synth runs?`,
          );
        }
      }
    }

    const outputs: Record<string, Json> = {};
    const stateOutputs: Record<string, { value: Json; sensitive: boolean }> = {};
    const undetermined: string[] = [];
    for (const outName of declaredNames) {
      const decl = blocks(declared[outName])[0] ?? {};
      const ctx: PlaceholderContext = { producer: producer.json, notes: [] };
      const value = placeholderValue(decl.value ?? null, ctx);
      outputs[outName] = value;
      stateOutputs[outName] = { value, sensitive: decl.sensitive === true };
      if (ctx.notes.length > 0 && referenced.includes(outName)) undetermined.push(`${outName} (${ctx.notes.join(', ')})`);
    }
    const fileName = `${producerName.replace(/[^A-Za-z0-9_.-]/g, '_')}.tfstate`;
    const stateFile = path.join(workDir, '.offline-remote-state', fileName);
    fs.mkdirSync(path.dirname(stateFile), { recursive: true });
    fs.writeFileSync(stateFile, JSON.stringify(stateFileJson(producerName, stateOutputs), null, 2));
    const pathExpr = `\${path.module}/.offline-remote-state/${fileName}`;
    const from = describeBackend(cfg);
    const rewritten: JsonObject = {};
    for (const [k, x] of Object.entries(cfg)) if (k !== 'backend' && k !== 'config') rewritten[k] = x;
    rewritten.backend = 'local';
    rewritten.config = { path: pathExpr };
    states[name] = rewritten;

    standIns.push({ address, producer: producerName, producerSource: producer.source, stateFile, outputs, referenced });
    const read = referenced.length > 0 ? referenced.map((o) => `${o} = ${brief(outputs[o] ?? null)}`).join(', ') : 'none';
    relaxations.push(
      `${address} stood in for: ${from} replaced by backend "local" reading ${pathExpr}, a state with placeholder values (not the real ones) ` +
        `for all ${declaredNames.length} output(s); read here: ${read}; from the declared outputs of stack ${producerName}`,
    );
    if (undetermined.length > 0) {
      warnings.push(`${address}: no placeholder shape could be derived for ${undetermined.join('; ')}: a string stands in`);
    }
  }
  return { relaxations, warnings, standIns };
}

/** Arguments of resources and data sources that name a file on disk. */
const PATH_ARGS = new Set(['filename', 'source', 'source_file', 'source_dir', 'output_path']);
/** Terraform functions that read a file named by their first argument. */
const FILE_FUNCTIONS = 'file|filebase64|filemd5|filesha1|filesha256|filesha512|filebase64sha256|filebase64sha512|templatefile|fileexists|fileset';

function isRelativeLiteralPath(s: string): boolean {
  return s !== '' && !s.includes('${') && !s.includes('%{') && !path.isAbsolute(s) && !s.includes('://');
}

/**
 * Child-module placement (offlinePlanMany): the stack is planned as `module.<moduleName>` of one
 * root module that calls every stack of the run, so that one terraform init, validate and plan
 * check them all. What that changes, and how it is made up for:
 *   - Terraform resolves relative paths against the folder it runs in (the root), not the
 *     module's: literal relative file arguments (filename, source, source_file, source_dir,
 *     output_path), relative paths given to file()/templatefile()/... and path.root/path.cwd are
 *     rewritten to ${path.module}, which is what they meant in a plan of the stack alone;
 *   - the root-output checks (a root output that carries sensitive values must be marked
 *     sensitive) apply only to the root: the caller re-exports every output of the stack from the
 *     root with the stack's own `sensitive` flag, so they still apply;
 *   - `import` blocks are allowed only in a root module: such a stack cannot be planned this way
 *     (throws; plan it alone with offlinePlan);
 *   - a failure anywhere stops the plan of every stack of the run.
 * The backend must have been removed (removeBackend): a backend block in a module is an error.
 */
export function asChildModule(input: JsonObject, moduleName: string, others: string[]): { json: JsonObject; relaxations: string[] } {
  if (input.import !== undefined) {
    throw new Error(`stack ${moduleName} has import blocks, which Terraform allows only in a root module: plan it alone (offlinePlan), not with offlinePlanMany`);
  }
  const tf = isObject(input.terraform) ? input.terraform : {};
  if (tf.backend !== undefined || tf.cloud !== undefined) {
    throw new Error(`stack ${moduleName} still has a terraform.backend or terraform.cloud block; removeBackend must run first (a module cannot have one)`);
  }
  const changes: string[] = [];
  const rewriteExpressions = (v: Json, where: string): Json => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      let s = v.replace(/\$\{path\.(root|cwd)\}/g, (_m, which: string) => {
        changes.push(`${where}: path.${which}`);
        return '${path.module}';
      });
      s = s.replace(new RegExp(`\\b(${FILE_FUNCTIONS})\\(\\s*"([^"]*)"`, 'g'), (m, fn: string, p: string) => {
        if (!isRelativeLiteralPath(p)) return m;
        changes.push(`${where}: ${fn}("${p}")`);
        return `${fn}("\${path.module}/${p}"`;
      });
      return s;
    }
    if (Array.isArray(v)) return v.map((x, i) => rewriteExpressions(x, `${where}[${i}]`));
    if (isObject(v)) {
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) out[k] = k === '//' ? x : rewriteExpressions(x, `${where}.${k}`);
      return out;
    }
    return v;
  };
  /** The direct file arguments of one block (not nested blocks: an archive `source` block's filename is a name inside the zip). */
  const rewritePathArgs = (block: JsonObject, where: string): void => {
    for (const [k, x] of Object.entries(block)) {
      if (PATH_ARGS.has(k) && typeof x === 'string' && isRelativeLiteralPath(x)) {
        block[k] = `\${path.module}/${x}`;
        changes.push(`${where}.${k} "${x}"`);
      }
    }
  };
  const json = rewriteExpressions(input, '') as JsonObject;
  for (const section of ['resource', 'data'] as const) {
    const bySection = json[section];
    if (!isObject(bySection)) continue;
    for (const [type, byName] of Object.entries(bySection)) {
      if (!isObject(byName)) continue;
      for (const [name, cfg] of Object.entries(byName)) {
        for (const b of blocks(cfg)) rewritePathArgs(b, `${section === 'data' ? 'data.' : ''}${type}.${name}`);
      }
    }
  }
  if (isObject(json.locals)) {
    for (const [name, v] of Object.entries(json.locals)) if (isObject(v)) rewritePathArgs(v, `local.${name}`);
  }
  const listed = changes.length > 6 ? `${changes.slice(0, 6).join('; ')}; and ${changes.length - 6} more` : changes.join('; ');
  const relaxations = [
    `planned as module.${moduleName} of one root module together with ${others.length ? others.join(', ') : 'no other stack'} ` +
      `(one terraform init, validate and plan for ${others.length + 1} stack(s)); its outputs are re-exported from the root with their own sensitive flag, ` +
      `so the root-output checks still apply; a failure in any of them stops the plan of all` +
      (changes.length ? `; relative paths rewritten to \${path.module} (terraform resolves them against the root folder): ${listed}` : ''),
  ];
  return { json, relaxations };
}
