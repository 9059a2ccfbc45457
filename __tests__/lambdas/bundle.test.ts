/**
 * The esbuild bundles: deterministic, free of machine paths, with the intended externals, and the
 * webhook bundle answering in a fresh Node process where no AWS SDK can even be resolved.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleCloneAndUpload, bundleGitlabReconciler, bundleGitlabWebhook, bundleGitlabWorker } from '../../lambdas/build';
import { envOf, pushEvent, QUEUE_URL, sqsEvent } from './helpers/webhook';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const requires = (code: string): string[] => [...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] as string))].sort();
const machinePaths = (code: string): string[] =>
  [path.resolve(__dirname, '..', '..'), '/work/', tmp, os.homedir(), os.tmpdir()].filter((p) => p.length > 1 && code.includes(p));

describe('gitlab-webhook bundle', () => {
  let file: string;
  let code: string;
  beforeAll(() => {
    file = bundleGitlabWebhook(path.join(tmp, 'a', 'gitlab-webhook'));
    code = fs.readFileSync(file, 'utf8');
  });

  test('is one deterministic file: a second build elsewhere is byte-identical', () => {
    expect(path.basename(file)).toBe('index.js');
    // Beside the bundle only its input stamp (which the stack does not ship: the asset is the file).
    expect(fs.readdirSync(path.dirname(file))).toEqual(['index.js', 'index.js.inputs.json']);
    const again = bundleGitlabWebhook(path.join(tmp, 'b', 'other-name'));
    expect(fs.readFileSync(again).equals(fs.readFileSync(file))).toBe(true);
  });

  test('is not rebuilt while its inputs are unchanged, and is rebuilt when one changes', () => {
    const dir = path.join(tmp, 'cache', 'gitlab-webhook');
    const first = bundleGitlabWebhook(dir);
    fs.writeFileSync(first, '// stale marker\n');
    expect(fs.readFileSync(bundleGitlabWebhook(dir), 'utf8')).toBe('// stale marker\n');
    const stamp = JSON.parse(fs.readFileSync(`${first}.inputs.json`, 'utf8'));
    expect(stamp.inputs.map((i: { file: string }) => i.file)).toContain('lambdas/gitlab-webhook/index.ts');
    stamp.inputs[0].mtimeMs -= 1000; // as if that input had changed since
    fs.writeFileSync(`${first}.inputs.json`, JSON.stringify(stamp));
    expect(fs.readFileSync(bundleGitlabWebhook(dir)).equals(fs.readFileSync(file))).toBe(true);
  });

  test('holds no absolute machine paths and no source map', () => {
    expect(machinePaths(code)).toEqual([]);
    expect(code).not.toContain('sourceMappingURL');
    expect(code.startsWith('"use strict";')).toBe(true);
  });

  test('requires only Node built-ins and the runtime-provided AWS SDK clients', () => {
    expect(requires(code)).toEqual(['@aws-sdk/client-codebuild', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', '@aws-sdk/client-ssm', 'crypto']);
    expect(code.length).toBeLessThan(60_000);
  });

  const runInFreshNode = (env: Record<string, string>, event: unknown): { statusCode: number; body: string; stdout: string } => {
    const script = [
      'const h = require(process.argv[1]);',
      'h.handler(JSON.parse(process.argv[2]), { awsRequestId: "fresh-1" }).then((r) => {',
      '  process.stdout.write("RESULT " + JSON.stringify(r) + "\\n");',
      '  const sdk = Object.keys(require.cache).filter((k) => k.includes("@aws-sdk"));',
      '  process.stdout.write("SDK " + sdk.length + "\\n");',
      '});',
    ].join('\n');
    // cwd and bundle are outside the repository, without NODE_PATH: the AWS SDK cannot be resolved.
    const stdout = execFileSync(process.execPath, ['-e', script, file, JSON.stringify(event)], { cwd: tmp, env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...env }, encoding: 'utf8' });
    const result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)?.[1] ?? '{}') as { statusCode: number; body: string };
    expect(/^SDK 0$/m.test(stdout)).toBe(true);
    return { ...result, stdout };
  };

  test('answers a request without a token with 401 in a fresh process, loading no AWS SDK', () => {
    const event = pushEvent();
    delete (event.headers as Record<string, string>)['X-Gitlab-Token'];
    const r = runInFreshNode(envOf(), event);
    expect(r.statusCode).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ error: 'unauthorized' });
    const log = JSON.parse(r.stdout.split('\n').find((l) => l.includes('"webhook handled"')) ?? '{}') as Record<string, unknown>;
    expect(log).toMatchObject({ level: 'info', requestId: 'fresh-1', status: 401, reason: 'missing X-Gitlab-Token' });
  });

  test('answers 500 in a fresh process when its settings are missing', () => {
    const r = runInFreshNode({ ENVIRONMENT: 'dev' }, pushEvent());
    expect(r.statusCode).toBe(500);
    expect(r.stdout).toContain('ARTIFACT_BUCKET is required');
  });
});

describe('gitlab-worker and gitlab-reconciler bundles', () => {
  const run = (file: string, env: Record<string, string>, event: unknown): string => {
    const script = [
      'const h = require(process.argv[1]);',
      'h.handler(JSON.parse(process.argv[2]), { awsRequestId: "fresh-1" }).then(',
      '  (r) => process.stdout.write("RESULT " + JSON.stringify(r) + "\\n"),',
      '  (e) => process.stdout.write("ERROR " + e.message.split("\\n").join(" | ") + "\\n"));',
    ].join('\n');
    return execFileSync(process.execPath, ['-e', script, file, JSON.stringify(event)], { cwd: tmp, env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...env }, encoding: 'utf8' });
  };
  const workerEnv = {
    ARTIFACT_BUCKET: 'wvm-dev-artifacts-111122223333-eu-west-1',
    ARTIFACT_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
    CODEBUILD_PROJECT_SOFTWARE: 'wvm-dev-source-fetch',
    CODEBUILD_PROJECT_INFRASTRUCTURE: 'wvm-dev-source-fetch-infrastructure',
    ENVIRONMENT: 'dev',
    DELIVERY_QUEUE_URL: QUEUE_URL,
  };

  test('the worker answers a batch in a fresh process: an invalid message is a batch item failure, builds nothing', () => {
    const file = bundleGitlabWorker(path.join(tmp, 'w', 'gitlab-worker'));
    const code = fs.readFileSync(file, 'utf8');
    expect(machinePaths(code)).toEqual([]);
    expect(requires(code)).toEqual(['@aws-sdk/client-codebuild', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', '@aws-sdk/client-ssm', 'crypto']);
    const out = run(file, workerEnv, sqsEvent([{ id: 'bad-1', body: '{"version":1}', receiveCount: 1 }]));
    expect(JSON.parse(/^RESULT (.*)$/m.exec(out)?.[1] ?? '{}')).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-1' }] });
    expect(out).toContain('"msg":"delivery failed; retrying later"');
  });

  test('the worker fails every batch when its settings are missing (the messages stay queued)', () => {
    const file = bundleGitlabWorker(path.join(tmp, 'w', 'gitlab-worker'));
    expect(run(file, { ENVIRONMENT: 'dev' }, sqsEvent([]))).toMatch(/ERROR .*ARTIFACT_BUCKET is required/);
  });

  test('the reconciler bundle loads in a fresh process and reports missing settings', () => {
    const file = bundleGitlabReconciler(path.join(tmp, 'r', 'gitlab-reconciler'));
    expect(machinePaths(fs.readFileSync(file, 'utf8'))).toEqual([]);
    expect(run(file, {}, {})).toMatch(/ERROR .*GITLAB_API_TOKEN_PARAMETER is required/);
  });
});

describe('clone-and-upload bundle', () => {
  test('is deterministic, path-free and carries the AWS SDK inside', () => {
    const a = bundleCloneAndUpload(path.join(tmp, 'c1'));
    const b = bundleCloneAndUpload(path.join(tmp, 'c2', 'nested'));
    expect(path.basename(a)).toBe('clone-and-upload.js');
    const code = fs.readFileSync(a, 'utf8');
    expect(fs.readFileSync(b).equals(fs.readFileSync(a))).toBe(true);
    expect(machinePaths(code)).toEqual([]);
    // Only an optional CRT signer (required inside try/catch by the SDK, unused for S3 SigV4) stays external.
    expect(requires(code).filter((r) => r.startsWith('@aws-sdk/') || r.startsWith('@smithy/'))).toEqual(['@aws-sdk/signature-v4-crt']);
  });
});
