/**
 * CodeBuild clone-and-upload program (`node clone-and-upload.js`, bundled with the AWS SDK).
 * Reads the source config written by the webhook Lambda, fetches exactly the requested commit with
 * the GitLab deploy token, checks HEAD is that commit, zips the tree without .git (git archive),
 * checks the commit is still the tip of its branch (or tag) on GitLab, and uploads it SSE-KMS
 * encrypted to `<kind>/<customer>/<branch>.zip` with the commit in its metadata. When the branch has
 * moved on (e.g. a stale resend of an older push), nothing is uploaded and the program exits 0
 * (README: "Stale deliveries", including the race that remains).
 * Exit codes: see EXIT below and the README next to this file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { createGit, Git, GitCredentials, GitError } from './git';
import { parseSourceConfig, SourceConfig, SourceConfigError } from '../shared/source-config';
import { httpCloneUrlProblem, normalizeGitlabUrl } from '../shared/clone-url';

export const EXIT = {
  ok: 0,
  unexpected: 1,
  settings: 2,
  config: 3,
  fetch: 4,
  verify: 5,
  archive: 6,
  upload: 7,
} as const;

/** A failure with its exit code (EXIT); `main` prints its message and exits with the code. */
export class Failure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'Failure';
  }
}

export interface CloneSettings {
  readonly configBucket: string;
  readonly configKey: string;
  readonly artifactBucket: string;
  readonly artifactKmsKeyArn: string;
  /** Normalized GitLab base URL (no trailing slash). */
  readonly gitlabUrl: string;
  readonly deployTokenUser: string;
  readonly deployToken: string;
  /** Custom S3 endpoint (tests, S3-compatible stores); path-style addressing when set. */
  readonly s3Endpoint: string | undefined;
  readonly workDir: string | undefined;
  readonly gitTimeoutSeconds: number;
}

/** Reads the program's settings from environment variables; every problem at once. */
export function readSettings(env: NodeJS.ProcessEnv): CloneSettings {
  const problems: string[] = [];
  const req = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') problems.push(`${name} is required`);
    return v ?? '';
  };
  const configBucket = req('CONFIG_BUCKET');
  const configKey = req('CONFIG_KEY');
  const artifactBucket = req('ARTIFACT_BUCKET');
  const artifactKmsKeyArn = req('ARTIFACT_KMS_KEY_ARN');
  const rawUrl = req('GITLAB_URL');
  const deployTokenUser = req('GITLAB_DEPLOY_TOKEN_USER');
  const deployToken = req('GITLAB_DEPLOY_TOKEN');
  let gitlabUrl = '';
  if (rawUrl !== '') {
    gitlabUrl = normalizeGitlabUrl(rawUrl) ?? '';
    if (gitlabUrl === '') problems.push(`GITLAB_URL=${JSON.stringify(rawUrl)} must be an http(s) URL without credentials, query or fragment (e.g. https://gitlab.example.com or https://host/gitlab)`);
  }
  const rawTimeout = env.GIT_TIMEOUT_SECONDS;
  let gitTimeoutSeconds = 900;
  if (rawTimeout !== undefined && rawTimeout !== '') {
    if (/^\d+$/.test(rawTimeout) && Number(rawTimeout) >= 10) gitTimeoutSeconds = Number(rawTimeout);
    else problems.push(`GIT_TIMEOUT_SECONDS=${JSON.stringify(rawTimeout)} must be an integer of at least 10`);
  }
  if (problems.length > 0) throw new Failure(EXIT.settings, `invalid settings:\n  - ${problems.join('\n  - ')}`);
  return {
    configBucket,
    configKey,
    artifactBucket,
    artifactKmsKeyArn,
    gitlabUrl,
    deployTokenUser,
    deployToken,
    s3Endpoint: env.AWS_ENDPOINT_URL_S3 || undefined,
    workDir: env.WORK_DIR || undefined,
    gitTimeoutSeconds,
  };
}

export interface UploadResult {
  readonly result: 'uploaded';
  readonly bucket: string;
  readonly key: string;
  readonly commit: string;
  readonly bytes: number;
}

/** The requested commit is no longer the tip of its ref on GitLab: nothing was uploaded (exit 0). */
export interface SkipResult {
  readonly result: 'skipped';
  readonly reason: 'ref moved' | 'ref deleted';
  readonly ref: string;
  /** The commit of the config file. */
  readonly commit: string;
  /** The commit the ref points to now (peeled, for tags), or null when the ref no longer exists. */
  readonly current: string | null;
  readonly bucket: string;
  readonly key: string;
}

/** The S3 client's options: path-style addressing at AWS_ENDPOINT_URL_S3 when set, else AWS. */
export function s3ClientConfig(settings: CloneSettings): S3ClientConfig {
  return settings.s3Endpoint ? { endpoint: settings.s3Endpoint, forcePathStyle: true } : {};
}

/** What the program talks to: S3 and git (the unit tests pass a mocked client and a fake git). */
export interface Deps {
  /** For the config file and the upload; the caller destroys it. */
  readonly s3: S3Client;
  /** Makes the git runner with the deploy token (createGit with the process environment). */
  readonly createGit: (creds: GitCredentials, timeoutSeconds: number) => Git;
}

/** The program's work after the settings: read the config, fetch, verify, archive, check the tip, upload. */
export async function cloneAndUpload(settings: CloneSettings, log: (line: string) => void, deps: Deps): Promise<UploadResult | SkipResult> {
  const { s3 } = deps;
  const config = await readConfig(s3, settings);
  log(`config s3://${settings.configBucket}/${settings.configKey}: ${config.project.path} ${config.ref} at ${config.commit.sha} -> s3://${settings.artifactBucket}/${config.targetKey}`);
  // The clone URL must be the configured project on GITLAB_URL: not another host (the deploy token
  // would go there), and not another project of the same GitLab (its code would be built into this
  // project's target zip).
  const urlProblem = httpCloneUrlProblem(config.project.httpUrl, config.project.path, settings.gitlabUrl);
  if (urlProblem !== undefined) {
    throw new Failure(EXIT.config, `the clone URL project.httpUrl ${JSON.stringify(config.project.httpUrl)} ${urlProblem} (GITLAB_URL=${settings.gitlabUrl}, project.path=${config.project.path}); refusing to fetch it`);
  }
  const git = deps.createGit({ gitlabUrl: settings.gitlabUrl, username: settings.deployTokenUser, token: settings.deployToken }, settings.gitTimeoutSeconds);
  const work = fs.mkdtempSync(path.join(settings.workDir ?? os.tmpdir(), 'clone-'));
  try {
    const { repo, zip } = fetchAndArchive(git, work, config, log);
    // As late as possible, right before the upload: a stale resend of an older push must not
    // overwrite the zip of a newer push of the same branch.
    const skip = staleCheck(git, repo, config, settings);
    if (skip !== undefined) {
      log(`skipped: ${skipMessage(skip, config)}`);
      return skip;
    }
    const body = fs.readFileSync(zip);
    await upload(s3, settings, config, body);
    log(`uploaded ${body.length} bytes to s3://${settings.artifactBucket}/${config.targetKey}`);
    return { result: 'uploaded', bucket: settings.artifactBucket, key: config.targetKey, commit: config.commit.sha, bytes: body.length };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function readConfig(s3: S3Client, settings: CloneSettings): Promise<SourceConfig> {
  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: settings.configBucket, Key: settings.configKey }));
    text = (await out.Body?.transformToString('utf8')) ?? '';
  } catch (e) {
    throw new Failure(EXIT.config, `cannot read s3://${settings.configBucket}/${settings.configKey}: ${(e as Error).name}: ${(e as Error).message}`);
  }
  try {
    return parseSourceConfig(text);
  } catch (e) {
    if (e instanceof SourceConfigError) throw new Failure(EXIT.config, `invalid config s3://${settings.configBucket}/${settings.configKey}: ${e.message}`);
    throw e;
  }
}

function gitStep(exitCode: number, f: () => string): string {
  try {
    return f();
  } catch (e) {
    if (e instanceof GitError) throw new Failure(exitCode, e.message);
    throw e;
  }
}

function fetchAndArchive(git: Git, work: string, config: SourceConfig, log: (line: string) => void): { readonly repo: string; readonly zip: string } {
  const sha = config.commit.sha;
  const repo = path.join(work, 'repo');
  gitStep(EXIT.fetch, () => git.run(work, ['init', '--quiet', `--object-format=${sha.length === 64 ? 'sha256' : 'sha1'}`, repo]));
  gitStep(EXIT.fetch, () => git.run(repo, ['remote', 'add', 'origin', config.project.httpUrl]));

  const shallow = git.tryRun(repo, ['fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', sha]);
  if (!shallow.ok) {
    log(`fetching ${sha} directly failed (${lastLine(shallow.stderr)}); fetching ${config.ref} instead`);
    gitStep(EXIT.fetch, () => git.run(repo, ['fetch', '--quiet', '--no-tags', 'origin', `+${config.ref}:refs/remotes/origin/source`]));
    if (!git.tryRun(repo, ['cat-file', '-e', `${sha}^{commit}`]).ok) {
      throw new Failure(EXIT.fetch, `commit ${sha} is not in ${config.project.path} (not reachable from ${config.ref}; was it force-pushed away?)`);
    }
  }
  gitStep(EXIT.verify, () => git.run(repo, ['checkout', '--quiet', '--detach', sha]));
  const head = gitStep(EXIT.verify, () => git.run(repo, ['rev-parse', 'HEAD'])).trim();
  if (head !== sha) throw new Failure(EXIT.verify, `HEAD is ${head}, expected ${sha}`);
  log(`checked out ${config.project.path} at ${head}`);

  const zip = path.join(work, 'source.zip');
  gitStep(EXIT.archive, () => git.run(repo, ['archive', '--format=zip', `--output=${zip}`, 'HEAD']));
  return { repo, zip };
}

/**
 * Asks GitLab where the config's ref points now (`git ls-remote origin <ref>`, plus `<ref>^{}` for
 * tags: an annotated tag's ref is the tag object, the peeled entry its commit). Returns a SkipResult
 * when that is not the requested commit, or undefined when the commit is still the tip.
 */
function staleCheck(git: Git, repo: string, config: SourceConfig, settings: CloneSettings): SkipResult | undefined {
  const peeledRef = `${config.ref}^{}`;
  const patterns = config.refType === 'tag' ? [config.ref, peeledRef] : [config.ref];
  const out = gitStep(EXIT.fetch, () => git.run(repo, ['ls-remote', 'origin', ...patterns]));
  // Lines of `<oid>\t<name>`; the object id of the first line of that name.
  const lines = out.split('\n').map((line) => line.trim().split('\t'));
  const tip = (name: string) => lines.find((fields) => fields[1] === name)?.[0];
  const current = tip(peeledRef) ?? tip(config.ref) ?? null;
  if (current === config.commit.sha) return undefined;
  return {
    result: 'skipped',
    reason: current === null ? 'ref deleted' : 'ref moved',
    ref: config.ref,
    commit: config.commit.sha,
    current,
    bucket: settings.artifactBucket,
    key: config.targetKey,
  };
}

function skipMessage(skip: SkipResult, config: SourceConfig): string {
  const what = `${config.refType} ${config.branch}`;
  const state =
    skip.current === null
      ? `${what} no longer exists in ${config.project.path} (requested ${skip.commit})`
      : config.refType === 'branch'
        ? `${what} moved on from ${skip.commit} to ${skip.current}`
        : `${what} now points to ${skip.current}, not ${skip.commit}`;
  return `${state}; not uploading the requested commit, s3://${skip.bucket}/${skip.key} is left as it is`;
}

async function upload(s3: S3Client, settings: CloneSettings, config: SourceConfig, body: Buffer): Promise<void> {
  const metadata: Record<string, string> = {
    'commit-sha': config.commit.sha,
    ref: headerSafe(config.ref),
    'project-path': headerSafe(config.project.path),
    'delivery-key': config.deliveryKey,
  };
  if (config.eventUuid !== null) metadata['event-uuid'] = headerSafe(config.eventUuid);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: settings.artifactBucket,
        Key: config.targetKey,
        Body: body,
        ContentType: 'application/zip',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: settings.artifactKmsKeyArn,
        Metadata: metadata,
      }),
    );
  } catch (e) {
    throw new Failure(EXIT.upload, `upload to s3://${settings.artifactBucket}/${config.targetKey} failed: ${(e as Error).name}: ${(e as Error).message}`);
  }
}

/** S3 metadata travels in HTTP headers: printable ASCII stays, anything else is percent-encoded. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

function lastLine(text: string): string {
  return text.split('\n').filter(Boolean).pop() ?? 'no output';
}

/** Where `main` writes, and how it makes git: the process's streams and createGit, or the unit tests' fakes. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly createGit: Deps['createGit'];
}

function processIo(env: NodeJS.ProcessEnv): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    createGit: (creds, timeoutSeconds) => createGit(creds, timeoutSeconds, env),
  };
}

/** The program: settings from `env`, progress on stdout, the error on stderr; returns the exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env, io: Io = processIo(env)): Promise<number> {
  const log = (line: string) => io.stdout(`clone-and-upload: ${line}\n`);
  const token = env.GITLAB_DEPLOY_TOKEN;
  const scrub = (text: string) => (token && token.length >= 4 ? text.split(token).join('***') : text);
  try {
    const settings = readSettings(env);
    const s3 = new S3Client(s3ClientConfig(settings));
    try {
      const result = await cloneAndUpload(settings, log, { s3, createGit: io.createGit });
      io.stdout(`${JSON.stringify(result)}\n`);
      return EXIT.ok;
    } finally {
      s3.destroy();
    }
  } catch (e) {
    const code = e instanceof Failure ? e.exitCode : EXIT.unexpected;
    io.stderr(`clone-and-upload: error: ${scrub(e instanceof Error ? e.message : String(e))}\n`);
    return code;
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code));
}
