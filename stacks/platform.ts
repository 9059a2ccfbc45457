import { Construct } from 'constructs';
import { BootstrapStack } from './bootstrap-stack';
import { RuntimeBundles, buildRuntimeBundles } from './constructs/ingestion/bundles';
import { CustomerStack } from './customer-stack';
import { EnvironmentStack } from './environment-stack';
import { PlatformConfig } from './model/config/validate';
import { customerStackName } from './model/naming';

/** Name of the stack that creates the state buckets. */
export const BOOTSTRAP_STACK = 'bootstrap';

export interface Platform {
  readonly bootstrap: BootstrapStack;
  /** One stack per environment, named after it, in config order. */
  readonly environments: readonly EnvironmentStack[];
  /** One stack per customer per environment it is in, named `<env>-<customer>`: environments in config order, customers in config order. */
  readonly customers: readonly CustomerStack[];
}

/**
 * Adds every stack of the platform to an app (or a test scope). The runtime programs (webhook
 * Lambda, source fetch) are bundled first, unless bundles are given.
 */
export function buildPlatform(scope: Construct, config: PlatformConfig, bundles: RuntimeBundles = buildRuntimeBundles()): Platform {
  const bootstrap = new BootstrapStack(scope, BOOTSTRAP_STACK, { config });
  const environments = config.environments.map((env) => new EnvironmentStack(scope, env.name, { config: env, bundles }));
  const customers = config.environments.flatMap((env, i) =>
    env.customers.map(
      (customer) => new CustomerStack(scope, customerStackName(env.name, customer.name), { environment: env, customer, exports: environments[i]!.exports }),
    ),
  );
  return { bootstrap, environments, customers };
}
