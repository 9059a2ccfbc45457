/**
 * docs/config.md, the config reference, is generated from the zod schema (through its JSON Schema)
 * by `npm run config-docs`. The committed file must be exactly what the committed schema generates.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { configJsonSchema } from '../stacks/model/config/json-schema';
import { CONFIG_DOCS_FILE, JsonSchemaNode, configDocs, renderConfigDocs } from '../scripts/lib/config-docs';

const ROOT = path.join(__dirname, '..');

/** Every field path of a JSON Schema, in the reference's notation (`a.b[].c`). */
function fieldPaths(node: JsonSchemaNode, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, field] of Object.entries(node.properties ?? {})) {
    const p = prefix === '' ? key : `${prefix}.${key}`;
    out.push(p);
    if (field.properties) out.push(...fieldPaths(field, p));
    if (field.items?.properties) out.push(...fieldPaths(field.items, `${p}[]`));
  }
  return out;
}

/** The table rows of the rendered reference, by field path. */
function rows(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    const m = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.split(/(?<!\\) \| /));
  }
  return out;
}

describe('docs/config.md is generated from the config schema', () => {
  test('the committed file is exactly what the schema generates (run npm run config-docs after a schema change)', () => {
    const file = path.join(ROOT, CONFIG_DOCS_FILE);
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const generated = configDocs();
    let verdict = 'up to date';
    if (committed !== generated) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const i = a.findIndex((line, k) => line !== b[k]);
      const at = i < 0 ? Math.min(a.length, b.length) : i;
      verdict =
        `${CONFIG_DOCS_FILE} is stale: run npm run config-docs and commit it ` +
        `(first difference at line ${at + 1}: committed ${JSON.stringify(a[at])}, generated ${JSON.stringify(b[at])})`;
    }
    expect(verdict).toBe('up to date');
  });

  test('every field of the schema has a row, with its description', () => {
    const schema = JSON.parse(configJsonSchema()) as JsonSchemaNode;
    const table = rows(configDocs());
    const paths = fieldPaths(schema);
    expect(paths.length).toBeGreaterThan(30);
    expect([...table.keys()].sort()).toEqual([...paths].sort());
    expect(table.get('environments[].network.nat.mode')).toEqual([
      'string',
      'no',
      '',
      'one of `"shared"`, `"per-az"`',
      '"per-az" (one NAT instance per AZ) or "shared" (one for all). Default: per-az when production, else shared.',
    ]);
    expect(table.get('environments[].ingress.idleTimeoutSeconds')?.slice(0, 4)).toEqual(['integer', 'no', '`60`', '1 to 4000']);
    expect(table.get('environments[].network.vpcCidr')?.[1]).toBe('yes');
  });

  test('npm run config-docs -- --check passes on the committed file', () => {
    const r = spawnSync(process.execPath, ['--require', 'esbuild-register', 'scripts/config-docs.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('renderConfigDocs', () => {
  const schema: JsonSchemaNode = {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: '^(a|b)$', description: 'A name | with a pipe, <angle> and *stars*.' },
      count: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991, default: 3, description: 'Refined elsewhere.' },
      limit: { anyOf: [{ type: 'integer', minimum: 1, maximum: 100 }, { type: 'null' }], default: 5 },
      labels: { type: 'object', propertyNames: { type: 'string', maxLength: 8 }, additionalProperties: { type: 'string' }, default: {} },
      inner: {
        type: 'object',
        description: 'An inner object.',
        default: { on: true },
        properties: { on: { type: 'boolean', default: true }, mode: { type: 'string', enum: ['x', 'y'] } },
        additionalProperties: false,
      },
      list: { type: 'array', minItems: 1, items: { $ref: '#/$defs/item' } },
    },
    required: ['name', 'list'],
    $defs: { item: { type: 'object', properties: { id: { type: 'string', description: 'Id.' } }, required: ['id'] } },
  };
  const md = renderConfigDocs(schema);
  const table = rows(md);

  test('one section per object, each with an anchor, and links to them from the parent rows', () => {
    expect(md.match(/^## .*/gm)).toEqual(['## Contents', '## Top level', '## `inner`', '## `list[]`', '## Checks across fields']);
    expect(md).toContain('<a id="inner"></a>');
    expect(md).toContain('<a id="list"></a>');
    expect(table.get('inner')?.[4]).toBe('An inner object. Fields: [`inner`](#inner).');
    expect(table.get('list')?.slice(0, 4)).toEqual(['list of objects', 'yes', '', 'at least 1 item']);
    expect(table.get('list[].id')).toEqual(['string', 'yes', '', '', 'Id.']);
  });

  test('types, defaults and allowed values', () => {
    expect(table.get('name')?.slice(0, 4)).toEqual(['string', 'yes', '', 'pattern `^(a\\|b)$`']);
    expect(table.get('count')?.slice(0, 4)).toEqual(['integer', 'no', '`3`', '']);
    expect(table.get('limit')?.slice(0, 4)).toEqual(['integer or null', 'no', '`5`', '1 to 100; or `null`']);
    expect(table.get('labels')?.slice(0, 4)).toEqual(['map of string to string', 'no', '`{}`', 'keys: length <= 8']);
    expect(table.get('inner')?.slice(0, 3)).toEqual(['object', 'no', '`{}` (each field at its default)']);
    expect(table.get('inner.mode')?.slice(0, 4)).toEqual(['string', 'no', '', 'one of `"x"`, `"y"`']);
  });

  test('descriptions cannot break the table or turn into markup', () => {
    expect(table.get('name')?.[4]).toBe('A name \\| with a pipe, &lt;angle&gt; and \\*stars\\*.');
  });
});
