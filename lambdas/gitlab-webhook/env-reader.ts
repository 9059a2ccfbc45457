/**
 * Reading a Lambda's settings from its environment variables: the readers and the value patterns
 * that the webhook, the worker and the reconciler share. Each reader records a problem (naming the
 * variable, the bad value and what is allowed) instead of throwing, so a program reports every
 * problem at once.
 */
import { DEFAULTS, LOG_LEVELS, LogLevel } from './contract';

export type Env = Readonly<Record<string, string | undefined>>;

export const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_+=,.@-]+$/;
export const CODEBUILD_PROJECT = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
export const SSM_NAME = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
export const SQS_QUEUE_URL = /^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/[A-Za-z0-9_-]{1,80}$/;

export interface EnvReader {
  /** The variable's value; a problem when it is missing, empty or does not match. */
  required(name: string, pattern: RegExp, what: string): string;
  /** A whole number from min to max; the default when unset; a problem (and the default) otherwise. */
  int(name: string, dflt: number, min: number, max: number): number;
  /** One of LOG_LEVELS; the default level when unset. */
  logLevel(name: string): LogLevel;
}

export function envReader(env: Env, problems: string[]): EnvReader {
  return {
    required(name, pattern, what) {
      const v = env[name];
      if (v === undefined || v === '') problems.push(`${name} is required (${what})`);
      else if (!pattern.test(v)) problems.push(`${name}=${JSON.stringify(v)} is not ${what}`);
      return v ?? '';
    },
    int(name, dflt, min, max) {
      const v = env[name];
      if (v === undefined || v === '') return dflt;
      if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
        problems.push(`${name}=${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
        return dflt;
      }
      return Number(v);
    },
    logLevel(name) {
      const v = env[name];
      if (v === undefined || v === '') return DEFAULTS.logLevel;
      if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
      problems.push(`${name}=${JSON.stringify(v)} must be one of ${LOG_LEVELS.join(', ')}`);
      return DEFAULTS.logLevel;
    },
  };
}
