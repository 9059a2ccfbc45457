/**
 * The gate of tests that need terraform: discovers it once per test file and, when terraform or
 * the mirror is missing, prints one loud SKIPPED line (or, with OFFLINE_TERRAFORM_REQUIRED=1,
 * makes the gated tests fail).
 */
import { discoverTerraform, Env, TerraformDiscovery } from './discovery';

export interface OfflineGate {
  discovery: TerraformDiscovery;
  available: boolean;
  /** The reason terraform tests are skipped (undefined when available). */
  reason: string | undefined;
  /**
   * Call first in every test that needs terraform: when terraform/mirror are
   * missing it returns true (return early); the gate already printed the one loud SKIPPED line.
   * With OFFLINE_TERRAFORM_REQUIRED=1 it throws instead.
   */
  skipIfUnavailable(testName: string): boolean;
}

/**
 * Discovers terraform once per test file. When unavailable, prints one loud
 * line immediately (at describe time); gated tests then return early.
 */
export function offlineTerraformGate(env: Env = process.env, warn: (line: string) => void = console.warn): OfflineGate {
  const discovery = discoverTerraform(env);
  const reason = discovery.available ? undefined : discovery.reason;
  const required = env.OFFLINE_TERRAFORM_REQUIRED === '1';
  if (reason !== undefined) {
    warn(`SKIPPED offline terraform plan: ${reason}${required ? ' (OFFLINE_TERRAFORM_REQUIRED=1: gated tests will fail)' : ''}`);
  }
  return {
    discovery,
    available: discovery.available,
    reason,
    skipIfUnavailable(testName: string): boolean {
      if (reason === undefined) return false;
      if (required) throw new Error(`offline terraform required (OFFLINE_TERRAFORM_REQUIRED=1) but unavailable: ${reason} [${testName}]`);
      // The one loud line was printed when the gate was made; each gated test just returns early.
      return true;
    },
  };
}
