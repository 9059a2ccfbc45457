/** Reading a synthesized stack (cdk.tf.json): JSON types, declared resources, data sources. */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function blocks(v: Json | undefined): JsonObject[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

export interface DeclaredResources {
  /** Number of resource instances declared (one per block; count/for_each not expanded). */
  total: number;
  byType: Record<string, number>;
  /** Addresses of resources using count or for_each (their instance count is not static). */
  countOrForEach: string[];
}

/** Counts resources declared in a synthesized cdk.tf.json. */
export function declaredResourceCount(stackJson: JsonObject): DeclaredResources {
  const byType: Record<string, number> = {};
  const countOrForEach: string[] = [];
  let total = 0;
  const resources = stackJson.resource;
  if (isObject(resources)) {
    for (const [type, byName] of Object.entries(resources)) {
      if (!isObject(byName)) continue;
      for (const [name, cfg] of Object.entries(byName)) {
        total++;
        byType[type] = (byType[type] ?? 0) + 1;
        for (const b of blocks(cfg)) {
          if ('count' in b || 'for_each' in b) countOrForEach.push(`${type}.${name}`);
        }
      }
    }
  }
  return { total, byType, countOrForEach };
}

/** Data sources that are evaluated locally by the provider (no AWS API call). */
export const LOCAL_DATA_SOURCES: ReadonlySet<string> = new Set([
  'archive_file',
  'aws_iam_policy_document',
  'aws_partition',
  'aws_region',
  'aws_default_tags',
  'aws_arn',
]);

/**
 * `data.<type>.<name>` addresses of data sources that would need a real API (a
 * terraform_remote_state reading a local state file, like the stand-ins, needs none).
 */
export function externalDataSources(stackJson: JsonObject): string[] {
  const out: string[] = [];
  const data = stackJson.data;
  if (!isObject(data)) return out;
  for (const [type, byName] of Object.entries(data)) {
    if (LOCAL_DATA_SOURCES.has(type) || !isObject(byName)) continue;
    for (const [name, cfg] of Object.entries(byName)) {
      if (type === 'terraform_remote_state' && blocks(cfg).every((b) => b.backend === 'local')) continue;
      out.push(`data.${type}.${name}`);
    }
  }
  return out;
}