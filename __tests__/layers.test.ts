/**
 * The layers of the app read one way: model (config, IP plan, names; no cdktf) → constructs →
 * stacks → main.ts, with the Lambda and CodeBuild programs (lambdas/) below them all. Nothing
 * imports upward, and only main.ts reads process.env.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NamingScope } from '../stacks/constructs/naming-scope';
import { synthScoped, TEST_SCOPE } from './support/scope';
import { Construct } from 'constructs';
import { Testing } from 'cdktf';

const ROOT = path.join(__dirname, '..');
const STACKS = path.join(ROOT, 'stacks');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

type Layer = 'model' | 'constructs' | 'stacks' | 'lambdas' | 'app' | 'outside';
const RANK: Record<Layer, number> = { lambdas: 0, model: 1, constructs: 2, stacks: 3, app: 4, outside: 5 };

function layerOf(file: string): Layer {
  const rel = path.relative(ROOT, file).split(path.sep);
  if (rel[0] === 'lambdas') return 'lambdas';
  if (rel[0] === 'main.ts') return 'app';
  if (rel[0] !== 'stacks') return 'outside';
  if (rel[1] === 'model') return 'model';
  if (rel[1] === 'constructs') return 'constructs';
  return 'stacks';
}

/** Every import of a file: [specifier, resolved absolute path or undefined for packages]. */
function importsOf(file: string): Array<[string, string | undefined]> {
  const src = fs.readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|require\('([^']+)'\)/gm)].map((m) => {
    const spec = (m[1] ?? m[2])!;
    return [spec, spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : undefined];
  });
}

const LAMBDAS = path.join(ROOT, 'lambdas');
const files = tsFiles(STACKS).concat(path.join(ROOT, 'main.ts'), ...tsFiles(LAMBDAS));

describe('layers', () => {
  test('the tree shows the layers: stacks/model, stacks/constructs, stack classes in stacks/', () => {
    expect(fs.existsSync(path.join(STACKS, 'model'))).toBe(true);
    expect(fs.existsSync(path.join(STACKS, 'constructs'))).toBe(true);
    const stackFiles = fs.readdirSync(STACKS).filter((f) => f.endsWith('.ts'));
    expect(stackFiles).toEqual(expect.arrayContaining(['environment-stack.ts', 'bootstrap-stack.ts', 'platform.ts']));
  });

  test.each(files.map((f) => [path.relative(ROOT, f), f]))('%s imports nothing from a higher layer', (_rel, file) => {
    const own = layerOf(file);
    const upward = importsOf(file)
      .filter(([, resolved]) => resolved !== undefined && RANK[layerOf(resolved)] > RANK[own])
      .map(([spec]) => spec);
    expect(upward).toEqual([]);
  });

  test.each(files.filter((f) => layerOf(f) === 'model').map((f) => [path.relative(ROOT, f), f]))('%s (model) does not import cdktf or constructs', (_rel, file) => {
    const cdk = importsOf(file)
      .map(([spec]) => spec)
      .filter((spec) => /^(cdktf|constructs|@cdktf\/)/.test(spec));
    expect(cdk).toEqual([]);
  });

  test('only main.ts reads process.env (in the cdktf app; the Lambda and CodeBuild programs are programs of their own)', () => {
    const readers = files.filter((f) => layerOf(f) !== 'lambdas' && !f.endsWith('main.ts') && /process\.env/.test(fs.readFileSync(f, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')));
    expect(readers.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});

describe('NamingScope', () => {
  test('constructs find the scope of their nearest stack', () => {
    let seen: unknown;
    synthScoped((scope) => {
      const inner = new Construct(new Construct(scope, 'a'), 'b');
      seen = NamingScope.of(inner);
    }, { env: 'qa' });
    expect(seen).toEqual({ ...TEST_SCOPE, env: 'qa' });
  });

  test('outside a declaring stack: a clear error', () => {
    expect(() => Testing.synthScope((scope) => NamingScope.of(new Construct(scope, 'orphan')))).toThrow(/is not inside a stack that declares a naming scope/);
  });

  test.each([
    [{ account: '1234' }, /account must be a 12-digit AWS account id, got "1234"/],
    [{ region: 'Europe' }, /region must be an AWS region name such as eu-west-1, got "Europe"/],
    [{ project: 'Acme' }, /project must be lower-case letters, digits and "-", starting with a letter, got "Acme"/],
    [{ env: 'dev-1' }, /env must be lower-case letters and digits, starting with a letter, got "dev-1"/],
  ])('declare(%j) is refused', (over, message) => {
    expect(() => synthScoped(() => undefined, over)).toThrow(message);
  });

  test('a scope is declared once', () => {
    expect(() => synthScoped((scope) => NamingScope.declare(scope, TEST_SCOPE))).toThrow(/already declares a naming scope/);
  });
});
