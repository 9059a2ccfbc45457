/**
 * One snapshot per stack of the example config. Asset hashes are masked, and the test fails if a
 * synthesized stack contains a path of this machine, so snapshots are stable on any checkout.
 */
import * as path from 'path';
import { exampleConfig } from './support/config';
import { maskAssetHashes, synthStackString } from './support/synth';

const ROOT = path.resolve(__dirname, '..');
const STACKS = ['bootstrap', ...exampleConfig().environments.map((e) => e.name)];

describe.each(STACKS)('stack %s', (stack) => {
  const json = synthStackString(stack);

  test('has no machine paths', () => {
    expect(json).not.toContain(ROOT);
    expect(json).not.toMatch(/"\/(home|root|tmp|work|Users)\//);
  });

  test('matches the snapshot', () => {
    expect(JSON.parse(maskAssetHashes(json))).toMatchSnapshot();
  });
});
