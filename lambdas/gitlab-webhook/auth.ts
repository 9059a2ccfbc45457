/**
 * Authentication of a delivery, per AUTH_MODE:
 * - token: `X-Gitlab-Token` equals the secret (constant time, over sha256 digests of equal length);
 * - signature: Standard Webhooks `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<ts>.<body>")>`
 *   (several space-separated entries allowed) with `webhook-timestamp` within the tolerance.
 * Headers are checked before any secret is fetched, so a request without credentials costs no AWS call.
 */
import { createHash, createHmac, timingSafeEqual } from 'crypto';
import type { AuthMode } from './contract';
import type { Headers } from './http';
import type { SecretSource } from './secrets';

export interface AuthConfig {
  readonly mode: AuthMode;
  readonly tokenParameter: string | undefined;
  readonly signingSecretParameter: string | undefined;
  readonly toleranceSeconds: number;
}

export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The signing secret in SSM is not a usable key: a server misconfiguration, not the client's fault. */
export class SigningSecretFormatError extends Error {
  constructor() {
    super('the signing secret is not "whsec_<base64>" (or plain base64) of at least 16 bytes');
    this.name = 'SigningSecretFormatError';
  }
}

const fail = (reason: string): AuthResult => ({ ok: false, reason });

export async function authenticate(cfg: AuthConfig, headers: Headers, body: Buffer, secrets: SecretSource, nowSeconds: number): Promise<AuthResult> {
  const useToken = cfg.mode !== 'signature';
  const useSignature = cfg.mode !== 'token';

  const token = headers.get('x-gitlab-token');
  if (useToken && (token === undefined || token === '')) return fail('missing X-Gitlab-Token');
  let sig: SignatureHeaders | undefined;
  if (useSignature) {
    const parsed = signatureHeaders(headers, nowSeconds, cfg.toleranceSeconds);
    if (!parsed.ok) return parsed;
    sig = parsed;
  }

  if (useToken) {
    const secret = await secrets.get(required(cfg.tokenParameter));
    if (!tokenMatches(token ?? '', secret)) return fail('wrong X-Gitlab-Token');
  }
  if (sig !== undefined) {
    const key = signingKey(await secrets.get(required(cfg.signingSecretParameter)));
    if (!signatureMatches(key, sig, body)) return fail('no valid webhook-signature');
  }
  return { ok: true };
}

function required(name: string | undefined): string {
  // settings.ts guarantees the parameter for the modes that use it.
  if (name === undefined) throw new Error('secret parameter name missing for the configured AUTH_MODE');
  return name;
}

/** GitLab strips line breaks from the token it sends; a secret stored with a trailing newline still matches. */
export function tokenMatches(given: string, secret: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret.replace(/[\r\n]/g, '')).digest();
  return timingSafeEqual(a, b);
}

interface SignatureHeaders {
  readonly ok: true;
  readonly id: string;
  readonly timestamp: string;
  readonly signatures: readonly Buffer[];
}

function signatureHeaders(headers: Headers, nowSeconds: number, toleranceSeconds: number): SignatureHeaders | { ok: false; reason: string } {
  const id = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const signature = headers.get('webhook-signature');
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed webhook-timestamp' };
  const age = nowSeconds - Number(timestamp);
  if (age > toleranceSeconds) return { ok: false, reason: 'stale webhook-timestamp' };
  if (age < -toleranceSeconds) return { ok: false, reason: 'webhook-timestamp in the future' };
  const signatures = signature
    .split(/\s+/)
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  if (signatures.length === 0) return { ok: false, reason: 'no v1 entry in webhook-signature' };
  return { ok: true, id, timestamp, signatures };
}

/** Standard Webhooks secrets are `whsec_<base64 key>`. */
export function signingKey(secret: string): Buffer {
  const b64 = secret.trim().replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new SigningSecretFormatError();
  const key = Buffer.from(b64, 'base64');
  if (key.length < 16) throw new SigningSecretFormatError();
  return key;
}

/** base64 HMAC-SHA256 over `<id>.<timestamp>.<raw body>`: what GitLab sends after `v1,`. */
export function computeSignature(key: Buffer, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

function signatureMatches(key: Buffer, sig: SignatureHeaders, body: Buffer): boolean {
  const expected = computeSignature(key, sig.id, sig.timestamp, body);
  let ok = false;
  // Check every entry (no early exit); lengths other than a SHA-256 digest never match.
  for (const candidate of sig.signatures) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) ok = true;
  }
  return ok;
}
