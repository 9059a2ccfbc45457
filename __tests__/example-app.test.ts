/**
 * Issue 10, the customer's repository contract (docs/CUSTOMERS.md): the example app under
 * examples/customer-app has a valid appspec (schema below), every hook script exists and is
 * executable, the scripts parse, and the app answers its health check path and `/`.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { parse } from 'yaml';
import { z } from 'zod';
import { APPSPEC_HOOKS, MAX_HOOK_TIMEOUT_SECONDS } from '../stacks/model/software-delivery';
import { PLACEHOLDER_UNIT } from '../stacks/constructs/customer/web-user-data';

const ROOT = path.join(__dirname, '..', 'examples', 'customer-app');

/** A relative path inside the bundle: no absolute paths, no "..". */
const bundlePath = z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the bundle');

const hook = z
  .object({
    location: bundlePath,
    timeout: z.number().int().min(1).max(MAX_HOOK_TIMEOUT_SECONDS),
    runas: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional(),
  })
  .strict();

/** The appspec.yml of an EC2 in-place deployment, as the platform accepts it. */
export const appspecSchema = z
  .object({
    version: z.literal(0),
    os: z.literal('linux'),
    files: z.array(z.object({ source: bundlePath, destination: z.string().startsWith('/') }).strict()).min(1),
    file_exists_behavior: z.enum(['DISALLOW', 'OVERWRITE', 'RETAIN']).optional(),
    permissions: z.array(z.record(z.string(), z.unknown())).optional(),
    hooks: z
      .object(Object.fromEntries(APPSPEC_HOOKS.map((h) => [h, z.array(hook).min(1)])) as Record<(typeof APPSPEC_HOOKS)[number], z.ZodArray<typeof hook>>)
      .strict(),
  })
  .strict();

const appspecText = fs.readFileSync(path.join(ROOT, 'appspec.yml'), 'utf8');
const appspec = appspecSchema.parse(parse(appspecText));
const hookScripts = Object.values(appspec.hooks).flatMap((hs) => hs.map((h) => h.location));

describe('appspec.yml', () => {
  test('is valid: version 0.0, linux, files, every lifecycle hook with a timeout of at most 300 s', () => {
    expect(appspecText).toMatch(/^version: 0\.0$/m);
    expect(Object.keys(appspec.hooks)).toEqual([...APPSPEC_HOOKS]);
    for (const hs of Object.values(appspec.hooks)) for (const h of hs) expect(h.timeout).toBeLessThanOrEqual(300);
  });

  test('the schema rejects what CodeDeploy or the platform would not take', () => {
    const ok = parse(appspecText);
    const bad = (change: (a: any) => void) => {
      const a = structuredClone(ok);
      change(a);
      return appspecSchema.safeParse(a).success;
    };
    expect(bad(() => undefined)).toBe(true);
    expect(bad((a) => (a.os = 'windows'))).toBe(false);
    expect(bad((a) => (a.version = 1))).toBe(false);
    expect(bad((a) => (a.hooks.ValidateService[0].timeout = 3600))).toBe(false);
    expect(bad((a) => delete a.hooks.ValidateService)).toBe(false);
    expect(bad((a) => (a.hooks.BeforeAllowTraffic = a.hooks.ValidateService))).toBe(false);
    expect(bad((a) => (a.hooks.AfterInstall[0].location = '../escape.sh'))).toBe(false);
    expect(bad((a) => (a.files[0].destination = 'relative'))).toBe(false);
  });

  test.each(hookScripts)('%s exists, is executable, has a shebang and parses', (location) => {
    const file = path.join(ROOT, location);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o111).toBe(0o111);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/bash\n/);
    execFileSync('bash', ['-n', file]);
  });

  test('every file source exists', () => {
    for (const f of appspec.files) expect(fs.existsSync(path.join(ROOT, f.source))).toBe(true);
  });

  test('the first deployment stops and disables the placeholder before the app starts', () => {
    const before = fs.readFileSync(path.join(ROOT, appspec.hooks.BeforeInstall[0]!.location), 'utf8');
    expect(before).toContain(`systemctl disable --now ${PLACEHOLDER_UNIT}`);
    const unit = fs.readFileSync(path.join(ROOT, 'systemd', 'webapp.service'), 'utf8');
    expect(unit).toMatch(/^User=webapp$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/webapp\/settings\.env$/m);
  });
});

// ---------------------------------------------------------------------------------------------
// The app itself, in a child process
// ---------------------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function waitHealthy(port: number, p: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await get(port, p)).status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > until) throw new Error(`the app did not answer ${p} on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the example app', () => {
  let child: ChildProcess;
  let port: number;
  const HEALTH = '/health/live';

  beforeAll(async () => {
    port = await freePort();
    child = spawn('python3', [path.join(ROOT, 'app', 'server.py')], {
      env: { PATH: process.env.PATH, APP_PORT: String(port), HEALTH_CHECK_PATH: HEALTH, CUSTOMER: 'shop', ENVIRONMENT: 'dev', APP_VERSION: 'abc123' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitHealthy(port, HEALTH);
  }, 20_000);

  afterAll(() => {
    // Never leave the app running (it would keep jest alive): the SIGTERM test stops it; this is
    // the fallback when that test failed.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  test('answers the configured health check path with 200', async () => {
    const r = await get(port, HEALTH);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ok', version: 'abc123' });
  });

  test('answers / with 200 and its customer', async () => {
    const r = await get(port, '/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('shop (dev)');
  });

  test('answers anything else with 404 (the default /healthz is not health here)', async () => {
    expect((await get(port, '/healthz')).status).toBe(404);
    expect((await get(port, '/nope')).status).toBe(404);
  });

  test('SIGTERM (systemctl stop, the ApplicationStop hook) stops it within 5 s with exit code 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((r) => (timer = setTimeout(() => r('still running after 5 s'), 5000)));
    const code = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    expect(code).toBe(0);
  });
});
