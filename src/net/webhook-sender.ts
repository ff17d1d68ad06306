import http from 'node:http';
import https from 'node:https';
import { assertPublicUrl, checkedLookup, OutboundUrlRefused, type OutboundPolicy } from './outbound-url.js';

/**
 * One webhook POST. The URL is checked (assertPublicUrl) before every attempt and the connection resolves
 * through `checkedLookup`, so a name that now points at a private address is refused before connecting.
 * Redirects are never followed (a 3xx is a failed attempt), the whole exchange has one deadline, and at
 * most `responseLimitBytes` of the answer are read before the connection is dropped.
 */
export interface SendSettings extends OutboundPolicy {
  timeoutMs: number;
  responseLimitBytes: number;
  userAgent: string;
}

export interface SendResult {
  /** The receiver's status; null when no answer came (refused, timeout, network error). */
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** The first characters of the answer (at most 256). */
  excerpt: string | null;
}

const EXCERPT_CHARS = 256;

export async function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  settings: SendSettings,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  try {
    await assertPublicUrl(url, settings);
  } catch (err) {
    return { statusCode: null, latencyMs: elapsed(), error: refusal(err), excerpt: null };
  }
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve({ ...result, latencyMs: elapsed() });
    };
    const request = transport.request(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': settings.userAgent,
        },
        lookup: checkedLookup(settings),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (): void => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          finish({
            statusCode: status,
            error:
              status >= 200 && status < 300
                ? null
                : status >= 300 && status < 400
                  ? `redirect ${status} not followed`
                  : `HTTP ${status}`,
            excerpt: text === '' ? null : text.slice(0, EXCERPT_CHARS),
          });
        };
        response.on('data', (chunk: Buffer) => {
          if (size >= settings.responseLimitBytes) return;
          chunks.push(chunk.subarray(0, settings.responseLimitBytes - size));
          size += chunk.length;
          // Enough read: the rest of the answer is not wanted.
          if (size >= settings.responseLimitBytes) done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const deadline = setTimeout(
      () => finish({ statusCode: null, error: `timed out after ${settings.timeoutMs} ms`, excerpt: null }),
      settings.timeoutMs,
    );
    request.on('error', (err: NodeJS.ErrnoException) =>
      finish({ statusCode: null, error: refusal(err), excerpt: null }),
    );
    request.end(body);
  });
}

function refusal(err: unknown): string {
  if (err instanceof OutboundUrlRefused) return `refused: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}
