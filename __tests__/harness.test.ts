/**
 * Tests of the offline real-Terraform harness (scripts/lib/offline-plan/)
 * on small stacks synthesized here. Tests that need terraform are gated by
 * offlineTerraformGate(): without terraform or a provider mirror they print a
 * loud SKIPPED line and return early; everything else always runs.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AssetType, S3Backend, TerraformAsset, TerraformStack } from 'cdktf';
import { unzipSync } from 'fflate';
import { DataArchiveFile } from '@cdktf/provider-archive/lib/data-archive-file';
import { ArchiveProvider } from '@cdktf/provider-archive/lib/provider';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { spawnSync } from 'child_process';
import {
  cliConfigText,
  declaredResourceCount,
  discoverTerraform,
  discoverTerraformForRegistry,
  externalDataSources,
  JsonObject,
  logOfflinePlan,
  mirrorDirsFromCliConfig,
  offlinePlan,
  offlineTerraformGate,
  prepareOfflineStack,
  registryCliConfigText,
  terraformPlatform,
} from '../scripts/lib/offline-plan';
import { parseArgs as parseOfflinePlanArgs } from '../scripts/offline-plan';

const TF_TIMEOUT = 180_000;
const gate = offlineTerraformGate();

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
}

/** Synthesizes an app into a fresh outdir and returns the stack folder. */
function synthStack(name: string, build: (stack: TerraformStack) => void): string {
  const outdir = tmpDir(`out-${name}`);
  const app = new App({ outdir });
  const stack = new TerraformStack(app, name);
  build(stack);
  app.synth();
  return path.join(outdir, 'stacks', name);
}

function readStack(stackDir: string): JsonObject {
  return JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8')) as JsonObject;
}

/** Backend, assume_role provider, archive_file feeding a lambda: the shapes the real stacks use. */
function buildDemo(stack: TerraformStack): void {
  new S3Backend(stack, { bucket: 'state-bucket', key: 'demo.tfstate', region: 'eu-west-1' });
  new AwsProvider(stack, 'aws', {
    region: 'eu-west-1',
    assumeRole: [{ roleArn: 'arn:aws:iam::123456789012:role/deployer' }],
  });
  new ArchiveProvider(stack, 'archive');
  const src = tmpDir('lambda-src');
  fs.writeFileSync(path.join(src, 'index.js'), 'exports.handler = async () => ({ statusCode: 200 });\n');
  fs.mkdirSync(path.join(src, 'lib'));
  fs.writeFileSync(path.join(src, 'lib', 'util.js'), 'module.exports = 42;\n');
  const asset = new TerraformAsset(stack, 'handler-src', { path: src, type: AssetType.DIRECTORY });
  const zip = new DataArchiveFile(stack, 'handler_zip', {
    type: 'zip',
    sourceDir: asset.path,
    outputPath: '${path.module}/assets/handler.zip',
  });
  new S3Bucket(stack, 'bucket', { bucket: 'harness-demo-bucket' });
  const role = new IamRole(stack, 'role', {
    name: 'harness-demo-role',
    assumeRolePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
  });
  new LambdaFunction(stack, 'fn', {
    functionName: 'harness-demo',
    role: role.arn,
    handler: 'index.handler',
    runtime: 'nodejs20.x',
    filename: zip.outputPath,
    sourceCodeHash: zip.outputBase64Sha256,
  });
}

function writeFakeTerraform(dir: string, version: string): string {
  const bin = path.join(dir, 'terraform');
  fs.writeFileSync(bin, `#!/bin/sh\necho '{"terraform_version":"${version}"}'\n`, { mode: 0o755 });
  return bin;
}

/** A mirror with aws 5.9.0 unpacked and 5.100.0 packed, for this platform. */
function writeFakeMirror(dir: string, platform: string): string {
  const aws = path.join(dir, 'registry.terraform.io', 'hashicorp', 'aws');
  const unpacked = path.join(aws, '5.9.0', platform);
  fs.mkdirSync(unpacked, { recursive: true });
  fs.writeFileSync(path.join(unpacked, 'terraform-provider-aws_v5.9.0_x5'), '');
  fs.writeFileSync(path.join(aws, `terraform-provider-aws_5.100.0_${platform}.zip`), '');
  // Another platform's build must not count.
  fs.mkdirSync(path.join(aws, '9.9.9', 'plan9_mips'), { recursive: true });
  fs.writeFileSync(path.join(aws, '9.9.9', 'plan9_mips', 'terraform-provider-aws_v9.9.9_x5'), '');
  return dir;
}

const demoDir = synthStack('demo', buildDemo);
const demoJson = readStack(demoDir);

describe('discovery', () => {
  const platform = terraformPlatform();

  test('TERRAFORM_BIN pointing at a missing file yields a skip reason, not an error', async () => {
    const env: Record<string, string | undefined> = { ...process.env, TERRAFORM_BIN: path.join(tmpRoot, 'no-such-terraform') };
    delete env.OFFLINE_TERRAFORM_REQUIRED;
    const d = discoverTerraform(env);
    expect(d.available).toBe(false);
    if (d.available) return;
    expect(d.reason).toContain('TERRAFORM_BIN=');
    expect(d.reason).toContain('no-such-terraform');

    const r = await offlinePlan(demoDir, { env });
    expect(r.ok).toBe(false);
    expect(r.skipped).toBe(d.reason);
    expect(r.failure).toBeUndefined();

    const lines: string[] = [];
    const g = offlineTerraformGate(env, (l) => lines.push(l));
    expect(lines).toEqual([`SKIPPED offline terraform plan: ${d.reason}`]);
    expect(g.skipIfUnavailable('some test')).toBe(true);
    // Exactly one loud line per gate, however many tests it skips.
    expect(g.skipIfUnavailable('another test')).toBe(true);
    expect(lines).toHaveLength(1);
    const strict = offlineTerraformGate({ ...env, OFFLINE_TERRAFORM_REQUIRED: '1' }, () => undefined);
    expect(() => strict.skipIfUnavailable('x')).toThrow(/OFFLINE_TERRAFORM_REQUIRED/);
  });

  test('TERRAFORM_BIN and TF_PLUGIN_MIRROR override discovery', () => {
    const bin = writeFakeTerraform(tmpDir('bin'), '1.9.9');
    const mirror = writeFakeMirror(tmpDir('mirror'), platform);
    const d = discoverTerraform({ ...process.env, TERRAFORM_BIN: bin, TF_PLUGIN_MIRROR: mirror });
    expect(d).toMatchObject({
      available: true,
      terraformBin: bin,
      terraformSource: 'TERRAFORM_BIN',
      terraformVersion: '1.9.9',
      mirrorDir: mirror,
      mirrorSource: 'TF_PLUGIN_MIRROR',
      awsVersions: ['5.100.0', '5.9.0'],
    });
  });

  test('TF_PLUGIN_MIRROR without aws is a skip reason and does not fall back to other places', () => {
    const bin = writeFakeTerraform(tmpDir('bin'), '1.9.9');
    const empty = tmpDir('empty-mirror');
    const d = discoverTerraform({ ...process.env, TERRAFORM_BIN: bin, TF_PLUGIN_MIRROR: empty });
    expect(d.available).toBe(false);
    if (!d.available) expect(d.reason).toContain(`TF_PLUGIN_MIRROR=${empty} holds no`);
  });

  test('PATH lookup and the CLI config filesystem_mirror are used when no env override is set', () => {
    const binDir = tmpDir('path-bin');
    const bin = writeFakeTerraform(binDir, '1.10.0');
    const mirror = writeFakeMirror(tmpDir('cfg-mirror'), platform);
    const cfg = path.join(tmpDir('cfg'), 'terraformrc');
    fs.writeFileSync(cfg, `provider_installation {\n  filesystem_mirror {\n    path = "${mirror}"\n  }\n}\n`);
    const env = { PATH: binDir, HOME: tmpDir('home'), TF_CLI_CONFIG_FILE: cfg };
    const d = discoverTerraform(env);
    expect(d).toMatchObject({ available: true, terraformBin: bin, terraformSource: 'PATH', mirrorDir: mirror });
    if (d.available) expect(d.mirrorSource).toContain('filesystem_mirror');

    const noTerraform = discoverTerraform({ PATH: tmpDir('empty-path'), HOME: env.HOME });
    expect(noTerraform).toMatchObject({ available: false });
    if (!noTerraform.available) expect(noTerraform.reason).toContain('no terraform binary on PATH');
  });

  test('CLI config parsing finds filesystem_mirror paths and plugin_cache_dir (HCL and JSON)', () => {
    const hcl = 'plugin_cache_dir = "/cache"\nprovider_installation {\n  filesystem_mirror {\n    path = "/m1"\n    include = ["x/*"]\n  }\n  direct {}\n}\n';
    expect(mirrorDirsFromCliConfig(hcl)).toEqual([
      { dir: '/m1', kind: 'filesystem_mirror' },
      { dir: '/cache', kind: 'plugin_cache_dir' },
    ]);
    const json = JSON.stringify({ provider_installation: [{ filesystem_mirror: [{ path: '/m2' }] }] });
    expect(mirrorDirsFromCliConfig(json)).toEqual([{ dir: '/m2', kind: 'filesystem_mirror' }]);
    const written = cliConfigText('/mirror');
    expect(written).toContain('include = ["registry.terraform.io/hashicorp/*"]');
    expect(written).toContain('exclude = ["*/*/*"]');
    expect(written).not.toContain('plugin_cache_dir');
    expect(cliConfigText('/mirror', '/cache')).toContain('plugin_cache_dir = "/cache"');
  });
});

describe('stack rewriting for the offline check', () => {
  const mirrorVersion = gate.discovery.available ? gate.discovery.awsVersions[0] ?? '5.100.0' : '5.100.0';

  test('synthesized stack uses ${path.module}-relative asset paths and declares 3 resources', () => {
    const zip = ((demoJson.data as JsonObject).archive_file as JsonObject).handler_zip as JsonObject;
    expect(zip.output_path).toBe('${path.module}/assets/handler.zip');
    expect(String(zip.source_dir)).toMatch(/^assets\//);
    expect(fs.existsSync(path.join(demoDir, String(zip.source_dir), 'index.js'))).toBe(true);
    expect(declaredResourceCount(demoJson)).toEqual({
      total: 3,
      byType: { aws_iam_role: 1, aws_lambda_function: 1, aws_s3_bucket: 1 },
      countOrForEach: [],
    });
    expect(externalDataSources(demoJson)).toEqual([]);
  });

  test('relaxes the aws constraint, stands in for archive_file, mocks credentials, and reports each', () => {
    const before = fs.readFileSync(path.join(demoDir, 'cdk.tf.json'));
    const required = ((demoJson.terraform as JsonObject).required_providers as JsonObject).aws as JsonObject;
    const workDir = path.join(tmpDir('prep'), 'demo');
    const p = prepareOfflineStack(demoDir, workDir, { mirrorDir: '/mirror', awsVersions: [mirrorVersion] });
    console.log(p.relaxations.map((r) => `RELAXED ${r}`).join('\n'));

    const wanted = String(required.version);
    if (wanted !== mirrorVersion) {
      expect(p.relaxations).toContainEqual(expect.stringContaining(`required_providers.aws.version relaxed from "${wanted}" to "${mirrorVersion}"`));
    }
    expect(p.awsProviderVersion).toBe(mirrorVersion);
    expect(p.relaxations).toContainEqual(expect.stringMatching(/^data\.archive_file\.handler_zip stood in for: .*local\.offline_archive_file_handler_zip/));
    expect(p.relaxations).toContainEqual(expect.stringContaining('hashicorp/archive removed'));
    expect(p.relaxations).toContainEqual(expect.stringContaining('terraform.backend (s3) removed'));
    expect(p.relaxations).toContainEqual(expect.stringMatching(/provider aws\[0\]: mock credentials.*removed assume_role/));

    const j = p.json;
    const tf = j.terraform as JsonObject;
    expect(tf.backend).toBeUndefined();
    expect(Object.keys(tf.required_providers as JsonObject)).toEqual(['aws']);
    expect(((tf.required_providers as JsonObject).aws as JsonObject).version).toBe(mirrorVersion);
    expect(j.data).toBeUndefined();
    expect((j.provider as JsonObject).archive).toBeUndefined();
    const aws = ((j.provider as JsonObject).aws as JsonObject[])[0] as JsonObject;
    expect(aws).toMatchObject({
      region: 'eu-west-1',
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
    });
    expect(aws.assume_role).toBeUndefined();
    const fn = ((j.resource as JsonObject).aws_lambda_function as JsonObject).fn as JsonObject;
    expect(fn.filename).toBe('${local.offline_archive_file_handler_zip.output_path}');
    expect(fn.source_code_hash).toBe('${local.offline_archive_file_handler_zip.output_base64sha256}');
    expect(JSON.stringify(j)).not.toContain('data.archive_file');

    // The stand-in zip is where the data source would put it, with the sources, and its hash is the local's.
    const standIn = p.archiveStandIns[0];
    expect(standIn?.zipPath).toBe(path.join(workDir, 'assets', 'handler.zip'));
    const zipBytes = fs.readFileSync(path.join(workDir, 'assets', 'handler.zip'));
    expect(Object.keys(unzipSync(new Uint8Array(zipBytes))).sort()).toEqual(['index.js', 'lib/util.js']);
    const local = (j.locals as JsonObject).offline_archive_file_handler_zip as JsonObject;
    expect(local.output_base64sha256).toBe(crypto.createHash('sha256').update(zipBytes).digest('base64'));
    expect(local.output_size).toBe(zipBytes.length);

    // The CLI config only allows the mirror, and the original stack is untouched.
    expect(fs.readFileSync(p.cliConfigFile, 'utf8')).toContain('filesystem_mirror {\n    path    = "/mirror"');
    expect(fs.readFileSync(path.join(demoDir, 'cdk.tf.json')).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(demoDir, 'assets', 'handler.zip'))).toBe(false);
  });

  test('declaredResourceCount reports count/for_each; externalDataSources flags data sources that call AWS', () => {
    const json: JsonObject = {
      resource: {
        aws_s3_bucket: { a: { bucket: 'a' }, b: { bucket: 'b', count: 2 } },
        aws_sqs_queue: { q: { for_each: '${toset(["x"])}', name: '${each.key}' } },
      },
      data: {
        aws_iam_policy_document: { doc: {} },
        aws_caller_identity: { me: {} },
        archive_file: { z: {} },
      },
    };
    expect(declaredResourceCount(json)).toEqual({
      total: 3,
      byType: { aws_s3_bucket: 2, aws_sqs_queue: 1 },
      countOrForEach: ['aws_s3_bucket.b', 'aws_sqs_queue.q'],
    });
    expect(externalDataSources(json)).toEqual(['data.aws_caller_identity.me']);
  });
});

describe('offline terraform plan (real terraform + mirrored aws provider)', () => {
  test(
    'plans the demo stack offline: one create per declared resource',
    async () => {
      if (gate.skipIfUnavailable('plans the demo stack offline')) return;
      const r = await offlinePlan(demoDir, { discovery: gate.discovery });
      logOfflinePlan(r);
      expect(r.failure).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.validate).toMatchObject({ valid: true, errorCount: 0 });
      const declared = declaredResourceCount(demoJson);
      expect(declared.countOrForEach).toEqual([]);
      expect(r.plan?.counts).toEqual({ create: declared.total, update: 0, delete: 0, replace: 0, noop: 0, read: 0 });
      expect(r.plan?.createAddresses).toEqual(['aws_iam_role.role', 'aws_lambda_function.fn', 'aws_s3_bucket.bucket']);
      expect(r.relaxations).toContainEqual(expect.stringContaining('data.archive_file.handler_zip stood in for'));
      if (r.awsProviderVersion !== '6.25.0') {
        expect(r.relaxations).toContainEqual(expect.stringContaining(`to "${r.awsProviderVersion}"`));
      }
      expect(r.timings.initValidatePlanMs).toBeGreaterThan(0);
      expect(r.workDir).toBeUndefined();
    },
    TF_TIMEOUT,
  );

  test(
    'a broken stack fails validate with a message naming the bad attribute',
    async () => {
      if (gate.skipIfUnavailable('a broken stack fails validate')) return;
      const brokenDir = synthStack('broken', (stack) => {
        new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
        new S3Bucket(stack, 'typo', { bucket: 'harness-broken' });
        // `region` on a resource exists only in aws provider >= 6: against an
        // older mirrored provider this is a real version-skew failure, and the
        // harness must report it, not hide it.
        new S3Bucket(stack, 'regional', { bucket: 'harness-regional', region: 'eu-west-2' });
      });
      // A misspelt argument, written into the synthesized JSON as a hand edit would.
      const file = path.join(brokenDir, 'cdk.tf.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      json.resource.aws_s3_bucket.typo.bucket_nmae = 'oops';
      fs.writeFileSync(file, JSON.stringify(json, null, 2));
      const r = await offlinePlan(brokenDir, { discovery: gate.discovery });
      logOfflinePlan(r);
      expect(r.ok).toBe(false);
      expect(r.failure?.phase).toBe('validate');
      expect(r.plan).toBeUndefined();
      // JSON syntax: terraform reports unknown keys as "Extraneous JSON object property".
      expect(r.failure?.message).toMatch(/Error: .*No argument or block type is named "bucket_nmae".*resource\.aws_s3_bucket\.typo/);
      expect(r.failure?.message).toContain('cdk.tf.json:');
      if (Number.parseInt(r.awsProviderVersion ?? '0', 10) < 6) {
        // aws 5.x has a computed-only `region` on aws_s3_bucket: "Value for unconfigurable attribute".
        expect(r.failure?.message).toMatch(/Error: .*"region".*resource\.aws_s3_bucket\.regional/);
        expect(r.validate?.errorCount).toBe(2);
      }
    },
    TF_TIMEOUT,
  );
});

/**
 * A fake terraform that answers like the real one and records, at init, the CLI
 * config and the stack JSON it was given (registry mode cannot reach the
 * registry here, so the runner's flow is checked with this stand-in).
 */
function writeFakeTerraformRunner(dir: string, recordDir: string): string {
  const bin = path.join(dir, 'terraform');
  fs.writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `REC=${JSON.stringify(recordDir)}`,
      'echo "$*" >> "$REC/args.log"',
      'case "$1" in',
      `  version) echo '{"terraform_version":"1.11.4"}' ;;`,
      '  init) cp "$TF_CLI_CONFIG_FILE" "$REC/cli-config.tfrc"; cp cdk.tf.json "$REC/cdk.tf.json"; env | grep -c "^AWS_ACCESS_KEY_ID=" > "$REC/aws-env-count" || true; echo "Terraform has been successfully initialized!" ;;',
      `  validate) echo '{"valid":true,"error_count":0,"warning_count":0,"diagnostics":[]}' ;;`,
      '  plan) : > offline.tfplan ;;',
      `  show) echo '{"resource_changes":[{"address":"aws_s3_bucket.bucket","mode":"managed","change":{"actions":["create"]}},{"address":"aws_iam_role.role","mode":"managed","change":{"actions":["create"]}},{"address":"aws_lambda_function.fn","mode":"managed","change":{"actions":["create"]}},{"address":"data.archive_file.handler_zip","mode":"data","change":{"actions":["read"]}}]}' ;;`,
      '  *) echo "unexpected: $*" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return bin;
}

describe('registry mode (providers from the registry; for CI without a mirror)', () => {
  const required = ((demoJson.terraform as JsonObject).required_providers as JsonObject).aws as JsonObject;

  test('discovery needs only a terraform binary, no mirror', () => {
    const bin = writeFakeTerraform(tmpDir('bin'), '1.11.4');
    // A mirror without aws: mirror mode is unavailable, registry mode does not care.
    const env = { PATH: '', HOME: tmpDir('home-no-mirror'), TERRAFORM_BIN: bin, TF_PLUGIN_MIRROR: tmpDir('empty-mirror') };
    expect(discoverTerraform(env).available).toBe(false);
    expect(discoverTerraformForRegistry(env)).toEqual({
      available: true,
      providerSource: 'registry',
      terraformBin: bin,
      terraformSource: 'TERRAFORM_BIN',
      terraformVersion: '1.11.4',
      platform: terraformPlatform(),
    });
    const missing = discoverTerraformForRegistry({ PATH: tmpDir('empty-path') });
    expect(missing).toMatchObject({ available: false });
    if (!missing.available) expect(missing.reason).toContain('no terraform binary on PATH');
  });

  test('rewrites only the backend and the credentials: exact aws version, real archive_file', () => {
    const workDir = path.join(tmpDir('prep-registry'), 'demo');
    const p = prepareOfflineStack(demoDir, workDir, { providerSource: 'registry' });
    expect(p.providerSource).toBe('registry');
    expect(p.relaxations).toEqual([
      'terraform.backend (s3) removed: no remote state offline (init -backend=false)',
      expect.stringMatching(/^provider aws\[0\]: mock credentials.*removed assume_role/),
    ]);
    expect(p.relaxations.join('\n')).not.toMatch(/relaxed from|stood in|archive removed/);
    expect(p.awsProviderVersion).toBe(required.version);
    expect(p.archiveStandIns).toEqual([]);

    const j = p.json;
    const tf = j.terraform as JsonObject;
    expect(tf.backend).toBeUndefined();
    // Same provider requirements as the synthesized stack, aws and archive alike.
    expect(tf.required_providers).toEqual((demoJson.terraform as JsonObject).required_providers);
    expect((j.data as JsonObject).archive_file).toEqual((demoJson.data as JsonObject).archive_file);
    expect((j.provider as JsonObject).archive).toEqual((demoJson.provider as JsonObject).archive);
    expect(j.resource).toEqual(demoJson.resource);
    const aws = ((j.provider as JsonObject).aws as JsonObject[])[0] as JsonObject;
    expect(aws).toMatchObject({ access_key: 'mock-access-key', skip_credentials_validation: true, skip_requesting_account_id: true });
    expect(aws.assume_role).toBeUndefined();
    expect(fs.existsSync(path.join(workDir, 'assets', 'handler.zip'))).toBe(false);

    const cli = fs.readFileSync(p.cliConfigFile, 'utf8');
    expect(cli).toBe(registryCliConfigText());
  });

  test('CLI config installs every provider directly from the registry, optionally through a plugin cache', () => {
    expect(registryCliConfigText()).toBe('provider_installation {\n  direct {}\n}\n');
    const cached = registryCliConfigText('/cache');
    expect(cached).toContain('plugin_cache_dir = "/cache"');
    expect(cached).toContain('plugin_cache_may_break_dependency_lock_file = true');
    expect(cached).not.toContain('filesystem_mirror');
    expect(cached).not.toContain('exclude');
  });

  test('offlinePlan runs init/validate/plan/show on the registry-mode copy, without AWS credentials in the child', async () => {
    const rec = tmpDir('fake-tf-record');
    const bin = writeFakeTerraformRunner(tmpDir('fake-tf'), rec);
    const env = { ...process.env, TERRAFORM_BIN: bin, AWS_ACCESS_KEY_ID: 'AKIAREALKEYMUSTNOTLEAK' };
    const r = await offlinePlan(demoDir, { env, providerSource: 'registry', pluginCacheDir: false });
    logOfflinePlan(r);
    expect(r.failure).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.providerSource).toBe('registry');
    expect(r.plan?.counts).toMatchObject({ create: 3, read: 1 });
    const args = fs.readFileSync(path.join(rec, 'args.log'), 'utf8').trim().split('\n');
    expect(args.map((a) => a.split(' ')[0])).toEqual(['version', 'init', 'validate', 'plan', 'show']);
    expect(args[1]).toContain('-backend=false');
    expect(fs.readFileSync(path.join(rec, 'cli-config.tfrc'), 'utf8')).toBe(registryCliConfigText());
    const planned = JSON.parse(fs.readFileSync(path.join(rec, 'cdk.tf.json'), 'utf8')) as JsonObject;
    expect(((planned.terraform as JsonObject).required_providers as JsonObject).aws).toEqual(required);
    expect((planned.data as JsonObject).archive_file).toBeDefined();
    expect(fs.readFileSync(path.join(rec, 'aws-env-count'), 'utf8').trim()).toBe('0');
    const { describeOfflinePlan } = await import('../scripts/lib/offline-plan');
    expect(describeOfflinePlan(r)[0]).toContain('from the registry');
  });

  test('offline-plan CLI: --registry flag parsing and a run against the fake terraform', () => {
    expect(parseOfflinePlanArgs(['--registry', 'dev'])).toMatchObject({ registry: true, stacks: ['dev'] });
    expect(parseOfflinePlanArgs(['dev'])).toMatchObject({ registry: false, outdir: 'cdktf.out' });
    expect(parseOfflinePlanArgs(['--nope'])).toContain('unknown option --nope');

    const rec = tmpDir('fake-tf-cli');
    const bin = writeFakeTerraformRunner(tmpDir('fake-tf-bin'), rec);
    const outdir = path.dirname(path.dirname(demoDir));
    const root = path.join(__dirname, '..');
    const run = spawnSync(
      process.execPath,
      ['--require', 'esbuild-register', path.join(root, 'scripts', 'offline-plan.ts'), '--registry', '--json', '--outdir', outdir, 'demo'],
      { cwd: root, env: { ...process.env, TERRAFORM_BIN: bin, TF_PLUGIN_MIRROR: '/nonexistent' }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toContain('providers from the registry');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { providerSource: string; mirrorDir: unknown; stacks: Array<{ stack: string; status: string; relaxations: string[] }> };
    expect(out.providerSource).toBe('registry');
    expect(out.mirrorDir).toBeNull();
    expect(out.stacks).toHaveLength(1);
    expect(out.stacks[0]).toMatchObject({ stack: 'demo', status: 'ok' });
    expect(out.stacks[0]!.relaxations.join('\n')).not.toContain('stood in');
  }, 60_000);
});
