/**
 * One snapshot per stack of the example config. Asset hashes are masked, and the test fails if a
 * synthesized stack contains a path of this machine, so snapshots are stable on any checkout.
 */
import * as path from 'path';
import { exampleConfig } from './support/config';
import { customerStackName } from '../stacks/model/naming';
import { maskAssetHashes, synthAllStacks } from './support/synth';

const ROOT = path.resolve(__dirname, '..');
const config = exampleConfig();
const STACKS = [
  'bootstrap',
  ...config.environments.map((e) => e.name),
  ...config.environments.flatMap((e) => e.customers.map((c) => customerStackName(e.name, c.name))),
];
const synthesized = synthAllStacks(config);

test('the example synthesizes exactly these stacks (every customer in every environment its branches map to)', () => {
  expect([...synthesized.keys()].sort()).toEqual(
    ['bootstrap', 'dev', 'dev-blog', 'dev-shop', 'dev-wiki', 'prod', 'prod-shop', 'prod-wiki', 'staging', 'staging-shop'].sort(),
  );
});

describe.each(STACKS)('stack %s', (stack) => {
  const json = JSON.stringify(synthesized.get(stack), null, 2);

  test('has no machine paths', () => {
    expect(json).not.toContain(ROOT);
    expect(json).not.toMatch(/"\/(home|root|tmp|work|Users)\//);
  });

  test('matches the snapshot', () => {
    expect(JSON.parse(maskAssetHashes(json))).toMatchSnapshot();
  });
});
