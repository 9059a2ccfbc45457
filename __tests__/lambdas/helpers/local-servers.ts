/**
 * Local servers for the clone-and-upload test, on 127.0.0.1 only: an S3-compatible server
 * (s3rver) and a smart-HTTP git server (`git http-backend` behind Basic auth, like GitLab with a
 * deploy token), plus a small helper to make git repositories.
 */
import { execFileSync, spawn } from 'child_process';
import * as http from 'http';
import type { AddressInfo } from 'net';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: { address: string; port: number; silent: boolean; directory: string; configureBuckets: Array<{ name: string }> }) => S3rverInstance;

export interface LocalS3 {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startS3(directory: string, buckets: readonly string[]): Promise<LocalS3> {
  // s3rver ships no type declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverCtor;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const address = await server.run();
  return { endpoint: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

export interface GitServer {
  /** Base URL, e.g. http://127.0.0.1:PORT or, with a prefix, http://127.0.0.1:PORT/gitlab (repositories at <url>/<name>.git). */
  readonly url: string;
  /** Requests that carried the right credentials / that were refused. */
  readonly stats: { authorized: number; refused: number };
  close(): Promise<void>;
}

/**
 * Serves the bare repositories under `root` over smart HTTP. Every request needs Basic auth with
 * `username`/`token`; without it the server answers 401 (so git asks its credential helper).
 * With `protocolV0`, the Git-Protocol header is dropped: the server then refuses requests for
 * commits that are not branch or tag tips, as many servers do. With `prefix` (e.g. `/gitlab`), the
 * repositories are served below that path only, like GitLab under a relative URL root.
 */
export async function startGitServer(root: string, username: string, token: string, opts: { protocolV0?: boolean; prefix?: string } = {}): Promise<GitServer> {
  const prefix = opts.prefix ?? '';
  const expected = `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;
  const stats = { authorized: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      stats.refused += 1;
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end('unauthorized');
      return;
    }
    stats.authorized += 1;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(`${prefix}/`)) {
      req.resume();
      res.writeHead(404).end('not found');
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname.slice(prefix.length)),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: opts.protocolV0 ? '' : String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: username,
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
    cgi.on('close', () => {
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n') >= 0 ? all.indexOf('\r\n\r\n') : all.indexOf('\n\n');
      const sepLength = all.indexOf('\r\n\r\n') >= 0 ? 4 : 2;
      if (sep < 0) {
        res.writeHead(500).end();
        return;
      }
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of all.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(all.subarray(sep + sepLength));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    stats,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs git with a fixed identity and dates, so commits are reproducible. */
export function git(cwd: string, args: readonly string[], date = '2025-03-01T10:00:00Z'): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date, HOME: cwd },
  }).trim();
}
