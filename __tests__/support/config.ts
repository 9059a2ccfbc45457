import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { PlatformConfig, validateConfig } from '../../stacks/model/config/validate';

export const EXAMPLE_CONFIG = path.join(__dirname, '..', '..', 'config', 'platform.yaml');

/** A fresh, mutable copy of the example config as written (defaults not applied). */
export function exampleInput(): any {
  return YAML.parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8'));
}

/** The example config, validated. */
export function exampleConfig(mutate?: (c: any) => void): PlatformConfig {
  const input = exampleInput();
  mutate?.(input);
  return validateConfig(input, 'example');
}

/** The problems reported for a mutated example config (fails the test if it validates). */
export function problemsOf(mutate: (c: any) => void): { path: string; value: unknown; message: string }[] {
  const input = exampleInput();
  mutate(input);
  try {
    validateConfig(input, 'test');
  } catch (e: any) {
    if (!Array.isArray(e.problems)) throw e;
    return e.problems;
  }
  throw new Error('expected the config to be rejected, but it validated');
}
