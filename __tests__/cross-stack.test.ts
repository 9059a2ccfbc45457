/**
 * Offline plans of stacks that use cdktf cross-stack references, and of several stacks in one
 * terraform run (scripts/lib/offline-plan/: standInRemoteStates, asChildModule, offlinePlanMany).
 *
 * A small real cdktf app is synthesized here: a `network` stack and a `customer` stack, both with
 * an S3 backend, the customer using tokens of the network's resources (so cdktf writes a
 * terraform_remote_state in the customer and cross-stack outputs in the network). Tests that need
 * terraform are gated by offlineTerraformGate(); the rest always runs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Fn, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { NetworkInterface } from '@cdktf/provider-aws/lib/network-interface';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import {
  asChildModule,
  blamedModules,
  ctyType,
  declaredResourceCount,
  diagnosticModule,
  externalDataSources,
  JsonObject,
  logOfflinePlan,
  logOfflinePlanMany,
  offlinePlan,
  offlinePlanMany,
  offlineTerraformGate,
  placeholderValue,
  PlaceholderContext,
  prepareOfflineStack,
  producersFromJson,
  producersFromStacksDir,
  referencedOutputs,
  rootModuleJson,
  standInRemoteStates,
} from '../scripts/lib/offline-plan';

const TF_TIMEOUT = 240_000;
const ACCOUNT = '210987654321';
const gate = offlineTerraformGate();
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cross-stack-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
}

/** Synthesizes the two-stack app into a fresh outdir; returns its stacks folder. */
function synthTwoStacks(): string {
  const outdir = tmpDir('out');
  const app = new App({ outdir });

  const network = new TerraformStack(app, 'network');
  new S3Backend(network, { bucket: 'xs-state', key: 'network.tfstate', region: 'eu-west-1' });
  new AwsProvider(network, 'aws', { region: 'eu-west-1', allowedAccountIds: [ACCOUNT] });
  const vpc = new Vpc(network, 'vpc', { cidrBlock: '10.20.0.0/16' });
  const subnets = ['a', 'b'].map(
    (az, i) => new Subnet(network, `public-${az}`, { vpcId: vpc.id, cidrBlock: `10.20.${i}.0/24`, availabilityZone: `eu-west-1${az}` }),
  );
  const albSg = new SecurityGroup(network, 'alb-sg', { name: 'xs-alb', vpcId: vpc.id });
  const alb = new Lb(network, 'alb', { name: 'xs-alb', loadBalancerType: 'application', subnets: subnets.map((s) => s.id), securityGroups: [albSg.id] });
  const listener = new LbListener(network, 'http', {
    loadBalancerArn: alb.arn,
    port: 80,
    protocol: 'HTTP',
    defaultAction: [{ type: 'fixed-response', fixedResponse: { contentType: 'text/plain', statusCode: '404' } }],
  });
  new TerraformOutput(network, 'vpc_id', { value: vpc.id });

  const customer = new TerraformStack(app, 'customer');
  new S3Backend(customer, { bucket: 'xs-state', key: 'customer.tfstate', region: 'eu-west-1' });
  new AwsProvider(customer, 'aws', { region: 'eu-west-1' });
  const tg = new LbTargetGroup(customer, 'shop', { name: 'xs-shop', port: 8080, protocol: 'HTTP', vpcId: vpc.id });
  new LbListenerRule(customer, 'shop-rule', {
    listenerArn: listener.arn,
    priority: 10,
    condition: [{ hostHeader: { values: ['shop.example.com'] } }],
    action: [{ type: 'forward', targetGroupArn: tg.arn }],
  });
  const web = new SecurityGroup(customer, 'web', { name: 'xs-web', vpcId: vpc.id });
  new VpcSecurityGroupIngressRule(customer, 'web-from-alb', {
    securityGroupId: web.id,
    referencedSecurityGroupId: albSg.id,
    ipProtocol: 'tcp',
    fromPort: 8080,
    toPort: 8080,
  });
  new Route53Record(customer, 'shop-dns', {
    zoneId: 'Z0123456789ABCDEFGHIJ',
    name: 'shop.example.com',
    type: 'A',
    alias: { name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true },
  });
  new NetworkInterface(customer, 'web-eni', { subnetId: Fn.element(alb.subnets, 0), securityGroups: [web.id] });
  app.synth();
  return path.join(outdir, 'stacks');
}

const stacksDir = synthTwoStacks();
const networkDir = path.join(stacksDir, 'network');
const customerDir = path.join(stacksDir, 'customer');
const readJson = (dir: string): JsonObject => JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8')) as JsonObject;
const networkJson = readJson(networkDir);
const customerJson = readJson(customerDir);
const REMOTE = 'cross-stack-reference-input-network';
const obj = (v: unknown): JsonObject => v as JsonObject;
const declaredOutputs = Object.keys(obj(networkJson.output)).sort();
/** Every declared resource of a stack as an address (none uses count/for_each). */
const addresses = (json: JsonObject): string[] =>
  Object.entries(obj(json.resource)).flatMap(([type, byName]) => Object.keys(obj(byName)).map((n) => `${type}.${n}`)).sort();

/** A copy of the synthesized stacks folder whose JSON files the test may edit. */
function copyStacks(edit: (stacks: Record<string, JsonObject>) => void): string {
  const dir = path.join(tmpDir('stacks-copy'), 'stacks');
  fs.cpSync(stacksDir, dir, { recursive: true });
  const stacks = { network: readJson(path.join(dir, 'network')), customer: readJson(path.join(dir, 'customer')) };
  edit(stacks);
  for (const [name, json] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, name, 'cdk.tf.json'), JSON.stringify(json, null, 2));
  return dir;
}

describe('cdktf cross-stack references, as synthesized', () => {
  test('the customer reads the network state through an s3 terraform_remote_state; the network declares sensitive cross-stack outputs', () => {
    const remote = obj(obj(obj(customerJson.data).terraform_remote_state)[REMOTE]);
    expect(remote.backend).toBe('s3');
    expect(remote.config).toEqual({ bucket: 'xs-state', key: 'network.tfstate', region: 'eu-west-1' });
    const read = referencedOutputs(customerJson, REMOTE);
    expect(read.length).toBeGreaterThanOrEqual(6);
    for (const o of read) {
      expect(o).toMatch(/^cross-stack-output-/);
      expect(obj(obj(networkJson.output)[o]).sensitive).toBe(true);
    }
    expect(externalDataSources(customerJson)).toEqual([`data.terraform_remote_state.${REMOTE}`]);
  });
});

describe('remote-state stand-in (no terraform needed)', () => {
  const mirror = { mirrorDir: '/mirror', awsVersions: ['5.100.0'] };

  test('reads a state fabricated from exactly the outputs the producer declares, with plausible placeholders', () => {
    const before = fs.readFileSync(path.join(customerDir, 'cdk.tf.json'));
    const workDir = path.join(tmpDir('prep'), 'customer');
    // Default producers: the folder holding the stack (cdktf.out/stacks).
    const p = prepareOfflineStack(customerDir, workDir, mirror);
    const line = p.relaxations.find((r) => r.startsWith(`data.terraform_remote_state.${REMOTE} stood in for:`));
    console.log(`RELAXED ${line}`);
    expect(line).toMatch(/^data\.terraform_remote_state\.cross-stack-reference-input-network stood in for: backend "s3" \(s3:\/\/xs-state\/network\.tfstate\) replaced by backend "local" reading \$\{path\.module\}\/\.offline-remote-state\/network\.tfstate, .* from the declared outputs of stack network$/);
    expect(p.warnings).toEqual([]);

    const ds = obj(obj(obj(p.json.data).terraform_remote_state)[REMOTE]);
    expect(ds).toEqual({ backend: 'local', config: { path: '${path.module}/.offline-remote-state/network.tfstate' }, workspace: '${terraform.workspace}' });
    expect(p.externalDataSources).toEqual([]);

    const [standIn] = p.remoteStateStandIns;
    expect(standIn?.producer).toBe('network');
    expect(standIn?.stateFile).toBe(path.join(workDir, '.offline-remote-state', 'network.tfstate'));
    const state = JSON.parse(fs.readFileSync(standIn!.stateFile, 'utf8')) as { version: number; outputs: Record<string, { value: unknown; type: unknown; sensitive?: boolean }> };
    expect(state.version).toBe(4);
    expect(Object.keys(state.outputs).sort()).toEqual(declaredOutputs);
    expect(state.outputs.vpc_id?.sensitive).toBeUndefined();

    // The placeholders by the shape of what each output holds.
    const byExpr = (expr: string): unknown => {
      const name = Object.keys(obj(networkJson.output)).find((o) => obj(obj(networkJson.output)[o]).value === expr);
      expect(name).toBeDefined();
      expect(state.outputs[name!]?.sensitive).toBe(name!.startsWith('cross-stack-output-') ? true : undefined);
      return state.outputs[name!]?.value;
    };
    const vpcId = byExpr('${aws_vpc.vpc.id}');
    expect(vpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(state.outputs.vpc_id?.value).toBe(vpcId);
    expect(byExpr('${aws_security_group.alb-sg.id}')).toMatch(/^sg-[0-9a-f]{17}$/);
    // (The customer reads no ALB ARN; the listener's is built on it.)
    const albArn = placeholderValue('${aws_lb.alb.arn}', { producer: networkJson, notes: [] });
    expect(albArn).toMatch(new RegExp(`^arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/xs-alb/[0-9a-f]{16}$`));
    // The listener's ARN continues its load balancer's.
    const listenerArn = String(byExpr('${aws_lb_listener.http.arn}'));
    expect(listenerArn.startsWith(`${String(albArn).replace(':loadbalancer/', ':listener/')}/`)).toBe(true);
    expect(listenerArn).toMatch(/\/[0-9a-f]{16}$/);
    expect(byExpr('${aws_lb.alb.dns_name}')).toMatch(/^xs-alb-\d+\.eu-west-1\.elb\.amazonaws\.com$/);
    expect(byExpr('${aws_lb.alb.zone_id}')).toMatch(/^Z[A-Z0-9]{13}$/);
    // aws_lb.subnets is set in the producer: the list of its two subnets' ids.
    const subnets = byExpr('${aws_lb.alb.subnets}') as string[];
    expect(subnets).toHaveLength(2);
    for (const s of subnets) expect(s).toMatch(/^subnet-[0-9a-f]{17}$/);
    expect(new Set(subnets).size).toBe(2);
    const subnetsOutput = Object.keys(state.outputs).find((o) => Array.isArray(state.outputs[o]?.value));
    expect(state.outputs[subnetsOutput!]?.type).toEqual(['tuple', ['string', 'string']]);

    // The original stack folder is untouched.
    expect(fs.readFileSync(path.join(customerDir, 'cdk.tf.json')).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(customerDir, '.offline-remote-state'))).toBe(false);
  });

  test('an output the consumer reads but the producer does not declare is an error naming both', () => {
    const read = referencedOutputs(customerJson, REMOTE);
    const dropped = read.find((o) => o.includes('aws_vpc'))!;
    const dir = copyStacks((s) => {
      delete obj(s.network!.output)[dropped];
    });
    const workDir = path.join(tmpDir('prep-missing'), 'customer');
    expect(() => prepareOfflineStack(path.join(dir, 'customer'), workDir, mirror)).toThrow(
      new RegExp(
        `^data\\.terraform_remote_state\\.${REMOTE}: this stack reads output\\(s\\) ${dropped} that stack network does not declare ` +
          `\\(${path.join(dir, 'network', 'cdk.tf.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} declares: cross-stack-output-`,
      ),
    );
  });

  test('a producer that is not there, or one from another synth run, is an error', () => {
    const empty = tmpDir('no-stacks');
    expect(() => standInRemoteStates(JSON.parse(JSON.stringify(customerJson)), tmpDir('w'), producersFromStacksDir(empty))).toThrow(
      `data.terraform_remote_state.${REMOTE}: the producer stack "network" is not in ${empty} (stacks there: none); synthesize the producer together with this stack`,
    );
    const moved = JSON.parse(JSON.stringify(networkJson)) as JsonObject;
    obj(obj(obj(moved.terraform).backend).s3).key = 'elsewhere.tfstate';
    expect(() => standInRemoteStates(JSON.parse(JSON.stringify(customerJson)), tmpDir('w'), producersFromJson({ network: moved }))).toThrow(
      /reads key "network\.tfstate" but stack network keeps its state at key "elsewhere\.tfstate" .*different synth runs/,
    );
  });

  test('remote states not made by cdktf cross-stack references are left alone (and still need AWS)', () => {
    const json: JsonObject = { data: { terraform_remote_state: { shared: { backend: 's3', config: { bucket: 'b', key: 'k' } } } } };
    const r = standInRemoteStates(json, tmpDir('w'), producersFromJson({}));
    expect(r.relaxations).toEqual([]);
    expect(externalDataSources(json)).toEqual(['data.terraform_remote_state.shared']);
  });

  test('placeholders: shapes by attribute and resource type, literal arguments, lists, objects, templates; what cannot be derived is named', () => {
    const producer: JsonObject = {
      provider: { aws: [{ region: 'eu-central-1', allowed_account_ids: ['111122223333'] }, { alias: 'use1', region: 'us-east-1' }] },
      locals: { prefix: 'acme' },
      variable: { env: { default: 'dev' } },
      resource: {
        aws_vpc: { main: { cidr_block: '10.1.0.0/16' } },
        aws_subnet: { a: { vpc_id: '${aws_vpc.main.id}' }, b: { vpc_id: '${aws_vpc.main.id}' } },
        aws_s3_bucket: { logs: { bucket: '${local.prefix}-logs-${var.env}' } },
        aws_kms_key: { key: {} },
        aws_iam_role: { deploy: { name: 'deployer' } },
        aws_acm_certificate: { cert: { provider: 'aws.use1', domain_name: 'example.com' } },
        aws_eip: { nat: {} },
        aws_route53_zone: { zone: { name: 'example.com' } },
        aws_lb: { alb: { name: 'web', subnets: ['${aws_subnet.a.id}', '${aws_subnet.b.id}'] } },
        aws_widget: { w: {} },
      },
    };
    const value = (v: string | JsonObject | unknown[]) => {
      const ctx: PlaceholderContext = { producer, notes: [] };
      return { v: placeholderValue(v as never, ctx), notes: ctx.notes };
    };
    expect(value('${aws_vpc.main.id}').v).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(value('${aws_vpc.main.arn}').v).toMatch(/^arn:aws:ec2:eu-central-1:111122223333:vpc\/vpc-[0-9a-f]{17}$/);
    expect(value('${aws_vpc.main.cidr_block}').v).toBe('10.1.0.0/16');
    expect(value('${aws_subnet.a.vpc_id}').v).toBe(value('${aws_vpc.main.id}').v);
    expect(value('${aws_s3_bucket.logs.bucket}').v).toBe('acme-logs-dev');
    expect(value('${aws_s3_bucket.logs.arn}').v).toBe('arn:aws:s3:::acme-logs-dev');
    expect(value('${aws_kms_key.key.arn}').v).toMatch(/^arn:aws:kms:eu-central-1:111122223333:key\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(value('${aws_iam_role.deploy.arn}').v).toBe('arn:aws:iam::111122223333:role/deployer');
    // The alias provider's region; its account is unknown (no allowed_account_ids): the default.
    expect(value('${aws_acm_certificate.cert.arn}').v).toMatch(/^arn:aws:acm:us-east-1:123456789012:certificate\//);
    expect(value('${aws_eip.nat.public_ip}').v).toMatch(/^203\.0\.113\.\d+$/);
    expect(value('${aws_eip.nat.id}').v).toMatch(/^eipalloc-[0-9a-f]{17}$/);
    expect(value('${aws_route53_zone.zone.zone_id}').v).toMatch(/^Z[A-Z0-9]{13}$/);
    expect(value('${aws_lb.alb.dns_name}').v).toMatch(/^web-\d+\.eu-central-1\.elb\.amazonaws\.com$/);
    expect(value('${aws_lb.alb.subnets}').v).toEqual([value('${aws_subnet.a.id}').v, value('${aws_subnet.b.id}').v]);
    expect(value('${tolist(aws_lb.alb.subnets)}').v).toHaveLength(2);
    expect(value('${element(tolist(aws_lb.alb.subnets), 1)}').v).toBe(value('${aws_subnet.b.id}').v);
    expect(value('${aws_lb.alb.security_groups}').v).toEqual([expect.stringMatching(/^sg-/), expect.stringMatching(/^sg-/)]);
    expect(value('${[aws_vpc.main.id, "x"]}').v).toEqual([value('${aws_vpc.main.id}').v, 'x']);
    expect(value(['${aws_subnet.a.id}', 'literal']).v).toEqual([value('${aws_subnet.a.id}').v, 'literal']);
    expect(value({ a: '${aws_subnet.a.id}', n: { cidr: '10.0.0.0/8' } } as JsonObject).v).toEqual({ a: value('${aws_subnet.a.id}').v, n: { cidr: '10.0.0.0/8' } });
    expect(value('https://${aws_lb.alb.dns_name}/health').v).toMatch(/^https:\/\/web-\d+\.eu-central-1\.elb\.amazonaws\.com\/health$/);
    expect(value('literal $${not.interpolated}').v).toBe('literal ${not.interpolated}');
    // No rule: a string, and the expression is named.
    expect(value('${aws_widget.w.sprocket}')).toEqual({ v: 'offline-w-sprocket', notes: ['aws_widget.w.sprocket'] });
    expect(value('${timestamp()}')).toEqual({ v: 'offline-placeholder', notes: ['timestamp()'] });
    // State types follow the value.
    expect(ctyType({ a: ['x', 1, true] })).toEqual(['object', { a: ['tuple', ['string', 'number', 'bool']] }]);
  });

  test('referencedOutputs finds dotted and indexed reads of one remote state only', () => {
    const json: JsonObject = {
      resource: {
        x: {
          y: {
            a: '${data.terraform_remote_state.r.outputs.one}',
            b: ['${data.terraform_remote_state.r.outputs["two-2"]}', '${data.terraform_remote_state.other.outputs.three}'],
          },
        },
      },
    };
    expect(referencedOutputs(json, 'r')).toEqual(['one', 'two-2']);
  });
});

describe('several stacks in one run: the child-module relaxation (no terraform needed)', () => {
  test('relative file paths, file() arguments and path.root/path.cwd become ${path.module}; nested archive source filenames stay', () => {
    const json: JsonObject = {
      resource: {
        aws_lambda_function: { fn: { filename: 'assets/fn/ABC/fn.zip', role: 'r', source_code_hash: '${filebase64sha256("assets/fn/ABC/fn.zip")}' } },
        aws_s3_object: { obj: { source: '${path.root}/x.txt', bucket: 'b', key: 'k' } },
      },
      data: { archive_file: { z: { type: 'zip', output_path: 'build/z.zip', source: [{ filename: 'inside-the-zip.txt', content: 'x' }] } } },
      locals: { keep: { output_path: '${path.module}/ok.zip' } },
    };
    const { json: out, relaxations } = asChildModule(json, 'dev', ['prod']);
    const res = obj(out.resource);
    expect(obj(obj(res.aws_lambda_function).fn).filename).toBe('${path.module}/assets/fn/ABC/fn.zip');
    expect(obj(obj(res.aws_lambda_function).fn).source_code_hash).toBe('${filebase64sha256("${path.module}/assets/fn/ABC/fn.zip")}');
    expect(obj(obj(res.aws_s3_object).obj).source).toBe('${path.module}/x.txt');
    expect(obj(obj(res.aws_s3_object).obj).key).toBe('k');
    const z = obj(obj(obj(out.data).archive_file).z);
    expect(z.output_path).toBe('${path.module}/build/z.zip');
    expect(z.source).toEqual([{ filename: 'inside-the-zip.txt', content: 'x' }]);
    expect(obj(obj(out.locals).keep).output_path).toBe('${path.module}/ok.zip');
    expect(relaxations).toHaveLength(1);
    expect(relaxations[0]).toMatch(/^planned as module\.dev of one root module together with prod \(one terraform init, validate and plan for 2 stack\(s\)\);/);
    expect(relaxations[0]).toContain('relative paths rewritten to ${path.module}');
    expect(relaxations[0]).toContain('aws_lambda_function.fn.filename "assets/fn/ABC/fn.zip"');
    // Nothing to rewrite: the line says only what placement means.
    expect(asChildModule({ resource: {} }, 'a', []).relaxations[0]).not.toContain('rewritten');
  });

  test('import blocks (root module only) and a leftover backend are errors naming the stack', () => {
    expect(() => asChildModule({ import: [{ to: 'aws_s3_bucket.b', id: 'b' }] }, 'dev', [])).toThrow(/^stack dev has import blocks, which Terraform allows only in a root module/);
    expect(() => asChildModule({ terraform: { backend: { s3: {} } } }, 'dev', [])).toThrow(/^stack dev still has a terraform\.backend/);
  });

  test('the root module calls each stack and re-exports its outputs with their own sensitive flag', () => {
    const root = rootModuleJson([
      { moduleName: 'network', json: { output: { vpc_id: { value: 'x' }, secret: { value: 'y', sensitive: true } } } },
      { moduleName: 'customer', json: {} },
    ]);
    expect(root.module).toEqual({ network: { source: './network' }, customer: { source: './customer' } });
    expect(root.output).toEqual({
      'network--vpc_id': { value: '${module.network.vpc_id}' },
      'network--secret': { value: '${module.network.secret}', sensitive: true },
    });
  });

  test('diagnostics and plan errors are attributed to the stack they are about', () => {
    const modules = ['network', 'customer'];
    expect(diagnosticModule({ severity: 'error', summary: 's', range: { filename: 'customer/cdk.tf.json', start: { line: 1, column: 1 } } }, modules)).toBe('customer');
    expect(diagnosticModule({ severity: 'error', summary: 's', range: { filename: 'main.tf.json', start: { line: 1, column: 1 } }, snippet: { context: 'output "network--leak"' } }, modules)).toBe('network');
    expect(diagnosticModule({ severity: 'error', summary: 's' }, modules)).toBeUndefined();
    const text = [
      'Error: Output refers to sensitive values',
      '',
      '  on main.tf.json line 39, in output:',
      '  39:     "network--leak": {',
      '',
      'Error: Invalid reference',
      '',
      '  with module.customer.aws_subnet.x,',
      '  on customer/cdk.tf.json line 3, in resource:',
    ].join('\n');
    expect([...blamedModules(text, modules)].sort()).toEqual(['customer', 'network']);
    expect([...blamedModules('Error: Failed to load plugin schemas', modules)]).toEqual([]);
  });
});

describe('offline terraform plan with cross-stack references (real terraform + mirrored aws provider)', () => {
  test(
    'the customer stack plans offline against the stand-in, with the placeholders in its planned values',
    async () => {
      if (gate.skipIfUnavailable('customer stack plans offline')) return;
      const r = await offlinePlan(customerDir, { discovery: gate.discovery, includePlanJson: true });
      logOfflinePlan(r);
      if (!r.ok) throw new Error(`${r.failure?.phase}: ${r.failure?.message}`);
      expect(r.relaxations).toContainEqual(expect.stringMatching(/^data\.terraform_remote_state\.cross-stack-reference-input-network stood in for: .* from the declared outputs of stack network$/));
      expect(r.externalDataSources).toEqual([]);
      expect(r.plan?.counts).toEqual({ create: declaredResourceCount(customerJson).total, update: 0, delete: 0, replace: 0, noop: 0, read: 0 });
      expect(r.plan?.createAddresses).toEqual(addresses(customerJson));

      const after = (address: string): JsonObject => obj(r.planJson?.resource_changes?.find((rc) => rc.address === address)?.change.after);
      expect(after('aws_security_group.web').vpc_id).toMatch(/^vpc-[0-9a-f]{17}$/);
      expect(after('aws_lb_target_group.shop').vpc_id).toBe(after('aws_security_group.web').vpc_id);
      expect(after('aws_lb_listener_rule.shop-rule').listener_arn).toMatch(
        new RegExp(`^arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/app/xs-alb/[0-9a-f]{16}/[0-9a-f]{16}$`),
      );
      expect(after('aws_vpc_security_group_ingress_rule.web-from-alb').referenced_security_group_id).toMatch(/^sg-[0-9a-f]{17}$/);
      const alias = (after('aws_route53_record.shop-dns').alias as JsonObject[])[0];
      expect(alias?.name).toMatch(/^xs-alb-\d+\.eu-west-1\.elb\.amazonaws\.com$/);
      expect(alias?.zone_id).toMatch(/^Z[A-Z0-9]{13}$/);
      expect(after('aws_network_interface.web-eni').subnet_id).toMatch(/^subnet-[0-9a-f]{17}$/);
    },
    TF_TIMEOUT,
  );

  test(
    'offlinePlanMany: both stacks in one terraform run, each with its own resource count',
    async () => {
      if (gate.skipIfUnavailable('offlinePlanMany of two stacks')) return;
      const r = await offlinePlanMany([networkDir, customerDir], { discovery: gate.discovery, includePlanJson: true });
      logOfflinePlanMany(r);
      expect(r.failure).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.stacks.map((s) => s.stackName)).toEqual(['network', 'customer']);
      for (const [s, json] of [
        [r.stacks[0]!, networkJson],
        [r.stacks[1]!, customerJson],
      ] as const) {
        expect(s.ok).toBe(true);
        expect(s.plan?.counts).toEqual({ create: declaredResourceCount(json).total, update: 0, delete: 0, replace: 0, noop: 0, read: 0 });
        expect(s.plan?.createAddresses).toEqual(addresses(json));
        expect(s.sharedRun).toEqual({ module: s.stackName, stacks: ['network', 'customer'] });
        expect(s.relaxations).toContainEqual(expect.stringMatching(new RegExp(`^planned as module\\.${s.stackName} of one root module together with`)));
      }
      // The plan itself addresses each stack's resources under its module.
      const all = (r.planJson?.resource_changes ?? []).map((rc) => rc.address);
      expect(all.filter((a) => a.startsWith('module.network.')).length).toBe(declaredResourceCount(networkJson).total);
      expect(all.filter((a) => !a.startsWith('module.network.') && !a.startsWith('module.customer.'))).toEqual([]);
      expect(r.stacks[1]!.relaxations).toContainEqual(expect.stringContaining(`data.terraform_remote_state.${REMOTE} stood in for`));
    },
    TF_TIMEOUT,
  );

  test(
    'offlinePlanMany still applies the root-output check to each stack, and names the stack at fault',
    async () => {
      if (gate.skipIfUnavailable('offlinePlanMany root-output check')) return;
      // An output carrying a sensitive value without `sensitive = true`: an error in a root module
      // (a plan of the stack alone), not in a child module unless the harness re-exports it.
      const dir = copyStacks((s) => {
        s.network!.variable = { secret: { default: 'not-for-output', sensitive: true } };
        obj(s.network!.output).leak = { value: '${var.secret}' };
      });
      const r = await offlinePlanMany([path.join(dir, 'network'), path.join(dir, 'customer')], { discovery: gate.discovery });
      logOfflinePlanMany(r);
      expect(r.ok).toBe(false);
      const [network, customer] = r.stacks;
      expect(network?.failure?.message).toContain('Output refers to sensitive values');
      expect(network?.failure?.message).toContain('"network--leak"');
      expect(customer?.failure).toEqual({ phase: network?.failure?.phase, message: `not planned: terraform ${network?.failure?.phase} failed in network of the same run` });
    },
    TF_TIMEOUT,
  );
});
