/**
 * Writes GitLab's Terraform report (`{"create": N, "update": N, "delete": N}`) for a saved plan.
 *
 *   node --require esbuild-register scripts/plan-report.ts plan.tfplan > plan.json
 *   terraform show -json plan.tfplan | node ... scripts/plan-report.ts - > plan.json
 *
 * With a plan file it runs `terraform show -json <file>` itself (TERRAFORM_BIN, else `terraform`
 * on PATH) in the current directory, which must be the initialized stack folder. The report goes
 * to stdout; a one-line summary to stderr. Exit 1 on any error (no report is better than a wrong one).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { describeGitlabTerraformReport, formatGitlabTerraformReport, gitlabTerraformReport } from './lib/plan-report';

const USAGE = 'usage: plan-report.ts <planfile | ->   (prints GitLab\'s terraform report JSON to stdout)';

function readShowJson(arg: string): string {
  if (arg === '-') return fs.readFileSync(0, 'utf8');
  if (!fs.existsSync(arg)) throw new Error(`plan file ${arg} not found`);
  const bin = process.env.TERRAFORM_BIN || 'terraform';
  const r = spawnSync(bin, ['show', '-json', '-no-color', arg], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run ${bin}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${bin} show -json ${arg} exited ${r.status}: ${(r.stderr || '').trim()}`);
  return r.stdout;
}

function main(argv: string[]): number {
  if (argv.length !== 1 || argv[0] === '-h' || argv[0] === '--help') {
    console.error(USAGE);
    return argv[0] === '-h' || argv[0] === '--help' ? 0 : 2;
  }
  const report = gitlabTerraformReport(JSON.parse(readShowJson(argv[0] as string)));
  process.stdout.write(formatGitlabTerraformReport(report));
  console.error(describeGitlabTerraformReport(report));
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`plan-report: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
