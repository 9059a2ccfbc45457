/**
 * Helpers of the cross-stack remote-state stand-in (see standInRemoteStates in relaxations.ts).
 *
 * cdktf's cross-stack references synthesize, in the consumer,
 * `data.terraform_remote_state.cross-stack-reference-input-<producer>` (the producer's backend
 * and its config) read as `...outputs.cross-stack-output-<id>`, and in the producer one `output`
 * per referenced attribute. Offline there is no S3, so the consumer reads instead a state file
 * fabricated from the producer's declared outputs, each given a placeholder value of a plausible
 * shape derived from the output's expression (placeholderValue).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { blocks, isObject, Json, JsonObject } from './stack-json';

/** Name prefix cdktf gives the remote state of a cross-stack reference; the rest is the producer stack. */
export const CROSS_STACK_INPUT_PREFIX = 'cross-stack-reference-input-';

/** A producer stack's synthesized JSON, and where it was read from (for messages). */
export interface ProducerStack {
  stackName: string;
  json: JsonObject;
  source: string;
}

/** Finds producer stacks by name. */
export interface ProducerResolver {
  /** The producer's synthesized JSON, or undefined when there is no such stack. Throws when it cannot be read. */
  find(producer: string): ProducerStack | undefined;
  /** Where producers are looked up and which exist, for messages. */
  where(): string;
}

/** Stacks synthesized in a stacks folder. */
export function stacksIn(stacksDir: string): string[] {
  try {
    return fs
      .readdirSync(stacksDir)
      .filter((d) => fs.existsSync(path.join(stacksDir, d, 'cdk.tf.json')))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The producers of a synth output: `<stacksDir>/<producer>/cdk.tf.json`, where stacksDir is the
 * `stacks` folder of the synth output (cdktf.out/stacks), the folder holding the consumer too.
 */
export function producersFromStacksDir(stacksDir: string): ProducerResolver {
  const dir = path.resolve(stacksDir);
  return {
    find(producer) {
      const file = path.join(dir, producer, 'cdk.tf.json');
      if (!fs.existsSync(file)) return undefined;
      try {
        return { stackName: producer, json: JSON.parse(fs.readFileSync(file, 'utf8')) as JsonObject, source: file };
      } catch (e) {
        throw new Error(`stack ${producer}: ${file} is not readable JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    where() {
      const stacks = stacksIn(dir);
      return `${dir} (stacks there: ${stacks.length ? stacks.join(', ') : 'none'})`;
    },
  };
}

/** Producers given as JSON objects by stack name (for tests and callers that hold the JSON already). */
export function producersFromJson(stacks: Record<string, JsonObject>): ProducerResolver {
  return {
    find: (producer) => (Object.prototype.hasOwnProperty.call(stacks, producer) ? { stackName: producer, json: stacks[producer] as JsonObject, source: `stack ${producer} (given as JSON)` } : undefined),
    where: () => `the stacks given (${Object.keys(stacks).sort().join(', ') || 'none'})`,
  };
}

/** Output names read from a remote state anywhere in a stack: `data.terraform_remote_state.<name>.outputs.<output>`. */
export function referencedOutputs(json: Json, remoteStateName: string): string[] {
  const found = new Set<string>();
  const esc = remoteStateName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const dotted = new RegExp(`data\\.terraform_remote_state\\.${esc}\\.outputs(?:\\.([A-Za-z_][A-Za-z0-9_-]*)|\\[\\s*"([^"]+)"\\s*\\])`, 'g');
  const visit = (v: Json): void => {
    if (typeof v === 'string') {
      for (let m = dotted.exec(v); m; m = dotted.exec(v)) found.add((m[1] ?? m[2]) as string);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (isObject(v)) Object.values(v).forEach(visit);
  };
  visit(json);
  return [...found].sort();
}

// ---------------------------------------------------------------------------
// Placeholder values
// ---------------------------------------------------------------------------

/** Where placeholders come from: the producer's resources, locals, variables and aws provider. */
export interface PlaceholderContext {
  producer: JsonObject;
  /** Notes on values whose shape could not be derived (they became strings). */
  notes: string[];
}

const DEFAULT_REGION = 'us-east-1';
const DEFAULT_ACCOUNT = '123456789012';
const MAX_DEPTH = 8;
/** The value of what has no derivable shape. */
const PLACEHOLDER = 'offline-placeholder';

function hash(seed: string): string {
  return crypto.createHash('sha256').update(seed).digest('hex');
}

function hex(seed: string, n: number): string {
  return hash(seed).slice(0, n);
}

function uuid(seed: string): string {
  const h = hash(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A Route 53 style id: "Z" and 13 upper-case letters and digits. */
function zoneId(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const h = hash(seed);
  let out = 'Z';
  for (let i = 0; i < 13; i++) out += alphabet[Number.parseInt(h.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}

/** Resource id prefixes of EC2-style resources. */
const ID_PREFIX: Record<string, string> = {
  aws_vpc: 'vpc',
  aws_subnet: 'subnet',
  aws_security_group: 'sg',
  aws_default_security_group: 'sg',
  aws_internet_gateway: 'igw',
  aws_egress_only_internet_gateway: 'eigw',
  aws_nat_gateway: 'nat',
  aws_route_table: 'rtb',
  aws_default_route_table: 'rtb',
  aws_network_acl: 'acl',
  aws_network_interface: 'eni',
  aws_eip: 'eipalloc',
  aws_instance: 'i',
  aws_vpc_endpoint: 'vpce',
  aws_launch_template: 'lt',
  aws_flow_log: 'fl',
  aws_ebs_volume: 'vol',
  aws_ami: 'ami',
  aws_ec2_transit_gateway: 'tgw',
  aws_vpc_security_group_ingress_rule: 'sgr',
  aws_vpc_security_group_egress_rule: 'sgr',
  aws_ec2_managed_prefix_list: 'pl',
  aws_vpc_peering_connection: 'pcx',
  aws_customer_gateway: 'cgw',
  aws_vpn_gateway: 'vgw',
};

/** Resource types whose id is their ARN. */
const ID_IS_ARN = new Set([
  'aws_lb',
  'aws_alb',
  'aws_lb_listener',
  'aws_alb_listener',
  'aws_lb_target_group',
  'aws_alb_target_group',
  'aws_lb_listener_rule',
  'aws_alb_listener_rule',
  'aws_acm_certificate',
  'aws_acm_certificate_validation',
  'aws_sns_topic',
  'aws_iam_policy',
  'aws_codebuild_project',
  'aws_sfn_state_machine',
]);

/** Plural attributes that are lists of ids of another resource type. */
const LIST_OF_IDS: Record<string, string> = {
  subnets: 'aws_subnet',
  subnet_ids: 'aws_subnet',
  security_groups: 'aws_security_group',
  security_group_ids: 'aws_security_group',
  vpc_security_group_ids: 'aws_security_group',
  route_table_ids: 'aws_route_table',
  network_interface_ids: 'aws_network_interface',
};

/** Attributes named `<x>_arn` / `<x>_id` that hold the ARN / id of another resource type. */
const REFERENCED_TYPE: Record<string, string> = {
  certificate: 'aws_acm_certificate',
  kms_key: 'aws_kms_key',
  key: 'aws_kms_key',
  role: 'aws_iam_role',
  execution_role: 'aws_iam_role',
  target_group: 'aws_lb_target_group',
  listener: 'aws_lb_listener',
  load_balancer: 'aws_lb',
  topic: 'aws_sns_topic',
  queue: 'aws_sqs_queue',
  function: 'aws_lambda_function',
  log_group: 'aws_cloudwatch_log_group',
  instance_profile: 'aws_iam_instance_profile',
  allocation: 'aws_eip',
  policy: 'aws_iam_policy',
};

/** Attribute, resource type and name of a reference, e.g. aws_lb.ingress_alb.dns_name. */
interface Ref {
  mode: 'managed' | 'data';
  type: string;
  name: string;
  attr: string;
}

function resourceConfig(ctx: PlaceholderContext, ref: Pick<Ref, 'mode' | 'type' | 'name'>): JsonObject | undefined {
  const section = ctx.producer[ref.mode === 'data' ? 'data' : 'resource'];
  if (!isObject(section)) return undefined;
  const byName = section[ref.type];
  if (!isObject(byName)) return undefined;
  return blocks(byName[ref.name])[0];
}

/** Region and account of the aws provider block a resource uses (literal values only). */
function regionAndAccount(ctx: PlaceholderContext, cfg: JsonObject | undefined): { region: string; account: string } {
  const providers = isObject(ctx.producer.provider) ? blocks(ctx.producer.provider.aws) : [];
  const wanted = typeof cfg?.provider === 'string' ? /^aws\.(.+)$/.exec(cfg.provider)?.[1] : undefined;
  const p = wanted ? providers.find((b) => b.alias === wanted) : (providers.find((b) => b.alias === undefined) ?? providers[0]);
  const region = typeof p?.region === 'string' && !p.region.includes('${') ? p.region : DEFAULT_REGION;
  const allowed = Array.isArray(p?.allowed_account_ids) ? p.allowed_account_ids[0] : undefined;
  const account = typeof allowed === 'string' && /^\d{12}$/.test(allowed) ? allowed : DEFAULT_ACCOUNT;
  return { region, account };
}

/** A literal string argument of a resource (or of what it references, followed once). */
function literalArg(ctx: PlaceholderContext, cfg: JsonObject | undefined, keys: string[], depth: number): string | undefined {
  for (const k of keys) {
    const v = cfg?.[k];
    if (v === undefined) continue;
    // A scratch context: an argument that cannot be derived only means "use a made-up name".
    const derived = derive(v, { producer: ctx.producer, notes: [] }, depth + 1);
    if (typeof derived === 'string' && derived !== '' && derived !== PLACEHOLDER) return derived;
  }
  return undefined;
}

/** A name for a resource: its name/bucket/function_name argument, else one made from its logical name. */
function nameOf(ctx: PlaceholderContext, ref: Pick<Ref, 'name'>, cfg: JsonObject | undefined, depth: number, maxLength = 63): string {
  const lit = literalArg(ctx, cfg, ['name', 'bucket', 'function_name', 'queue_name', 'topic_name'], depth);
  if (lit) return lit;
  const prefix = literalArg(ctx, cfg, ['name_prefix', 'bucket_prefix'], depth);
  const base = (prefix ?? '') + `offline-${ref.name}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return base.slice(0, maxLength).replace(/-+$/, '');
}

function idOf(ctx: PlaceholderContext, ref: Ref, cfg: JsonObject | undefined, depth: number): Json {
  const seed = `${ref.type}.${ref.name}`;
  const prefix = ID_PREFIX[ref.type];
  if (prefix) return `${prefix}-${hex(seed, 17)}`;
  if (ID_IS_ARN.has(ref.type)) return arnOf(ctx, ref, cfg, depth);
  switch (ref.type) {
    case 'aws_kms_key':
      return uuid(seed);
    case 'aws_route53_zone':
      return zoneId(seed);
    case 'aws_apigatewayv2_api':
    case 'aws_api_gateway_rest_api':
      return hex(seed, 10);
    case 'aws_sqs_queue': {
      const { region, account } = regionAndAccount(ctx, cfg);
      return `https://sqs.${region}.amazonaws.com/${account}/${nameOf(ctx, ref, cfg, depth, 80)}`;
    }
    case 'aws_security_group_rule':
      return `sgrule-${Number.parseInt(hex(seed, 8), 16)}`;
    default:
      // Most other aws resources use their name as id (buckets, roles, log groups, functions, parameters).
      return nameOf(ctx, ref, cfg, depth);
  }
}

function arnOf(ctx: PlaceholderContext, ref: Ref, cfg: JsonObject | undefined, depth: number): string {
  const { region: r, account: a } = regionAndAccount(ctx, cfg);
  const seed = `${ref.type}.${ref.name}`;
  const name = (max = 63): string => nameOf(ctx, ref, cfg, depth, max);
  const elb = `arn:aws:elasticloadbalancing:${r}:${a}`;
  const lbKind = cfg?.load_balancer_type === 'network' ? 'net' : cfg?.load_balancer_type === 'gateway' ? 'gwy' : 'app';
  switch (ref.type) {
    case 'aws_lb':
    case 'aws_alb':
      return `${elb}:loadbalancer/${lbKind}/${name(32)}/${hex(seed, 16)}`;
    case 'aws_lb_listener':
    case 'aws_alb_listener': {
      // listener/<the load balancer's app/<name>/<id>>/<id>
      const lb = /:loadbalancer\/(.+)$/.exec(literalArg(ctx, cfg, ['load_balancer_arn'], depth) ?? '')?.[1];
      return `${elb}:listener/${lb ?? `app/offline-lb/${hex(`${seed}.lb`, 16)}`}/${hex(seed, 16)}`;
    }
    case 'aws_lb_listener_rule':
    case 'aws_alb_listener_rule': {
      const listener = /:listener\/(.+)$/.exec(literalArg(ctx, cfg, ['listener_arn'], depth) ?? '')?.[1];
      return `${elb}:listener-rule/${listener ?? `app/offline-lb/${hex(`${seed}.lb`, 16)}/${hex(`${seed}.listener`, 16)}`}/${hex(seed, 16)}`;
    }
    case 'aws_lb_target_group':
    case 'aws_alb_target_group':
      return `${elb}:targetgroup/${name(32)}/${hex(seed, 16)}`;
    case 'aws_kms_key':
      return `arn:aws:kms:${r}:${a}:key/${uuid(seed)}`;
    case 'aws_kms_alias':
      return `arn:aws:kms:${r}:${a}:${name()}`;
    case 'aws_s3_bucket':
      return `arn:aws:s3:::${name()}`;
    case 'aws_iam_role':
      return `arn:aws:iam::${a}:role/${name()}`;
    case 'aws_iam_policy':
      return `arn:aws:iam::${a}:policy/${name()}`;
    case 'aws_iam_user':
      return `arn:aws:iam::${a}:user/${name()}`;
    case 'aws_iam_instance_profile':
      return `arn:aws:iam::${a}:instance-profile/${name()}`;
    case 'aws_acm_certificate':
    case 'aws_acm_certificate_validation':
      return `arn:aws:acm:${r}:${a}:certificate/${uuid(seed)}`;
    case 'aws_sns_topic':
      return `arn:aws:sns:${r}:${a}:${name(256)}`;
    case 'aws_sqs_queue':
      return `arn:aws:sqs:${r}:${a}:${name(80)}`;
    case 'aws_lambda_function':
      return `arn:aws:lambda:${r}:${a}:function:${name()}`;
    case 'aws_cloudwatch_log_group':
      return `arn:aws:logs:${r}:${a}:log-group:${name(512)}`;
    case 'aws_cloudwatch_event_rule':
      return `arn:aws:events:${r}:${a}:rule/${name()}`;
    case 'aws_codebuild_project':
      return `arn:aws:codebuild:${r}:${a}:project/${name()}`;
    case 'aws_ssm_parameter':
      return `arn:aws:ssm:${r}:${a}:parameter/${name(2048).replace(/^\//, '')}`;
    case 'aws_route53_zone':
      return `arn:aws:route53:::hostedzone/${zoneId(seed)}`;
    case 'aws_apigatewayv2_api':
      return `arn:aws:apigateway:${r}::/apis/${hex(seed, 10)}`;
    case 'aws_cloudtrail':
      return `arn:aws:cloudtrail:${r}:${a}:trail/${name()}`;
    default: {
      const prefix = ID_PREFIX[ref.type];
      if (prefix) {
        // EC2 resources: arn:aws:ec2:<region>:<account>:<kind>/<id>.
        const kind = ref.type.replace(/^aws_(default_)?/, '').replace(/_/g, '-');
        return `arn:aws:ec2:${r}:${a}:${kind}/${prefix}-${hex(seed, 17)}`;
      }
      const service = ref.type.split('_')[1] ?? 'offline';
      const kind = ref.type.split('_').slice(2).join('-') || service;
      return `arn:aws:${service}:${r}:${a}:${kind}/${name()}`;
    }
  }
}

/** The placeholder of one attribute of a resource or data source. */
function attributeValue(ctx: PlaceholderContext, ref: Ref, depth: number): Json {
  const cfg = resourceConfig(ctx, ref);
  const { attr } = ref;
  // An argument set in the producer's configuration is what the attribute will hold.
  if (cfg && attr in cfg && attr !== '//' && attr !== 'provider' && attr !== 'depends_on') return derive(cfg[attr] as Json, ctx, depth + 1);
  const { region, account } = regionAndAccount(ctx, cfg);
  const seed = `${ref.type}.${ref.name}.${attr}`;
  const listOf = LIST_OF_IDS[attr];
  if (listOf) return [0, 1].map((i) => idOf(ctx, { mode: 'managed', type: listOf, name: `${ref.name}-${i}`, attr: 'id' }, undefined, depth + 1));
  switch (attr) {
    case 'id':
      return idOf(ctx, ref, cfg, depth);
    case 'arn':
      return arnOf(ctx, ref, cfg, depth);
    case 'name':
      return nameOf(ctx, ref, cfg, depth);
    case 'dns_name':
      return `${nameOf(ctx, ref, cfg, depth, 32)}-${Number.parseInt(hex(seed, 8), 16)}.${region}.elb.amazonaws.com`;
    case 'zone_id':
    case 'hosted_zone_id':
      return zoneId(seed);
    case 'arn_suffix':
      return arnOf(ctx, ref, cfg, depth).replace(/^arn:[^:]*:[^:]*:[^:]*:[^:]*:(loadbalancer\/)?/, '');
    case 'owner_id':
    case 'account_id':
      return account;
    case 'key_id':
      return uuid(`${ref.type}.${ref.name}`);
    case 'bucket':
      return nameOf(ctx, ref, cfg, depth);
    case 'bucket_domain_name':
      return `${nameOf(ctx, ref, cfg, depth)}.s3.amazonaws.com`;
    case 'bucket_regional_domain_name':
      return `${nameOf(ctx, ref, cfg, depth)}.s3.${region}.amazonaws.com`;
    case 'api_endpoint':
    case 'invoke_url':
      return `https://${hex(`${ref.type}.${ref.name}`, 10)}.execute-api.${region}.amazonaws.com`;
    case 'public_ip':
      return `203.0.113.${(Number.parseInt(hex(seed, 2), 16) % 254) + 1}`;
    case 'private_ip':
      return `10.0.0.${(Number.parseInt(hex(seed, 2), 16) % 254) + 1}`;
    case 'cidr_block':
      return '10.0.0.0/16';
    case 'availability_zones':
      return [`${region}a`, `${region}b`];
    case 'cidr_blocks':
      return ['10.0.0.0/16'];
    default:
      if (attr.endsWith('_arn')) {
        const base = attr.slice(0, -4);
        return arnOf(ctx, { ...ref, name: `${ref.name}-${base}`, type: REFERENCED_TYPE[base] ?? `aws_${base}` }, undefined, depth);
      }
      if (attr.endsWith('_id')) {
        const base = attr.slice(0, -3);
        return idOf(ctx, { ...ref, name: `${ref.name}-${base}`, type: REFERENCED_TYPE[base] ?? `aws_${base}` }, undefined, depth);
      }
      ctx.notes.push(`${ref.mode === 'data' ? 'data.' : ''}${ref.type}.${ref.name}.${attr}`);
      return `offline-${ref.name}-${attr}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  }
}

/** Splits a template into literal parts and the expressions of its `${...}` interpolations. */
function interpolations(s: string): Array<{ literal: string } | { expr: string }> | undefined {
  const parts: Array<{ literal: string } | { expr: string }> = [];
  let i = 0;
  let lit = '';
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      lit += '${';
      i += 3;
    } else if (s.startsWith('${', i)) {
      let depth = 1;
      let j = i + 2;
      let inString = false;
      for (; j < s.length && depth > 0; j++) {
        const c = s[j];
        if (inString) {
          if (c === '\\') j++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}') depth--;
      }
      if (depth !== 0) return undefined;
      if (lit) parts.push({ literal: lit });
      lit = '';
      parts.push({ expr: s.slice(i + 2, j - 1) });
      i = j;
    } else {
      lit += s[i];
      i++;
    }
  }
  if (lit) parts.push({ literal: lit });
  return parts;
}

/** Top-level comma-separated items of a bracketed list or call's arguments. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (inString) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function asString(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The placeholder of one HCL expression (the inside of `${...}`). */
function deriveExpr(raw: string, ctx: PlaceholderContext, depth: number): Json {
  const expr = raw.trim();
  if (depth > MAX_DEPTH) {
    ctx.notes.push(expr);
    return PLACEHOLDER;
  }
  const call = /^([a-z][a-z0-9_]*)\(([\s\S]*)\)$/.exec(expr);
  if (call) {
    const [, fn, argText] = call as unknown as [string, string, string];
    const args = splitTopLevel(argText);
    const first = args[0] !== undefined ? deriveExpr(args[0], ctx, depth + 1) : null;
    switch (fn) {
      case 'tolist':
      case 'toset':
      case 'flatten':
      case 'compact':
      case 'distinct':
      case 'sort':
        return Array.isArray(first) ? first : [first];
      case 'tostring':
      case 'lower':
      case 'upper':
      case 'trimspace':
        return asString(first);
      case 'element': {
        if (!Array.isArray(first)) return first;
        const i = Number.parseInt(args[1] ?? '0', 10);
        return first.length ? (first[(Number.isNaN(i) ? 0 : i) % first.length] ?? null) : null;
      }
      case 'join': {
        const list = args[1] !== undefined ? deriveExpr(args[1], ctx, depth + 1) : [];
        const sep = typeof first === 'string' ? first : ',';
        return Array.isArray(list) ? list.map(asString).join(sep) : asString(list);
      }
      case 'jsonencode':
        return JSON.stringify(first);
      case 'length':
        return Array.isArray(first) ? first.length : 1;
      case 'tomap':
        return first;
      default:
        ctx.notes.push(expr);
        return PLACEHOLDER;
    }
  }
  if (/^"([^"\\$]|\\.)*"$/.test(expr)) return JSON.parse(expr) as string;
  if (/^-?\d+(\.\d+)?$/.test(expr)) return Number(expr);
  if (expr === 'true' || expr === 'false') return expr === 'true';
  if (expr.startsWith('[') && expr.endsWith(']') && !/^\[\s*for\s/.test(expr)) {
    return splitTopLevel(expr.slice(1, -1)).map((x) => deriveExpr(x, ctx, depth + 1));
  }
  // A reference, optionally indexed: [data.]<type>.<name>[<index>].<attr>[<index>|.*]...
  const ref = /^(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\[[^\]]*\])?\.([a-z_][a-z0-9_]*)((?:\[\d+\]|\.\*|\[\*\])*)$/.exec(expr);
  if (ref && ref[2] !== 'local' && ref[2] !== 'var' && ref[2] !== 'path' && ref[2] !== 'module') {
    const value = attributeValue(ctx, { mode: ref[1] ? 'data' : 'managed', type: ref[2] as string, name: ref[3] as string, attr: ref[4] as string }, depth);
    const index = /^\[(\d+)\]/.exec(ref[5] ?? '');
    if (index && Array.isArray(value)) return value[Number(index[1]) % Math.max(value.length, 1)] ?? null;
    return value;
  }
  const local = /^local\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expr);
  if (local && isObject(ctx.producer.locals) && ctx.producer.locals[local[1] as string] !== undefined) {
    return derive(ctx.producer.locals[local[1] as string] as Json, ctx, depth + 1);
  }
  const variable = /^var\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expr);
  if (variable && isObject(ctx.producer.variable)) {
    const decl = blocks(ctx.producer.variable[variable[1] as string])[0];
    if (decl && decl.default !== undefined) return derive(decl.default, ctx, depth + 1);
  }
  ctx.notes.push(expr);
  return PLACEHOLDER;
}

/** The placeholder of a JSON value of the producer's configuration (strings may interpolate). */
function derive(v: Json, ctx: PlaceholderContext, depth: number): Json {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v.replace(/\$\$\{/g, '${');
    const parts = interpolations(v);
    if (!parts) {
      ctx.notes.push(v);
      return PLACEHOLDER;
    }
    const only = parts[0];
    if (parts.length === 1 && only && 'expr' in only) return deriveExpr(only.expr, ctx, depth);
    return parts.map((p) => ('literal' in p ? p.literal : asString(deriveExpr(p.expr, ctx, depth)))).join('');
  }
  if (Array.isArray(v)) return v.map((x) => derive(x, ctx, depth));
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (k !== '//') out[k] = derive(x, ctx, depth);
    return out;
  }
  return v;
}

/**
 * A placeholder for a value of the producer's configuration (an output's `value`): literals stay
 * as they are, references get a value of the referenced attribute's shape (an ARN for `arn`, a
 * `vpc-`/`subnet-`/`sg-` id for those resources' `id`, an ELB DNS name for `dns_name`, a `Z...`
 * id for `zone_id`, a list for list attributes and list expressions, the argument itself when
 * the producer sets it). What cannot be derived becomes a string and is named in ctx.notes.
 */
export function placeholderValue(value: Json, ctx: PlaceholderContext): Json {
  return derive(value, ctx, 0);
}

/** The type of a value in Terraform's state JSON (cty type syntax). */
export function ctyType(v: Json): Json {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'dynamic';
  if (Array.isArray(v)) return ['tuple', v.map(ctyType)];
  return ['object', Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ctyType(x)]))];
}

/** A state file (format version 4) holding only outputs. */
export function stateFileJson(lineageSeed: string, outputs: Record<string, { value: Json; sensitive: boolean }>): JsonObject {
  const out: JsonObject = {};
  for (const [name, o] of Object.entries(outputs)) out[name] = { value: o.value, type: ctyType(o.value), ...(o.sensitive ? { sensitive: true } : {}) };
  return {
    version: 4,
    // Old enough for any terraform >= 1.0 to read.
    terraform_version: '1.0.0',
    serial: 1,
    lineage: uuid(`offline-remote-state/${lineageSeed}`),
    outputs: out,
    resources: [],
  };
}
