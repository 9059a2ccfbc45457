/**
 * Bundling of the runtime code with esbuild: one deterministic, minified CommonJS file per entry,
 * for Node 22 on arm64 (esbuild output is architecture-independent JavaScript). Same sources give
 * byte-identical output on any machine: paths are resolved against the repository root, and no
 * source maps, legal comments or path comments are emitted. Called by main.ts during synth and by
 * the tests.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';

/** Repository root: every path esbuild sees is made relative to it. */
const ROOT = path.resolve(__dirname, '..');

export const ENTRIES = {
  /** The GitLab webhook Lambda; Lambda handler `index.handler`. */
  gitlabWebhook: path.join(__dirname, 'gitlab-webhook', 'index.ts'),
  /** The CodeBuild clone-and-upload program; run as `node clone-and-upload.js`. */
  cloneAndUpload: path.join(__dirname, 'source-fetch', 'clone-and-upload.ts'),
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

/** Bundles one entry and returns the absolute path of the written .js file. Throws on build errors. */
export function bundle(options: BundleOptions): string {
  const outfile = path.resolve(options.outDir, options.fileName ?? 'index.js');
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const result = buildSync({
    absWorkingDir: ROOT,
    entryPoints: [path.relative(ROOT, path.resolve(ROOT, options.entry))],
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
    external: options.includeAwsSdk === true ? [] : ['@aws-sdk/*'],
    logLevel: 'silent',
    write: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${options.entry}: ${result.errors.map((e) => e.text).join('; ')}`);
  return outfile;
}

/** The webhook Lambda bundle: `<outDir>/index.js`, AWS SDK external. */
export function bundleGitlabWebhook(outDir: string): string {
  return bundle({ entry: ENTRIES.gitlabWebhook, outDir, fileName: 'index.js' });
}

/** The clone-and-upload program: `<outDir>/clone-and-upload.js`, AWS SDK bundled in. */
export function bundleCloneAndUpload(outDir: string): string {
  return bundle({ entry: ENTRIES.cloneAndUpload, outDir, fileName: 'clone-and-upload.js', includeAwsSdk: true });
}
