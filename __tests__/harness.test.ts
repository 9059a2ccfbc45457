/**
 * Tests of the offline real-Terraform harness (__tests__/support/terraform.ts)
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
import {
  cliConfigText,
  declaredResourceCount,
  discoverTerraform,
  externalDataSources,
  JsonObject,
  logOfflinePlan,
  mirrorDirsFromCliConfig,
  offlinePlan,
  offlineTerraformGate,
  prepareOfflineStack,
  terraformPlatform,
} from './support/terraform';

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
        const b = new S3Bucket(stack, 'typo', { bucket: 'harness-broken' });
        b.addOverride('bucket_nmae', 'oops');
        // `region` on a resource exists only in aws provider >= 6: against an
        // older mirrored provider this is a real version-skew failure, and the
        // harness must report it, not hide it.
        new S3Bucket(stack, 'regional', { bucket: 'harness-regional', region: 'eu-west-2' });
      });
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
