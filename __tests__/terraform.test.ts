/**
 * Real Terraform, offline: every stack of the example config is synthesized to a temp folder and run
 * through `terraform init -backend=false`, `validate` and `plan -refresh=false` with mock credentials
 * (see scripts/lib/offline-plan/ for discovery and the relaxations it prints). All stacks are
 * planned in one terraform run (offlinePlanMany: each stack a module of one root module; the
 * aws provider schema is loaded once instead of once per stack). Each stack's part of the plan
 * must create exactly the resources the stack declares, and need no AWS call.
 *
 * Without terraform or a provider mirror the gate prints one loud SKIPPED line and the tests return
 * early; with OFFLINE_TERRAFORM_REQUIRED=1 they fail instead.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { buildPlatform } from '../stacks/platform';
import { customerStackName } from '../stacks/model/naming';
import { exampleConfig } from './support/config';
import { JsonObject, OfflinePlanResult, declaredResourceCount, logOfflinePlanMany, offlinePlanMany, offlineTerraformGate } from '../scripts/lib/offline-plan';

const gate = offlineTerraformGate();
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'stacks-plan-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const config = exampleConfig();
const app = new App({ outdir });
buildPlatform(app, config);
app.synth();
const CUSTOMER_STACKS = config.environments.flatMap((e) => e.customers.map((c) => customerStackName(e.name, c.name)));
const STACKS = ['bootstrap', ...config.environments.map((e) => e.name), ...CUSTOMER_STACKS];
const stackDir = (s: string) => path.join(outdir, 'stacks', s);
const stackJson = (s: string) => JSON.parse(fs.readFileSync(path.join(stackDir(s), 'cdk.tf.json'), 'utf8')) as JsonObject;

/** Plans every stack once, all in one terraform run. */
let plans: Promise<Map<string, OfflinePlanResult>> | undefined;
function planAll(): Promise<Map<string, OfflinePlanResult>> {
  plans ??= (async () => {
    const run = await offlinePlanMany(STACKS.map(stackDir), { discovery: gate.discovery });
    logOfflinePlanMany(run);
    return new Map(run.stacks.map((r) => [r.stackName, r]));
  })();
  return plans;
}

describe('offline terraform plan of every stack', () => {
  test.each(STACKS)('%s: no count/for_each but the certificate validation record, no data source that calls AWS', (stack) => {
    const json = stackJson(stack);
    // The ACM validation record is the one for_each: keyed by the (known) domain name, one instance,
    // because the apex and the wildcard share a CNAME. Everything else is declared one by one.
    const hasAcm = config.environments.some((e) => e.name === stack && e.ingress.hostedZoneId !== undefined);
    const forEach = declaredResourceCount(json).countOrForEach;
    if (CUSTOMER_STACKS.includes(stack)) expect(forEach.every((a) => /^aws_route53_record\.routing_domain-.*-validation/.test(a))).toBe(true);
    else expect(forEach).toEqual(hasAcm ? ['aws_route53_record.ingress_certificate-validation-record'] : []);
    const data = Object.keys((json.data as JsonObject | undefined) ?? {});
    // Customer stacks read their environment through cdktf's cross-stack remote state, nothing else.
    expect(data.filter((d) => d !== 'archive_file' && !(CUSTOMER_STACKS.includes(stack) && d === 'terraform_remote_state'))).toEqual([]);
  });

  test.each(STACKS)('%s: validates and plans offline, creating exactly the declared resources', async (stack) => {
    if (gate.skipIfUnavailable(`stack ${stack}`)) return;
    const r = (await planAll()).get(stack)!;
    if (!r.ok) throw new Error(`${stack}: ${r.failure?.phase} failed:\n${r.failure?.message}`);
    expect(r.externalDataSources).toEqual([]);
    expect(r.validate?.valid).toBe(true);
    const declared = declaredResourceCount(stackJson(stack)).total;
    expect(declared).toBeGreaterThan(0);
    expect(r.plan!.counts.create).toBe(declared);
    expect(r.plan!.counts.update + r.plan!.counts.delete + r.plan!.counts.replace).toBe(0);
  }, 600_000);
});
