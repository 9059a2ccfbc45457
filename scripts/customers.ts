/**
 * `npm run customers [-- --env ENV]`: the customers of every environment as a table (hosts, shard,
 * rule priority, target group, database, repositories with branches) and each shard's load.
 * `npm run customers -- --propose NAME --env ENV`: the least-loaded shard with room for a customer.
 * Reads the same config as synth: PLATFORM_CONFIG or config/platform.yaml.
 */
import * as path from 'path';
import { loadConfigFile } from '../stacks/model/config/validate';
import { USAGE, parseCustomersArgs, renderCustomers, renderProposal } from './lib/customers';

const file = process.env.PLATFORM_CONFIG || path.join(__dirname, '..', 'config', 'platform.yaml');
const args = parseCustomersArgs(process.argv.slice(2));
if (typeof args === 'string') {
  console.error(args === USAGE ? USAGE : `${args}\n${USAGE}`);
  process.exit(args === USAGE ? 0 : 2);
}
try {
  const config = loadConfigFile(path.resolve(file));
  console.log(args.kind === 'propose' ? renderProposal(config, args.customer, args.env) : renderCustomers(config, args.env));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
