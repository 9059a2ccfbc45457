import { Construct } from 'constructs';
import { BootstrapStack } from './bootstrap-stack';
import { PlatformConfig } from './model/config/validate';
import { EnvironmentStack } from './environment-stack';
import { RuntimeBundles, buildRuntimeBundles } from './constructs/ingestion/bundles';

/** Name of the stack that creates the state buckets. */
export const BOOTSTRAP_STACK = 'bootstrap';

export interface Platform {
  readonly bootstrap: BootstrapStack;
  /** One stack per environment, named after it, in config order. */
  readonly environments: readonly EnvironmentStack[];
}

/**
 * Adds every stack of the platform to an app (or a test scope). The runtime programs (webhook
 * Lambda, source fetch) are bundled first, unless bundles are given.
 */
export function buildPlatform(scope: Construct, config: PlatformConfig, bundles: RuntimeBundles = buildRuntimeBundles()): Platform {
  return {
    bootstrap: new BootstrapStack(scope, BOOTSTRAP_STACK, { config }),
    environments: config.environments.map((env) => new EnvironmentStack(scope, env.name, { config: env, bundles })),
  };
}
