import * as path from 'path';
import { bundleCloneAndUpload, bundleGitlabReconciler, bundleGitlabWebhook, bundleGitlabWorker, bundleImageRollout } from '../../../lambdas/build';

/** The runtime programs the environment stacks ship, bundled (absolute paths of the .js files). */
export interface RuntimeBundles {
  /** The webhook Lambda handler (AWS SDK external: the Lambda runtime provides it). */
  readonly webhook: string;
  /** The CodeBuild clone-and-upload program (AWS SDK bundled in). */
  readonly sourceFetch: string;
  /** The delivery worker Lambda (SQS event source). */
  readonly worker: string;
  /** The scheduled reconciler Lambda. */
  readonly reconciler: string;
  /** The image pipelines' rollout program (AWS SDK bundled in), run by the customers' rollout builds. */
  readonly imageRollout: string;
}

/** Where synth writes the bundles (gitignored); cdktf copies them into each stack's assets/. */
export const DEFAULT_BUNDLE_DIR = path.join(__dirname, '..', '..', 'build', 'bundles');

const built = new Map<string, RuntimeBundles>();

/**
 * Bundles the runtime programs with esbuild, once per process and folder. The output is
 * deterministic, so asset hashes (and plans) change only when the code does.
 */
export function buildRuntimeBundles(outDir: string = DEFAULT_BUNDLE_DIR): RuntimeBundles {
  let b = built.get(outDir);
  if (!b) {
    b = {
      webhook: bundleGitlabWebhook(path.join(outDir, 'gitlab-webhook')),
      sourceFetch: bundleCloneAndUpload(path.join(outDir, 'gitlab-source-fetch')),
      worker: bundleGitlabWorker(path.join(outDir, 'gitlab-worker')),
      reconciler: bundleGitlabReconciler(path.join(outDir, 'gitlab-reconciler')),
      imageRollout: bundleImageRollout(path.join(outDir, 'image-rollout')),
    };
    built.set(outDir, b);
  }
  return b;
}
