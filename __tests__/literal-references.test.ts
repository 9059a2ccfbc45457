/**
 * Creation order: a resource that uses another resource of its stack must say so to Terraform,
 * by a reference (`${type.name.attr}`) or `depends_on`. A literal name (a bucket, role, function,
 * log group, topic...) gives Terraform no edge, so it may create the user first and fail
 * (NoSuchBucket, role not found). This test runs over every synthesized stack.
 */
import { StackJson, synthAllStacks } from './support/synth';

/** Attributes whose value names the resource itself (what another resource would use literally), by type. */
const NAME_ATTRIBUTES: Record<string, readonly string[]> = {
  aws_s3_bucket: ['bucket'],
  aws_s3_object: [],
  aws_db_instance: ['identifier'],
  aws_lambda_function: ['function_name'],
  // A record's name is a DNS name that host headers and certificates share, not a resource name.
  aws_route53_record: [],
  // Inline policies are never named by another resource; their name repeats the role's.
  aws_iam_role_policy: [],
};
const nameAttributes = (type: string) => NAME_ATTRIBUTES[type] ?? ['name'];
/** Attributes holding documents, not uses: a policy may name what does not exist yet. */
const DOCUMENT_ATTRIBUTES = new Set(['tag', 'tag_specifications', 'policy', 'assume_role_policy', 'event_pattern', 'description', 'tags', 'tags_all', 'user_data', 'buildspec', 'source_code_hash', 'content', 'template_body', 'key_policy', 'access_policy']);

interface Named {
  readonly address: string;
  readonly names: string[];
}

/** The literal names every resource of a stack carries. */
function namedResources(json: StackJson): Named[] {
  const out: Named[] = [];
  for (const [type, byId] of Object.entries(json.resource ?? {})) {
    for (const [id, body] of Object.entries(byId)) {
      const names = nameAttributes(type).map((a) => body[a]).filter((v): v is string => typeof v === 'string' && !v.includes('${') && v.length >= 8);
      if (names.length > 0) out.push({ address: `${type}.${id}`, names });
    }
  }
  return out;
}

/** Every literal string used by a resource outside documents, with its attribute path. */
function usedStrings(v: unknown, path: string, out: Array<[string, string]>): void {
  if (typeof v === 'string') out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => usedStrings(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!DOCUMENT_ATTRIBUTES.has(k) && k !== 'depends_on' && k !== 'lifecycle' && k !== '//') usedStrings(x, path ? `${path}.${k}` : k, out);
  }
}

/** A value that names `name`: the name itself, or an ARN or path that ends in it. */
const usesName = (value: string, name: string) => value === name || value.endsWith(`:${name}`) || value.endsWith(`/${name}`);

/** Resource addresses each resource waits for: its references and depends_on, followed transitively. */
function orderingEdges(json: StackJson): Map<string, Set<string>> {
  const direct = new Map<string, Set<string>>();
  for (const [type, byId] of Object.entries(json.resource ?? {})) {
    for (const [id, body] of Object.entries(byId)) {
      const refs = new Set<string>([...JSON.stringify(body).matchAll(/\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)[.}[]/g)].map((m) => m[1]!));
      for (const d of (body.depends_on ?? []) as string[]) refs.add(d);
      direct.set(`${type}.${id}`, refs);
    }
  }
  const closure = new Map<string, Set<string>>();
  const visit = (a: string): Set<string> => {
    const done = closure.get(a);
    if (done) return done;
    const all = new Set<string>();
    closure.set(a, all);
    for (const b of direct.get(a) ?? []) {
      all.add(b);
      for (const c of visit(b)) all.add(c);
    }
    return all;
  };
  for (const a of direct.keys()) visit(a);
  return closure;
}

export function literalUsesWithoutEdge(json: StackJson): string[] {
  const named = namedResources(json);
  const edges = orderingEdges(json);
  const problems: string[] = [];
  for (const [type, byId] of Object.entries(json.resource ?? {})) {
    for (const [id, body] of Object.entries(byId)) {
      const address = `${type}.${id}`;
      const waitsFor = edges.get(address)!;
      const strings: Array<[string, string]> = [];
      usedStrings(body, '', strings);
      for (const other of named) {
        if (other.address === address) continue;
        if (waitsFor.has(other.address)) continue;
        for (const [attr, value] of strings) {
          if (attr === 'name' || nameAttributes(type).includes(attr)) continue; // its own name
          if (other.names.some((n) => usesName(value, n))) problems.push(`${address}.${attr} = ${JSON.stringify(value)} uses ${other.address} by a literal name, with no reference or depends_on`);
        }
      }
    }
  }
  return problems;
}

describe('creation order: no literal use of a resource of the same stack without an edge', () => {
  const stacks = synthAllStacks();

  test.each([...stacks.keys()])('%s', (name) => {
    expect(literalUsesWithoutEdge(stacks.get(name)!)).toEqual([]);
  });

  test('the check finds a literal bucket name without depends_on (the check can fail)', () => {
    const json: StackJson = {
      resource: {
        aws_s3_bucket: { b: { bucket: 'acme-web-dev-artifacts-1-eu-west-1' } },
        aws_s3_object: { o: { bucket: 'acme-web-dev-artifacts-1-eu-west-1', key: 'k' } },
      },
    };
    expect(literalUsesWithoutEdge(json)).toEqual([expect.stringContaining('aws_s3_object.o.bucket')]);
    json.resource!.aws_s3_object!.o.depends_on = ['aws_s3_bucket_policy.p'];
    json.resource!.aws_s3_bucket_policy = { p: { bucket: '${aws_s3_bucket.b.id}' } };
    expect(literalUsesWithoutEdge(json)).toEqual([]);
  });
});
