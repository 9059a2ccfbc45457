/**
 * scripts/ci/install-terraform.sh, against a local "release" served through file:// (there is no
 * internet here): argument handling, checksum verification against SHA256SUMS, and installation.
 * The real download from releases.hashicorp.com is exercised only by the GitLab pipeline.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { zipSync } from 'fflate';
import { TERRAFORM_VERSION } from '../scripts/lib/gitlab-ci';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'ci', 'install-terraform.sh');
const missingTools = ['bash', 'curl', 'unzip', 'sha256sum'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missingTools.length > 0) console.warn(`SKIPPED install-terraform.sh run tests: missing ${missingTools.join(', ')}`);
const runTest = missingTools.length > 0 ? test.skip : test;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'install-terraform-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
const osName = process.platform === 'darwin' ? 'darwin' : 'linux';

/** A fake release of `version` under <tmp>/<name>/<version>/; returns the base URL and the zip name. */
function fakeRelease(name: string, version: string, opts: { corruptSum?: boolean; unlisted?: boolean } = {}): { baseUrl: string; zipName: string } {
  const root = path.join(tmp, name);
  const dir = path.join(root, version);
  fs.mkdirSync(dir, { recursive: true });
  const zipName = `terraform_${version}_${osName}_${arch}.zip`;
  const zip = zipSync({ terraform: new TextEncoder().encode(`#!/bin/sh\necho "Terraform v${version} (fake)"\n`) });
  fs.writeFileSync(path.join(dir, zipName), zip);
  let sum = crypto.createHash('sha256').update(zip).digest('hex');
  if (opts.corruptSum) sum = sum.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const lines = [`${'a'.repeat(64)}  terraform_${version}_windows_amd64.zip`];
  if (!opts.unlisted) lines.push(`${sum}  ${zipName}`);
  fs.writeFileSync(path.join(dir, `terraform_${version}_SHA256SUMS`), `${lines.join('\n')}\n`);
  return { baseUrl: `file://${root}`, zipName };
}

function install(args: string[], baseUrl?: string) {
  return spawnSync('bash', [SCRIPT, ...args], {
    env: { ...process.env, ...(baseUrl ? { TERRAFORM_RELEASES_URL: baseUrl } : {}) },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('install-terraform.sh', () => {
  test('pins the same terraform version as the generated pipeline', () => {
    const text = fs.readFileSync(SCRIPT, 'utf8');
    expect(text).toContain(`readonly DEFAULT_VERSION="${TERRAFORM_VERSION}"`);
    expect(text).toContain('https://releases.hashicorp.com/terraform');
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(fs.statSync(SCRIPT).mode & 0o111).not.toBe(0);
  });

  runTest('usage errors exit 2 and install nothing; --help exits 0', () => {
    expect(install(['--help']).status).toBe(0);
    expect(install(['--help']).stdout).toContain('usage:');
    const bad = install(['latest', path.join(tmp, 'never')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("VERSION must look like 1.11.4, got 'latest'");
    expect(install(['1.2.3', 'a', 'b']).status).toBe(2);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  runTest('installs the release when its SHA256 matches SHA256SUMS', () => {
    const { baseUrl, zipName } = fakeRelease('good', '9.8.7');
    const dest = path.join(tmp, 'dest-good');
    const r = install(['9.8.7', dest], baseUrl);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${zipName} matches terraform_9.8.7_SHA256SUMS`);
    expect(r.stdout).toContain('Terraform v9.8.7 (fake)');
    expect(fs.statSync(path.join(dest, 'terraform')).mode & 0o777).toBe(0o755);
  });

  runTest('refuses a zip whose SHA256 does not match, or that SHA256SUMS does not list', () => {
    const corrupt = fakeRelease('corrupt', '9.8.6', { corruptSum: true });
    const dest1 = path.join(tmp, 'dest-corrupt');
    const r1 = install(['9.8.6', dest1], corrupt.baseUrl);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toContain('does not match terraform_9.8.6_SHA256SUMS: refusing to install');
    expect(fs.existsSync(path.join(dest1, 'terraform'))).toBe(false);

    const unlisted = fakeRelease('unlisted', '9.8.5', { unlisted: true });
    const dest2 = path.join(tmp, 'dest-unlisted');
    const r2 = install(['9.8.5', dest2], unlisted.baseUrl);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(`does not list ${unlisted.zipName} exactly once`);
    expect(fs.existsSync(path.join(dest2, 'terraform'))).toBe(false);

    const r3 = install(['9.8.4', path.join(tmp, 'dest-missing')], `file://${path.join(tmp, 'no-release')}`);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toContain('download of');
  });
});
