/**
 * HTTP plumbing: case-insensitive headers, the raw body (base64 or not), and small JSON replies.
 * GitLab stores response bodies for inspection, so replies stay short.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Headers by lower-cased name. API Gateway joins repeated headers with commas. */
export type Headers = ReadonlyMap<string, string>;

export function normalizeHeaders(raw: APIGatewayProxyEventV2['headers'] | null | undefined): Headers {
  const out = new Map<string, string>();
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string') continue;
    const key = name.toLowerCase();
    const prev = out.get(key);
    out.set(key, prev === undefined ? value : `${prev},${value}`);
  }
  return out;
}

/** The raw request body as bytes: signatures are computed over exactly these. */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (typeof event.body !== 'string') return Buffer.alloc(0);
  return event.isBase64Encoded === true ? Buffer.from(event.body, 'base64') : Buffer.from(event.body);
}

export type Reply = APIGatewayProxyStructuredResultV2 & { readonly statusCode: number; readonly body: string };

export function reply(statusCode: number, body: Readonly<Record<string, string | number | null>>, headers: Readonly<Record<string, string>> = {}): Reply {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
