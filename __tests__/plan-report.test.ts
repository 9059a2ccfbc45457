/**
 * GitLab's Terraform report from `terraform show -json`. The fixture is real output of terraform
 * 1.11.4 for a plan that creates, updates, deletes, replaces and keeps one terraform_data each.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatGitlabTerraformReport, gitlabTerraformReport } from '../scripts/lib/plan-report';

const ROOT = path.join(__dirname, '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'terraform-show-plan.json');
const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

describe('GitLab terraform report', () => {
  test('counts actions like GitLab\'s jq filter: a replacement is one create and one delete', () => {
    const actions = (fixture.resource_changes as Array<{ address: string; change: { actions: string[] } }>).map((r) => [r.address, r.change.actions.join(',')]);
    expect(Object.fromEntries(actions)).toEqual({
      'terraform_data.created': 'create',
      'terraform_data.deleted': 'delete',
      'terraform_data.replaced': 'delete,create',
      'terraform_data.unchanged': 'no-op',
      'terraform_data.updated': 'update',
    });
    expect(gitlabTerraformReport(fixture)).toEqual({ create: 2, update: 1, delete: 2 });
  });

  test('writes exactly the three keys GitLab requires, and nothing from the plan', () => {
    const text = formatGitlabTerraformReport(gitlabTerraformReport(fixture));
    expect(text).toBe('{"create":2,"update":1,"delete":2}\n');
    expect(Object.keys(JSON.parse(text))).toEqual(['create', 'update', 'delete']);
  });

  test('an empty plan, data-source reads and create-before-destroy replacements', () => {
    expect(gitlabTerraformReport({ format_version: '1.2', planned_values: {} })).toEqual({ create: 0, update: 0, delete: 0 });
    expect(
      gitlabTerraformReport({
        format_version: '1.2',
        resource_changes: [
          { address: 'data.aws_region.current', mode: 'data', change: { actions: ['read'] } },
          { address: 'aws_s3_bucket.b', mode: 'managed', change: { actions: ['create', 'delete'] } },
          { address: 'aws_s3_bucket.c', mode: 'managed', change: { actions: ['no-op'] } },
        ],
      }),
    ).toEqual({ create: 1, update: 0, delete: 1 });
  });

  test('rejects input that is not the JSON of a saved plan', () => {
    expect(() => gitlabTerraformReport([])).toThrow(/JSON object/);
    expect(() => gitlabTerraformReport({ resource_changes: [] })).toThrow(/format_version/);
    expect(() => gitlabTerraformReport({ format_version: '1.0', values: {} })).toThrow(/of state, not of a plan/);
  });
});

describe('scripts/plan-report.ts', () => {
  const run = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
    spawnSync(process.execPath, ['--require', require.resolve('esbuild-register'), path.join(ROOT, 'scripts', 'plan-report.ts'), ...args], {
      cwd: opts.cwd ?? ROOT,
      input: opts.input,
      env: { ...process.env, ...opts.env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  test('reads show JSON from stdin with "-"', () => {
    const r = run(['-'], { input: JSON.stringify(fixture) });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"create":2,"update":1,"delete":2}\n');
    expect(r.stderr).toContain('2 to create, 1 to update, 2 to delete');
  });

  test('runs `terraform show -json <planfile>` itself (TERRAFORM_BIN), and fails without a report on errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-report-'));
    try {
      const bin = path.join(dir, 'terraform');
      fs.writeFileSync(bin, `#!/bin/sh\n[ "$1 $2 $3 $4" = "show -json -no-color plan.tfplan" ] || { echo "bad args: $*" >&2; exit 3; }\ncat ${JSON.stringify(FIXTURE)}\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'plan.tfplan'), '');
      const ok = run(['plan.tfplan'], { cwd: dir, env: { TERRAFORM_BIN: bin } });
      expect(ok.stderr).not.toContain('bad args');
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual({ create: 2, update: 1, delete: 2 });

      const missing = run(['nope.tfplan'], { cwd: dir, env: { TERRAFORM_BIN: bin } });
      expect(missing.status).toBe(1);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toContain('plan file nope.tfplan not found');

      const garbage = run(['-'], { input: '{"values":{}}' });
      expect(garbage.status).toBe(1);
      expect(garbage.stdout).toBe('');

      expect(run([]).status).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
