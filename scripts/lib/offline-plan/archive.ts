/**
 * Helpers of the archive_file stand-in (see standInArchiveFiles in relaxations.ts): builds the
 * zip the hashicorp/archive provider would build, from the stack copy's own files.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Zippable } from 'fflate';
import { isDir } from './discovery';
import { blocks, isObject, Json, JsonObject } from './stack-json';

/** Fixed mtime so stand-in zips (and their hashes) are reproducible. */
const ZIP_MTIME = new Date('2000-01-01T00:00:00Z');

/** Resolves a path argument that may use ${path.module}/${path.root}/${path.cwd}; undefined if it has other expressions. */
export function resolvePathExpr(expr: string, workDir: string): string | undefined {
  const s = expr.replace(/\$\{path\.(module|root|cwd)\}/g, (_m, which: string) => (which === 'cwd' ? workDir : '.'));
  if (s.includes('${') || s.includes('%{')) return undefined;
  return path.isAbsolute(s) ? s : path.join(workDir, s);
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(/.*)?$`);
}

function walkFiles(root: string, rel: string, excludes: RegExp[], excludeSymlinkDirs: boolean, out: string[]): void {
  for (const entry of fs.readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${entry}` : entry;
    if (excludes.some((e) => e.test(r))) continue;
    const full = path.join(root, r);
    const lst = fs.lstatSync(full);
    if (lst.isSymbolicLink() && excludeSymlinkDirs && isDir(full)) continue;
    if (isDir(full)) walkFiles(root, r, excludes, excludeSymlinkDirs, out);
    else out.push(r);
  }
}

export function stringArg(cfg: JsonObject, key: string): string | undefined {
  const v = cfg[key];
  return typeof v === 'string' ? v : undefined;
}

function unixMode(mode: string | undefined): number | undefined {
  return mode ? Number.parseInt(mode, 8) : undefined;
}

/** Builds the zip the archive provider would build and returns its attributes. */
export function buildArchive(
  address: string,
  cfg: JsonObject,
  workDir: string,
): { entries: Zippable; files: number; describe: string } {
  const type = stringArg(cfg, 'type');
  if (type !== 'zip') throw new Error(`${address}: stand-in supports type "zip" only, got ${JSON.stringify(type)}`);
  const mode = unixMode(stringArg(cfg, 'output_file_mode'));
  const entryOpts = mode !== undefined ? { mtime: ZIP_MTIME, os: 3, attrs: (mode | 0o100000) << 16 } : { mtime: ZIP_MTIME };
  const entries: Zippable = {};
  const add = (name: string, data: Uint8Array): void => {
    entries[name] = [data, entryOpts];
  };
  const need = (key: string): string => {
    const raw = stringArg(cfg, key) ?? '';
    const p = resolvePathExpr(raw, workDir);
    if (!p) throw new Error(`${address}: cannot stand in, ${key} = ${JSON.stringify(raw)} uses expressions other than path.*`);
    if (!fs.existsSync(p)) throw new Error(`${address}: ${key} ${JSON.stringify(raw)} does not exist in the stack copy (${p})`);
    return p;
  };
  const srcFile = stringArg(cfg, 'source_file');
  const srcDir = stringArg(cfg, 'source_dir');
  const srcContent = stringArg(cfg, 'source_content');
  const srcList = blocks(cfg.source);
  if (srcFile !== undefined) {
    const p = need('source_file');
    add(path.basename(p), fs.readFileSync(p));
    return { entries, files: 1, describe: `source_file ${srcFile}` };
  }
  if (srcDir !== undefined) {
    const p = need('source_dir');
    const rawExcludes = Array.isArray(cfg.excludes) ? cfg.excludes.filter((e): e is string => typeof e === 'string') : [];
    const files: string[] = [];
    walkFiles(p, '', rawExcludes.map(globToRegExp), cfg.exclude_symlink_directories === true, files);
    for (const f of files) add(f, fs.readFileSync(path.join(p, f)));
    return { entries, files: files.length, describe: `source_dir ${srcDir}` };
  }
  if (srcContent !== undefined) {
    const name = stringArg(cfg, 'source_content_filename');
    if (!name) throw new Error(`${address}: source_content without source_content_filename`);
    if (srcContent.includes('${')) throw new Error(`${address}: cannot stand in, source_content uses expressions`);
    add(name, new TextEncoder().encode(srcContent));
    return { entries, files: 1, describe: 'source_content' };
  }
  if (srcList.length > 0) {
    for (const s of srcList) {
      const content = stringArg(s, 'content');
      const filename = stringArg(s, 'filename');
      if (content === undefined || !filename || content.includes('${')) {
        throw new Error(`${address}: cannot stand in, source block needs literal content and filename`);
      }
      add(filename, new TextEncoder().encode(content));
    }
    return { entries, files: srcList.length, describe: `${srcList.length} source block(s)` };
  }
  throw new Error(`${address}: no source_file, source_dir, source_content or source block`);
}

export function digest(algo: string, data: Uint8Array, enc: 'hex' | 'base64'): string {
  return crypto.createHash(algo).update(data).digest(enc);
}

/** Rewrites `data.archive_file.<name>` references inside every template string. */
export function rewriteRefs(v: Json, map: Map<string, string>, key?: string): Json {
  if (typeof v === 'string') {
    if (!v.includes('${') && !v.includes('%{')) return v;
    return v.replace(/data\.archive_file\.([A-Za-z_][A-Za-z0-9_-]*)(?![A-Za-z0-9_-])/g, (m, name: string) => {
      const local = map.get(name);
      return local ? `local.${local}` : m;
    });
  }
  if (Array.isArray(v)) {
    if (key === 'depends_on') {
      // depends_on cannot name a local: drop the stood-in data sources from it.
      return v.filter((d) => !(typeof d === 'string' && /^data\.archive_file\.([A-Za-z0-9_-]+)$/.test(d) && map.has(d.split('.')[2] ?? '')));
    }
    return v.map((x) => rewriteRefs(x, map));
  }
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = rewriteRefs(x, map, k);
    return out;
  }
  return v;
}

export function hasDependsOnData(v: Json, names: Set<string>): boolean {
  if (Array.isArray(v)) return v.some((x) => hasDependsOnData(x, names));
  if (!isObject(v)) return false;
  return Object.entries(v).some(([k, x]) =>
    k === 'depends_on' && Array.isArray(x)
      ? x.some((d) => typeof d === 'string' && names.has(d))
      : hasDependsOnData(x, names),
  );
}
