import { TerraformStack, Testing } from 'cdktf';
import { PlatformConfig } from '../../stacks/model/config/validate';
import { buildPlatform } from '../../stacks/platform';
import { exampleConfig } from './config';

/** A parsed synthesized stack (cdk.tf.json). */
export type StackJson = { resource?: Record<string, Record<string, any>>; data?: Record<string, Record<string, any>>; output?: Record<string, any>; terraform?: any; provider?: any; locals?: any };

/**
 * The platform built from a config, once per config and test file: building every stack (10 in
 * the example) is the slow part, and most test files synthesize several stacks of the same config.
 * Synthesized texts are kept too; callers get a fresh parse each time, so they cannot affect
 * each other.
 */
const platforms = new Map<string, { platform: ReturnType<typeof buildPlatform>; texts: Map<string, string> }>();

function platformOf(config: PlatformConfig) {
  const key = JSON.stringify(config);
  let entry = platforms.get(key);
  if (!entry) {
    entry = { platform: buildPlatform(Testing.app(), config), texts: new Map() };
    platforms.set(key, entry);
  }
  return entry;
}

/** Synthesizes one stack of the platform built from a config (the example by default), as cdk.tf.json text. */
export function synthStackString(name: string, config: PlatformConfig = exampleConfig()): string {
  const { platform, texts } = platformOf(config);
  const known = texts.get(name);
  if (known !== undefined) return known;
  const stack = allStacks(platform).find((s) => s.node.id === name);
  if (!stack) throw new Error(`no stack named ${name}; stacks: ${allStacks(platform).map((s) => s.node.id).join(', ')}`);
  const text = Testing.synth(stack);
  texts.set(name, text);
  return text;
}

/** Every stack of a platform: bootstrap, environments, customers. */
export function allStacks(platform: ReturnType<typeof buildPlatform>): TerraformStack[] {
  return [platform.bootstrap, ...platform.environments, ...platform.customers];
}

/** Every stack of the platform built from a config (the example by default), parsed, by stack name. */
export function synthAllStacks(config: PlatformConfig = exampleConfig()): Map<string, StackJson> {
  const { platform } = platformOf(config);
  return new Map(allStacks(platform).map((s) => [s.node.id, JSON.parse(synthStackString(s.node.id, config)) as StackJson]));
}

/** The same, parsed. */
export function synthStack(name: string, config: PlatformConfig = exampleConfig()): StackJson {
  return JSON.parse(synthStackString(name, config));
}

/** Resources of a type in a parsed stack, by logical id. */
export function resources(json: StackJson, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

export function resourceList(json: StackJson, type: string): any[] {
  return Object.values(resources(json, type));
}

/** Replaces asset hashes (cdktf asset folders, archive hashes) with fixed markers, for snapshots. */
export function maskAssetHashes(json: string): string {
  return json.replace(/assets\/([\w.-]+)\/[0-9A-F]{32,64}/gi, 'assets/$1/<hash>').replace(/"[0-9a-f]{64}"/g, '"<sha256>"');
}
