/**
 * Webhook secrets from SSM Parameter Store (SecureString, read WithDecryption), cached per
 * container for a short TTL so that a rotated secret is picked up within minutes.
 * Concurrent misses share one request; failures are not cached.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { sdk } from './sdk';

export interface SecretSource {
  /** The decrypted value of the parameter. Throws the SDK's error when SSM fails. */
  get(name: string): Promise<string>;
}

export class EmptySecretError extends Error {
  constructor(name: string) {
    super(`SSM parameter ${name} has no value`);
    this.name = 'EmptySecretError';
  }
}

/** `ssm` is called on the first cache miss (lazy SDK loading). */
export function ssmSecretSource(ssm: () => SSMClient, ttlSeconds: number, now: () => number = Date.now): SecretSource {
  const cache = new Map<string, { readonly value: Promise<string>; readonly expiresAt: number }>();
  return {
    get(name) {
      const hit = cache.get(name);
      if (hit && hit.expiresAt > now()) return hit.value;
      const { GetParameterCommand } = sdk.ssm();
      const value = ssm()
        .send(new GetParameterCommand({ Name: name, WithDecryption: true }))
        .then((out) => {
        const v = out.Parameter?.Value;
        if (v === undefined || v === '') throw new EmptySecretError(name);
        return v;
      });
      cache.set(name, { value, expiresAt: now() + ttlSeconds * 1000 });
      value.catch(() => {
        if (cache.get(name)?.value === value) cache.delete(name);
      });
      return value;
    },
  };
}
