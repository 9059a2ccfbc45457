/**
 * Settings of the webhook Lambda: parsed from environment variables once per container, every
 * problem reported at once. This is the only module that reads process.env.
 */
import { AUTH_MODES, AuthMode, DEFAULTS, ENV, LogLevel, MAX_BODY_BYTES_LIMIT, Route } from './contract';
import { CUSTOMER_NAME, ENV_NAME, GITLAB_PROJECT_PATH, REPOSITORY_KINDS } from '../shared/names';
import { CODEBUILD_PROJECT, Env, KMS_KEY_ARN, S3_BUCKET, SQS_QUEUE_URL, SSM_NAME, envReader } from './env-reader';

export interface Settings {
  readonly artifactBucket: string;
  readonly artifactKmsKeyArn: string;
  readonly codebuildProjects: Readonly<Record<Route['kind'], string>>;
  readonly environment: string;
  readonly authMode: AuthMode;
  readonly webhookTokenParameter: string | undefined;
  readonly webhookSigningSecretParameter: string | undefined;
  readonly routes: readonly Route[];
  readonly tagPushes: boolean;
  /** Normalized GitLab base URL without a trailing slash, or undefined (clone URLs on any host, project at the root). */
  readonly gitlabUrl: string | undefined;
  readonly secretCacheTtlSeconds: number;
  readonly maxBodyBytes: number;
  readonly signatureToleranceSeconds: number;
  readonly logLevel: LogLevel;
  /** SQS queue URL: an accepted delivery is durably recorded there before the 202. */
  readonly deliveryQueueUrl: string;
}

export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid gitlab-webhook settings: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

export { SQS_QUEUE_URL };

/** Parses settings from an environment map. Throws SettingsError listing every problem. */
export function parseSettings(env: Env): Settings {
  const problems: string[] = [];
  const { required, int, logLevel: readLogLevel } = envReader(env, problems);

  const artifactBucket = required(ENV.artifactBucket, S3_BUCKET, 'an S3 bucket name');
  const artifactKmsKeyArn = required(ENV.artifactKmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
  const codebuildProjects = {
    software: required(ENV.codebuildProjectSoftware, CODEBUILD_PROJECT, 'a CodeBuild project name'),
    infrastructure: required(ENV.codebuildProjectInfrastructure, CODEBUILD_PROJECT, 'a CodeBuild project name'),
  };
  const environment = required(ENV.environment, ENV_NAME, 'an environment name (2-10 of a-z, 0-9, starting with a letter)');

  const rawMode = env[ENV.authMode];
  let authMode: AuthMode = 'token';
  if (rawMode === undefined || rawMode === '') problems.push(`${ENV.authMode} is required (one of ${AUTH_MODES.join(', ')})`);
  else if (!(AUTH_MODES as readonly string[]).includes(rawMode)) problems.push(`${ENV.authMode}=${JSON.stringify(rawMode)} must be one of ${AUTH_MODES.join(', ')}`);
  else authMode = rawMode as AuthMode;

  const usesToken = authMode !== 'signature';
  const usesSignature = authMode !== 'token';
  const optionalName = (name: string, needed: boolean): string | undefined => {
    const v = env[name];
    if (v === undefined || v === '') {
      if (needed) problems.push(`${name} is required when ${ENV.authMode} is ${authMode} (an SSM parameter name)`);
      return undefined;
    }
    if (!SSM_NAME.test(v)) problems.push(`${name}=${JSON.stringify(v)} is not an SSM parameter name`);
    return v;
  };
  const webhookTokenParameter = optionalName(ENV.webhookTokenParameter, usesToken);
  const webhookSigningSecretParameter = optionalName(ENV.webhookSigningSecretParameter, usesSignature);

  const routes = parseRoutes(env[ENV.routes], problems);

  const rawTags = env[ENV.tagPushes];
  let tagPushes = false;
  if (rawTags === 'true') tagPushes = true;
  else if (rawTags !== undefined && rawTags !== '' && rawTags !== 'false') problems.push(`${ENV.tagPushes}=${JSON.stringify(rawTags)} must be "true" or "false"`);

  const gitlabUrl = parseGitlabUrl(env[ENV.gitlabUrl], problems);

  const secretCacheTtlSeconds = int(ENV.secretCacheTtlSeconds, DEFAULTS.secretCacheTtlSeconds, 0, 3600);
  const maxBodyBytes = int(ENV.maxBodyBytes, DEFAULTS.maxBodyBytes, 1024, MAX_BODY_BYTES_LIMIT);
  const signatureToleranceSeconds = int(ENV.signatureToleranceSeconds, DEFAULTS.signatureToleranceSeconds, 1, 3600);

  const deliveryQueueUrl = required(ENV.deliveryQueueUrl, SQS_QUEUE_URL, 'an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)');

  const logLevel = readLogLevel(ENV.logLevel);

  if (problems.length > 0) throw new SettingsError(problems);
  return {
    artifactBucket,
    artifactKmsKeyArn,
    codebuildProjects,
    environment,
    authMode,
    webhookTokenParameter,
    webhookSigningSecretParameter,
    routes,
    tagPushes,
    gitlabUrl,
    secretCacheTtlSeconds,
    maxBodyBytes,
    signatureToleranceSeconds,
    logLevel,
    deliveryQueueUrl,
  };
}

export function parseRoutes(raw: string | undefined, problems: string[]): Route[] {
  if (raw === undefined || raw === '') {
    problems.push(`${ENV.routes} is required (a JSON array of {path, kind, customer, branches}; "[]" routes nothing)`);
    return [];
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    problems.push(`${ENV.routes} is not valid JSON: ${(e as Error).message}`);
    return [];
  }
  if (!Array.isArray(doc)) {
    problems.push(`${ENV.routes} must be a JSON array`);
    return [];
  }
  const routes: Route[] = [];
  const seen = new Set<string>();
  doc.forEach((item: unknown, i) => {
    const at = `${ENV.routes}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const r = item as Record<string, unknown>;
    const before = problems.length;
    const unknown = Object.keys(r).filter((k) => !['path', 'kind', 'customer', 'branches'].includes(k));
    if (unknown.length > 0) problems.push(`${at} has unknown field(s) ${unknown.join(', ')}`);
    if (typeof r.path !== 'string' || !GITLAB_PROJECT_PATH.test(r.path)) problems.push(`${at}.path must be a GitLab project path such as group/project`);
    if (!(REPOSITORY_KINDS as readonly unknown[]).includes(r.kind)) problems.push(`${at}.kind must be ${REPOSITORY_KINDS.map((k) => `"${k}"`).join(' or ')}`);
    if (typeof r.customer !== 'string' || !CUSTOMER_NAME.test(r.customer)) problems.push(`${at}.customer must be a customer name (2-20 characters of a-z, 0-9 and single "-")`);
    const branches = r.branches;
    if (!Array.isArray(branches) || branches.length === 0 || !branches.every((b) => typeof b === 'string' && b.length > 0)) {
      problems.push(`${at}.branches must be a non-empty array of branch names`);
    }
    if (typeof r.path === 'string') {
      const key = r.path.toLowerCase();
      if (seen.has(key)) problems.push(`${at}.path ${JSON.stringify(r.path)} is listed twice`);
      seen.add(key);
    }
    if (problems.length === before) {
      routes.push({ path: r.path as string, kind: r.kind as Route['kind'], customer: r.customer as string, branches: [...(branches as string[])] });
    }
  });
  return routes;
}

export function parseGitlabUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    problems.push(`${ENV.gitlabUrl}=${JSON.stringify(raw)} is not a URL`);
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    problems.push(`${ENV.gitlabUrl}=${JSON.stringify(raw)} must be an http(s) URL`);
    return undefined;
  }
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

let cached: { readonly settings?: Settings; readonly error?: SettingsError } | undefined;

/** Settings of this container, parsed from process.env on first use and cached (errors too). */
export function containerSettings(): Settings {
  if (cached === undefined) {
    try {
      cached = { settings: parseSettings(process.env) };
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      cached = { error: e };
    }
  }
  if (cached.error) throw cached.error;
  return cached.settings as Settings;
}
