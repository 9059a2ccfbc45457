/**
 * The config reference, docs/config.md, generated from the JSON Schema that zod 4 derives from the
 * config schema (`z.toJSONSchema`, the same one `npm run config-schema` writes to
 * config/platform.schema.json): one section per object of the config, one table row per field with
 * its path, type, whether it is required, default, allowed values or pattern, and the `.describe()`
 * text. What the JSON Schema cannot express (cross-field checks in stacks/model/config/validate.ts, a
 * refinement such as CloudWatch's retention periods) is a fixed section at the end.
 *
 * Pure: renderConfigDocs(schema) depends on its argument only; configDocs() feeds it the schema.
 */
import { configJsonSchema } from '../../stacks/model/config/json-schema';
import { LOG_RETENTION_DAYS, RESERVED_TAG_KEYS } from '../../stacks/model/config/schema';

/** Where the generated reference is written, relative to the repository root. */
export const CONFIG_DOCS_FILE = 'docs/config.md';

/** The parts of a JSON Schema (draft 2020-12, as zod 4 writes it) that the reference shows. */
export interface JsonSchemaNode {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchemaNode;
  readonly propertyNames?: JsonSchemaNode;
  readonly items?: JsonSchemaNode;
  readonly anyOf?: readonly JsonSchemaNode[];
  readonly oneOf?: readonly JsonSchemaNode[];
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, JsonSchemaNode>>;
  readonly title?: string;
}

/** zod writes these bounds for every `.int()`: they say nothing to a reader. */
const SAFE_INTEGER_BOUNDS = new Set([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);

interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default: string;
  readonly allowed: string;
  readonly description: string;
}

interface Section {
  readonly path: string;
  readonly description?: string;
  readonly rows: Row[];
}

/** The whole docs/config.md text for a JSON Schema of the config. */
export function renderConfigDocs(schema: JsonSchemaNode): string {
  const resolve = refResolver(schema);
  const sections: Section[] = [];
  collectSections(resolve(schema), '', resolve, sections);
  const out: string[] = [...HEADER, '', '## Contents', ''];
  for (const s of sections) out.push(`- [${sectionTitle(s.path)}](#${anchor(s.path)})`);
  out.push(`- [Checks across fields](#checks-across-fields)`);
  for (const s of sections) {
    out.push('', `<a id="${anchor(s.path)}"></a>`, '', `## ${sectionTitle(s.path)}`, '');
    if (s.description) out.push(inline(s.description), '');
    out.push('| field | type | required | default | allowed | description |', '|---|---|---|---|---|---|');
    for (const r of s.rows) {
      out.push(`| ${code(r.path)} | ${r.type} | ${r.required ? 'yes' : 'no'} | ${r.default} | ${r.allowed} | ${r.description} |`);
    }
  }
  out.push('', ...footer());
  return `${out.join('\n')}\n`;
}

/** docs/config.md as the current config schema generates it. */
export function configDocs(): string {
  return renderConfigDocs(JSON.parse(configJsonSchema()) as JsonSchemaNode);
}

// ---------------------------------------------------------------------------------------------

function refResolver(root: JsonSchemaNode): (n: JsonSchemaNode) => JsonSchemaNode {
  const resolve = (n: JsonSchemaNode, seen: ReadonlySet<string> = new Set()): JsonSchemaNode => {
    if (!n.$ref) return n;
    const m = /^#\/\$defs\/(.+)$/.exec(n.$ref);
    const target = m ? root.$defs?.[m[1]!] : undefined;
    if (!target || seen.has(n.$ref)) throw new Error(`config-docs: cannot resolve ${n.$ref}`);
    const { $ref: _ref, ...rest } = n;
    return { ...resolve(target, new Set([...seen, n.$ref])), ...rest };
  };
  return (n) => resolve(n);
}

/** An object with named fields gets a section of its own; a map (record) is shown as one field. */
function isSectionObject(n: JsonSchemaNode): boolean {
  return n.properties !== undefined;
}

function collectSections(node: JsonSchemaNode, path: string, resolve: (n: JsonSchemaNode) => JsonSchemaNode, sections: Section[]): void {
  const section: Section = { path, description: path === '' ? undefined : node.description, rows: [] };
  sections.push(section);
  const required = new Set(node.required ?? []);
  const nested: [JsonSchemaNode, string][] = [];
  for (const [key, raw] of Object.entries(node.properties ?? {})) {
    const field = resolve(raw);
    const fieldPath = path === '' ? key : `${path}.${key}`;
    const items = field.items ? resolve(field.items) : undefined;
    let description = inline(field.description ?? '');
    if (isSectionObject(field)) {
      nested.push([field, fieldPath]);
      description = joinSentences(description, `Fields: [${sectionTitle(fieldPath)}](#${anchor(fieldPath)}).`);
    } else if (items && isSectionObject(items)) {
      nested.push([items, `${fieldPath}[]`]);
      description = joinSentences(description, `Fields of each item: [${sectionTitle(`${fieldPath}[]`)}](#${anchor(`${fieldPath}[]`)}).`);
    }
    section.rows.push({
      path: fieldPath,
      type: typeOf(field, resolve),
      required: required.has(key),
      default: defaultOf(field, resolve),
      allowed: allowedOf(field, resolve),
      description,
    });
  }
  for (const [child, childPath] of nested) collectSections(child, childPath, resolve, sections);
}

function typeOf(n: JsonSchemaNode, resolve: (n: JsonSchemaNode) => JsonSchemaNode): string {
  const alternatives = n.anyOf ?? n.oneOf;
  if (alternatives) return unique(alternatives.map((a) => typeOf(resolve(a), resolve))).join(' or ');
  const t = Array.isArray(n.type) ? n.type.join(' or ') : (n.type as string | undefined);
  if (t === 'array') {
    const items = n.items ? resolve(n.items) : undefined;
    if (!items) return 'list';
    return isSectionObject(items) ? 'list of objects' : `list of ${typeOf(items, resolve)}`;
  }
  if (t === 'object') {
    if (isSectionObject(n)) return 'object';
    const values = typeof n.additionalProperties === 'object' ? typeOf(resolve(n.additionalProperties), resolve) : 'any';
    return `map of string to ${values}`;
  }
  if (t === undefined) return n.enum ? unique(n.enum.map((v) => (v === null ? 'null' : typeof v))).join(' or ') : 'any';
  return t;
}

function defaultOf(n: JsonSchemaNode, resolve: (n: JsonSchemaNode) => JsonSchemaNode): string {
  if (!('default' in n)) return '';
  if (isSectionObject(n) && isObject(n.default) && equalsFieldDefaults(n, n.default as Record<string, unknown>, resolve)) {
    return `${code('{}')} (each field at its default)`;
  }
  return code(JSON.stringify(n.default));
}

/** True when `value` is exactly the object made of the fields' own defaults. */
function equalsFieldDefaults(n: JsonSchemaNode, value: Record<string, unknown>, resolve: (n: JsonSchemaNode) => JsonSchemaNode): boolean {
  const expected: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(n.properties ?? {})) {
    const field = resolve(f);
    if ('default' in field) expected[k] = field.default;
  }
  return JSON.stringify(sortKeys(expected)) === JSON.stringify(sortKeys(value));
}

function allowedOf(n: JsonSchemaNode, resolve: (n: JsonSchemaNode) => JsonSchemaNode): string {
  const alternatives = n.anyOf ?? n.oneOf;
  if (alternatives) {
    return alternatives
      .map((a) => resolve(a))
      .map((a) => (a.type === 'null' ? code('null') : allowedOf(a, resolve)))
      .filter((s) => s !== '')
      .join('; or ');
  }
  const parts: string[] = [];
  if (n.enum) parts.push(`one of ${n.enum.map((v) => code(JSON.stringify(v))).join(', ')}`);
  if ('const' in n) parts.push(`exactly ${code(JSON.stringify(n.const))}`);
  const range = rangeText(n.minimum, n.maximum, '');
  if (range) parts.push(range);
  if (n.exclusiveMinimum !== undefined) parts.push(`> ${n.exclusiveMinimum}`);
  if (n.exclusiveMaximum !== undefined) parts.push(`< ${n.exclusiveMaximum}`);
  const length = rangeText(n.minLength, n.maxLength, 'length ');
  if (length) parts.push(length);
  if (n.minItems !== undefined && n.minItems === n.maxItems) parts.push(`exactly ${n.minItems} items`);
  else if (n.minItems !== undefined && n.maxItems !== undefined) parts.push(`${n.minItems} to ${n.maxItems} items`);
  else if (n.minItems !== undefined) parts.push(`at least ${n.minItems} item${n.minItems === 1 ? '' : 's'}`);
  else if (n.maxItems !== undefined) parts.push(`at most ${n.maxItems} items`);
  if (n.pattern !== undefined) parts.push(`pattern ${code(n.pattern)}`);
  if (n.items) {
    const each = allowedOf(resolve(n.items), resolve);
    if (each && !isSectionObject(resolve(n.items))) parts.push(`each: ${each}`);
  }
  if (n.propertyNames) {
    const keys = allowedOf(resolve(n.propertyNames), resolve);
    if (keys) parts.push(`keys: ${keys}`);
  }
  if (typeof n.additionalProperties === 'object') {
    const values = allowedOf(resolve(n.additionalProperties), resolve);
    if (values) parts.push(`values: ${values}`);
  }
  return parts.join('; ');
}

function rangeText(min: number | undefined, max: number | undefined, prefix: string): string {
  const lo = min !== undefined && !SAFE_INTEGER_BOUNDS.has(min) ? min : undefined;
  const hi = max !== undefined && !SAFE_INTEGER_BOUNDS.has(max) ? max : undefined;
  if (lo !== undefined && hi !== undefined) return `${prefix}${lo} to ${hi}`;
  if (lo !== undefined) return `${prefix}>= ${lo}`;
  if (hi !== undefined) return `${prefix}<= ${hi}`;
  return '';
}

function sectionTitle(path: string): string {
  return path === '' ? 'Top level' : code(path);
}

/** An explicit anchor per section, so links do not depend on how a renderer slugs headings. */
function anchor(path: string): string {
  return path === '' ? 'top-level' : path.replace(/\[\]/g, '').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
}

/** Text for a table cell: no line breaks, and nothing a renderer would read as markup. */
function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([*_`[\]])/g, '\\$1');
}

/** A code span that survives backticks and table pipes in its content. */
function code(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`;
}

function joinSentences(a: string, b: string): string {
  return a === '' ? b : `${a} ${b}`;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sortKeys(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// Fixed text around the tables.

const HEADER = [
  '<!-- GENERATED by `npm run config-docs` (scripts/lib/config-docs.ts) from the zod schema in',
  '     stacks/model/config/schema.ts: do not edit by hand. `npm test` fails while this file is stale. -->',
  '',
  '# Config reference',
  '',
  'One file holds the platform\'s whole input. The example, [`config/platform.yaml`](../config/platform.yaml),',
  'is the default; set `PLATFORM_CONFIG` to use another file (YAML or JSON):',
  '',
  '```sh',
  'PLATFORM_CONFIG=../platform-config/acme.yaml npm run synth',
  '```',
  '',
  '[`config/platform.schema.json`](../config/platform.schema.json) is the JSON Schema of the file',
  '(`npm run config-schema`); the `$schema` line at the top of the config gives editors completion and',
  'inline checks. Quote the account ids: YAML reads `012345678901` as a number and drops the leading zero.',
  '',
  'A bad config stops synth before anything is written: exit code 1, no stack trace, and **every**',
  'problem at once, each with the field path, the bad value and what is allowed:',
  '',
  '```',
  'Invalid platform config my.yaml: 2 problems',
  '  - environments[0] (dev).network.vpcCidr: got "10.10.0.0/8": the VPC prefix must be /16 to /20 (...)',
  '  - environments[1] (staging).network.nat.mode: got "gateway": Invalid option: expected one of "shared"|"per-az"',
  '```',
  '',
  'Every object rejects fields it does not list (a misspelt field is an error, not ignored). A field',
  'that is not required and has no default stays unset; where the platform then derives a value (for',
  'example from `production`), the description says so.',
];

function footer(): string[] {
  return [
    '## Checks across fields',
    '',
    'Checked by `stacks/model/config/validate.ts` and by refinements in the schema, on top of the tables above.',
    'The JSON Schema cannot express them, so editors do not flag them; synth does.',
    '',
    `- \`environments[].security.cloudWatchLogRetentionDays\` must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}.`,
    '- Environment names are unique (each names a stack) and may not be `bootstrap` (the state-bucket stack).',
    '- `environments[].network.vpcCidr` is a network address (no host bits set) with a prefix of /16 to /20, and no two',
    '  environments\' VPCs overlap. The tier supernets (4 subnets each: 3 AZs and a spare) must fit into the',
    '  VPC with room left for a fourth tier of the smallest supernet\'s size, and no subnet may be smaller than /28.',
    '- `environments[].availabilityZones` are 3 different zones of the environment\'s `region`.',
    '- `environments[].region` must be one whose ELB access-log delivery principal is known (the table in',
    '  `stacks/model/elb-log-delivery.ts`; a new region is added there).',
    '- `environments[].ingress`: exactly one of `hostedZoneId` and `certificateArn`; a certificate must be in the',
    '  environment\'s region.',
    '- `environments[].assumeRoleArn` must be a role in the environment\'s `account`.',
    `- \`environments[].tags\` may not set ${RESERVED_TAG_KEYS.map((k) => `\`${k}\``).join(', ')}: the platform sets them on every resource.`,
    '- Names the platform derives must be valid: the artifact, ALB access-log and state bucket names',
    '  (`<project>-<env>-artifacts-<account>-<region>`, `<project>-<env>-alb-logs-<account>-<region>`,',
    '  `<project>-tfstate-<account>-<region>`) under S3\'s bucket naming rules (at most 63 characters), the ALB',
    '  name `<project>-<env>` under ELB\'s (at most 32 characters, not starting with `internal-`), and the',
    '  other names AWS limits in length (IAM roles, the GitLab ingestion queues, functions, schedule and alarms;',
    '  per customer the launch template, the stack `<env>-<customer>` and the default host) within their limits',
    '  (`environmentNameProblems`, `customerNameProblems` and `NAME_LIMITS` in `stacks/model/naming.ts`; names',
    '  with short limits are fitted to them). A long project and environment name can break them.',
    '- `gitlab.repositories[]`: each `path` once (compared case-insensitively); `branches` maps at least one',
    '  branch, and every environment it names exists; two repositories of the same customer and kind cannot route the same branch name',
    '  to one environment (both would upload `<kind>/<customer>/<branch>.zip`).',
  ];
}
