/**
 * `npm run ip-plan`: prints the IP plan of every environment as a table for network review
 * (environment, tier, AZ, CIDR, usable addresses, supernet), then each environment's spare blocks.
 * Reads the same config as synth: PLATFORM_CONFIG or config/platform.yaml.
 */
import * as path from 'path';
import { ConfigError, loadConfigFile } from '../stacks/model/config/validate';
import { TIERS } from '../stacks/model/ip-plan';

const file = process.env.PLATFORM_CONFIG || path.join(__dirname, '..', 'config', 'platform.yaml');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

try {
  const config = loadConfigFile(path.resolve(file));
  const rows = [['environment', 'tier', 'az', 'cidr', 'usable', 'supernet']];
  for (const env of config.environments) {
    for (const tier of TIERS) {
      const t = env.ipPlan.tiers[tier];
      for (const s of t.subnets) rows.push([env.name, tier, s.az, s.cidr, String(s.usable), t.supernet]);
      rows.push([env.name, tier, '(spare slot)', t.spareSlot, String(t.subnets[0]!.usable), t.supernet]);
    }
  }
  console.log(`IP plan of ${config.source} (usable = block size minus the 5 addresses AWS reserves)\n`);
  console.log(table(rows));
  console.log('');
  for (const env of config.environments) console.log(`${env.name}: VPC ${env.ipPlan.vpcCidr}, free for another tier: ${env.ipPlan.spare.join(', ')}`);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
