/**
 * A local EventBridge event-pattern matcher, following the documented matching rules ("Amazon
 * EventBridge event patterns" and "Content filtering"): npm has no local implementation (the SDK's
 * TestEventPattern calls AWS). Tested on its own in event-pattern.test.ts.
 *
 * - A pattern is an object; every one of its fields must match (AND). A nested object matches the
 *   event's nested object of the same name.
 * - A leaf is an array of matchers, any of which may match (OR). A matcher is a literal (string,
 *   number, boolean or null; exact, case-sensitive) or one filter object:
 *   `{prefix}`, `{suffix}`, `{"equals-ignore-case"}`, `{"anything-but": value | [values] | {prefix} | {suffix}}`,
 *   `{exists: true|false}`, `{numeric: [op, n, (op, n)]}`, `{wildcard}`.
 * - When the event's value is an array, the leaf matches if any element matches.
 * - A field absent from the event matches only `{exists: false}`.
 */
export type Pattern = { readonly [key: string]: Pattern | readonly unknown[] };

const FILTERS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'exists', 'numeric', 'wildcard']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throws when a pattern is not one EventBridge would accept in the parts this matcher knows. */
export function checkPattern(pattern: unknown, path = ''): void {
  if (!isObject(pattern)) throw new Error(`pattern${path}: expected an object`);
  if (Object.keys(pattern).length === 0) throw new Error(`pattern${path}: empty object`);
  for (const [k, v] of Object.entries(pattern)) {
    const p = `${path}.${k}`;
    if (Array.isArray(v)) {
      if (v.length === 0) throw new Error(`pattern${p}: empty array never matches; EventBridge rejects it`);
      for (const m of v) {
        if (isObject(m)) {
          const keys = Object.keys(m);
          if (keys.length !== 1 || !FILTERS.has(keys[0]!)) throw new Error(`pattern${p}: unknown filter ${JSON.stringify(m)}`);
        } else if (Array.isArray(m)) throw new Error(`pattern${p}: nested arrays are not allowed`);
      }
    } else if (isObject(v)) checkPattern(v, p);
    else throw new Error(`pattern${p}: a leaf must be an array, got ${JSON.stringify(v)}`);
  }
}

function literalEquals(m: unknown, v: unknown): boolean {
  return m === v;
}

function numericMatches(spec: readonly unknown[], v: unknown): boolean {
  if (typeof v !== 'number') return false;
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const n = spec[i + 1] as number;
    const ok = op === '=' ? v === n : op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : op === '>=' ? v >= n : false;
    if (!ok) return false;
  }
  return true;
}

function wildcardMatches(glob: string, v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const re = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return re.test(v);
}

/** Whether one matcher matches one (present, scalar) event value. */
function matcherMatches(m: unknown, v: unknown): boolean {
  if (!isObject(m)) return literalEquals(m, v);
  const [kind, arg] = Object.entries(m)[0]!;
  switch (kind) {
    case 'prefix':
      return typeof v === 'string' && typeof arg === 'string' && v.startsWith(arg);
    case 'suffix':
      return typeof v === 'string' && typeof arg === 'string' && v.endsWith(arg);
    case 'equals-ignore-case':
      return typeof v === 'string' && typeof arg === 'string' && v.toLowerCase() === arg.toLowerCase();
    case 'numeric':
      return numericMatches(arg as unknown[], v);
    case 'wildcard':
      return wildcardMatches(String(arg), v);
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.some((x) => literalEquals(x, v));
      if (isObject(arg)) return !matcherMatches(arg, v);
      return !literalEquals(arg, v);
    default:
      throw new Error(`unknown filter ${kind}`);
  }
}

function leafMatches(matchers: readonly unknown[], present: boolean, value: unknown): boolean {
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return m.exists === present;
    if (!present) return false;
    // An event array matches when any of its elements does.
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => matcherMatches(m, v));
  });
}

/** Whether `event` matches `pattern` under EventBridge's rules. */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  checkPattern(pattern);
  return matchObject(pattern, event);
}

function matchObject(pattern: Pattern, event: unknown): boolean {
  for (const [key, p] of Object.entries(pattern)) {
    const present = isObject(event) && key in event && (event as Record<string, unknown>)[key] !== undefined;
    const value = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(p)) {
      if (!leafMatches(p, present, value)) return false;
    } else {
      // A nested pattern needs the nested object (or, for arrays of objects, any element of it).
      if (!present) return false;
      const candidates = Array.isArray(value) ? value : [value];
      if (!candidates.some((c) => isObject(c) && matchObject(p as Pattern, c))) return false;
    }
  }
  return true;
}
