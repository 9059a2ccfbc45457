/**
 * Structured logs: one JSON object per line on stdout (CloudWatch keeps stdout lines as events).
 * Callers pass only chosen fields: never secrets, headers wholesale or payloads.
 */
import type { LogLevel } from './contract';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A JSON value a log line may carry: nested arrays and objects are written as JSON (not as a
 * string), e.g. the `_aws` object of CloudWatch Embedded Metric Format, which must be an object.
 */
export type LogValue = string | number | boolean | null | undefined | readonly LogValue[] | { readonly [key: string]: LogValue };

export type LogFields = Readonly<Record<string, LogValue>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the request id). */
  child(fields: LogFields): Logger;
}

export type LineWriter = (line: string) => void;

export const stdoutWriter: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

export function createLogger(level: LogLevel, write: LineWriter = stdoutWriter, base: LogFields = {}): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

/** Name and message of an error, for logs (no stack, no request data). */
export function errorFields(e: unknown): LogFields {
  if (e instanceof Error) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { errorName: e.name, errorMessage: e.message.slice(0, 500), awsStatus: status };
  }
  return { errorName: typeof e, errorMessage: String(e).slice(0, 500) };
}
