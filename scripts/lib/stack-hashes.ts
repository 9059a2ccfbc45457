/**
 * Hashes of synthesized stacks: SHA-256 of each `cdktf.out/stacks/<stack>/cdk.tf.json`. The
 * merge-request pipeline compares them with the target branch's to plan only the stacks whose
 * Terraform changed.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Stack name → hex SHA-256 of its cdk.tf.json, names sorted. */
export type StackHashes = Readonly<Record<string, string>>;

export function hashStackJson(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hashes of every stack under `<outdir>/stacks` that has a cdk.tf.json. */
export function hashStacks(outdir: string): StackHashes {
  const dir = path.join(outdir, 'stacks');
  const out: Record<string, string> = {};
  for (const stack of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, stack, 'cdk.tf.json');
    if (fs.existsSync(file)) out[stack] = hashStackJson(fs.readFileSync(file));
  }
  return out;
}

/** Parses a hashes file (as written by `npm run stack-hashes`); throws naming the file when malformed. */
export function parseStackHashes(text: string, source: string): StackHashes {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
    throw new Error(`${source}: expected an object of stack name to SHA-256 hex`);
  }
  return v as StackHashes;
}
