/**
 * Bundling of the runtime code with esbuild: one deterministic, minified CommonJS file per entry,
 * for Node 22 on arm64 (esbuild output is architecture-independent JavaScript). Same sources give
 * byte-identical output on any machine: paths are resolved against the repository root, and no
 * source maps, legal comments or path comments are emitted. Called by main.ts during synth and by
 * the tests.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildSync, version as esbuildVersion } from 'esbuild';

/** Repository root: every path esbuild sees is made relative to it. */
const ROOT = path.resolve(__dirname, '..');

export const ENTRIES = {
  /** The GitLab webhook Lambda; Lambda handler `index.handler`. */
  gitlabWebhook: path.join(__dirname, 'gitlab-webhook', 'index.ts'),
  /** The delivery worker Lambda (SQS event source); Lambda handler `index.handler`. */
  gitlabWorker: path.join(__dirname, 'gitlab-webhook', 'worker-index.ts'),
  /** The scheduled reconciler Lambda; Lambda handler `index.handler`. */
  gitlabReconciler: path.join(__dirname, 'gitlab-webhook', 'reconciler-index.ts'),
  /** The CodeBuild clone-and-upload program; run as `node clone-and-upload.js`. */
  cloneAndUpload: path.join(__dirname, 'source-fetch', 'clone-and-upload.ts'),
  /** The image pipeline's rollout program; run as `node image-rollout.js` in CodeBuild. */
  imageRollout: path.join(__dirname, 'image-rollout', 'rollout.ts'),
} as const;

export interface BundleOptions {
  /** TypeScript entry file (absolute, or relative to the repository root). */
  readonly entry: string;
  /** Directory for the output; created when missing. */
  readonly outDir: string;
  /** Output file name. Default `index.js`. */
  readonly fileName?: string;
  /**
   * Bundle the AWS SDK in (for programs that run where it is not installed, such as CodeBuild).
   * Default false: `@aws-sdk/*` stays external, as the Lambda Node.js runtime provides it.
   */
  readonly includeAwsSdk?: boolean;
}

/**
 * Bundles one entry and returns the absolute path of the written .js file. Throws on build errors.
 * Beside the output it keeps `<file>.inputs.json`: size and mtime of every file esbuild read. When
 * the output exists and no input changed, the build is skipped (synth runs it every time).
 */
export function bundle(options: BundleOptions): string {
  const outfile = path.resolve(options.outDir, options.fileName ?? 'index.js');
  const stampFile = `${outfile}.inputs.json`;
  const entry = path.relative(ROOT, path.resolve(ROOT, options.entry));
  const external = options.includeAwsSdk === true ? [] : ['@aws-sdk/*'];
  const key = JSON.stringify({ entry, external, esbuild: esbuildVersion });
  if (isFresh(outfile, stampFile, key)) return outfile;
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const result = buildSync({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // Prefer ES modules of dependencies: better tree shaking of the bundled SDK.
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    external,
    logLevel: 'silent',
    metafile: true,
    write: false,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${options.entry}: ${result.errors.map((e) => e.text).join('; ')}`);
  const output = result.outputFiles.find((f) => f.path === outfile);
  if (!output) throw new Error(`esbuild produced no ${outfile} for ${options.entry}`);
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((f) => ({ file: f, ...statOf(path.resolve(ROOT, f)) }));
  // Several processes may bundle into the same folder at once (parallel test workers, a synth):
  // each file appears whole or not at all, and the stamp only after the bundle it describes.
  writeAtomically(outfile, output.contents);
  writeAtomically(stampFile, JSON.stringify({ key, inputs }));
  return outfile;
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

interface InputStamp {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

function statOf(file: string): { size: number; mtimeMs: number } {
  const st = fs.statSync(file);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** True when the output exists and every recorded input still has its size and mtime. */
function isFresh(outfile: string, stampFile: string, key: string): boolean {
  try {
    if (!fs.existsSync(outfile)) return false;
    const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8')) as { key: string; inputs: InputStamp[] };
    if (stamp.key !== key || stamp.inputs.length === 0) return false;
    return stamp.inputs.every((i) => {
      const now = statOf(path.resolve(ROOT, i.file));
      return now.size === i.size && now.mtimeMs === i.mtimeMs;
    });
  } catch {
    return false; // a missing input or stamp: build again
  }
}

/** The webhook Lambda bundle: `<outDir>/index.js`, AWS SDK external. */
export function bundleGitlabWebhook(outDir: string): string {
  return bundle({ entry: ENTRIES.gitlabWebhook, outDir, fileName: 'index.js' });
}

/** The clone-and-upload program: `<outDir>/clone-and-upload.js`, AWS SDK bundled in. */
export function bundleCloneAndUpload(outDir: string): string {
  return bundle({ entry: ENTRIES.cloneAndUpload, outDir, fileName: 'clone-and-upload.js', includeAwsSdk: true });
}

/** The delivery worker bundle: `<outDir>/index.js`, AWS SDK external. */
export function bundleGitlabWorker(outDir: string): string {
  return bundle({ entry: ENTRIES.gitlabWorker, outDir, fileName: 'index.js' });
}

/** The reconciler bundle: `<outDir>/index.js`, AWS SDK external. */
export function bundleGitlabReconciler(outDir: string): string {
  return bundle({ entry: ENTRIES.gitlabReconciler, outDir, fileName: 'index.js' });
}

/** The image rollout program: `<outDir>/image-rollout.js`, AWS SDK bundled in (CodeBuild has none for Node). */
export function bundleImageRollout(outDir: string): string {
  return bundle({ entry: ENTRIES.imageRollout, outDir, fileName: 'image-rollout.js', includeAwsSdk: true });
}
