/**
 * `npm run stack-hashes [-- OUTDIR]`: prints the SHA-256 of every synthesized stack's cdk.tf.json
 * (default OUTDIR cdktf.out) as JSON. The synth job saves it as cdktf.out/stack-hashes.json.
 */
import * as path from 'path';
import { hashStacks } from './lib/stack-hashes';

const outdir = path.resolve(process.argv[2] ?? 'cdktf.out');
process.stdout.write(`${JSON.stringify(hashStacks(outdir), null, 2)}\n`);
