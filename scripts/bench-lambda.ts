/**
 * Size and cold-load benchmark of the webhook Lambda bundle.
 * Run: node --require esbuild-register scripts/bench-lambda.ts [runs]
 * Prints one JSON object and one line of text. Targets: < 100 KB zipped, < 50 ms module load.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { zipSync } from 'fflate';
import { bundleCloneAndUpload, bundleGitlabWebhook } from '../lambdas/build';

const TARGET_ZIPPED_BYTES = 100 * 1024;
const TARGET_LOAD_MS = 50;
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

function zippedSize(file: string): number {
  return zipSync({ [path.basename(file)]: [fs.readFileSync(file), { level: 9, mtime: FIXED_MTIME }] }).length;
}

/** Milliseconds to `require` the bundle (and optionally the SDK packages) in a fresh node process. */
function loadMs(file: string, alsoSdk: boolean, nodeModules: string): number {
  const script = [
    'const t0 = process.hrtime.bigint();',
    'require(process.argv[1]);',
    alsoSdk ? "for (const m of ['@aws-sdk/client-ssm', '@aws-sdk/client-s3', '@aws-sdk/client-codebuild']) require(m);" : '',
    'process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', script, file], {
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH, NODE_PATH: nodeModules, NODE_NO_WARNINGS: '1', AWS_REGION: 'eu-west-1' },
    encoding: 'utf8',
  });
  return Number(out);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

function main(): void {
  const runs = Math.max(3, Number(process.argv[2] ?? 9) || 9);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lambda-'));
  try {
    const webhook = bundleGitlabWebhook(path.join(dir, 'gitlab-webhook'));
    const clone = bundleCloneAndUpload(path.join(dir, 'source-fetch'));
    const nodeModules = path.resolve(__dirname, '..', 'node_modules');
    loadMs(webhook, true, nodeModules); // warm the OS file cache once
    const load: number[] = [];
    const loadWithSdk: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      load.push(loadMs(webhook, false, nodeModules));
      loadWithSdk.push(loadMs(webhook, true, nodeModules));
    }
    const result = {
      gitlabWebhook: {
        bundleBytes: fs.statSync(webhook).size,
        zippedBytes: zippedSize(webhook),
        coldLoadMsMedian: round(median(load)),
        coldLoadMsRuns: load.map(round),
        // What a cold container that starts a build also pays: the three runtime-provided SDK clients, loaded on first use.
        coldLoadWithSdkMsMedian: round(median(loadWithSdk)),
      },
      cloneAndUpload: { bundleBytes: fs.statSync(clone).size, zippedBytes: zippedSize(clone) },
      targets: { zippedBytes: TARGET_ZIPPED_BYTES, coldLoadMs: TARGET_LOAD_MS },
      node: process.version,
      runs,
    };
    const ok = result.gitlabWebhook.zippedBytes < TARGET_ZIPPED_BYTES && result.gitlabWebhook.coldLoadMsMedian < TARGET_LOAD_MS;
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `gitlab-webhook: ${(result.gitlabWebhook.zippedBytes / 1024).toFixed(1)} KB zipped (target < 100 KB), ` +
        `cold load ${result.gitlabWebhook.coldLoadMsMedian} ms median of ${runs} (target < 50 ms; ${result.gitlabWebhook.coldLoadWithSdkMsMedian} ms with the SDK clients) ` +
        `${ok ? 'OK' : 'OVER TARGET'}\n`,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
