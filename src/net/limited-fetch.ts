import http from 'node:http';
import https from 'node:https';
import { fail, MnemoError } from '../errors.js';
import { parseFetchUrl } from './fetch-target.js';
import { checkedLookup, OutboundUrlRefused, type OutboundPolicy } from './outbound-url.js';

/**
 * GET of a client-named URL with every limit a server needs: the outbound rule of outbound-url.ts checked
 * on the URL and on each redirect's target (and on every address DNS returns, before connecting), at most
 * `maxRedirects` redirects, a deadline for the whole exchange, and a body cap enforced while reading (a
 * declared Content-Length over the cap is refused before the body is read).
 */
export interface FetchLimits extends OutboundPolicy {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export async function fetchLimited(raw: string, limits: FetchLimits, field = 'url'): Promise<Buffer> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  let url = parseFetchUrl(raw, limits, field);
  for (let hop = 0; ; hop++) {
    const answer = await getOnce(url, limits, deadline, field);
    if (answer.kind === 'body') return answer.body;
    if (hop >= limits.maxRedirects)
      throw fail.unprocessable(`${field}: more than ${limits.maxRedirects} redirects`);
    let next: string;
    try {
      next = new URL(answer.location, url).toString();
    } catch {
      throw fail.unprocessable(`${field}: a redirect named an invalid location`);
    }
    url = parseFetchUrl(next, limits, field);
  }
}

type Answer = { kind: 'body'; body: Buffer } | { kind: 'redirect'; location: string };

function getOnce(url: URL, limits: FetchLimits, signal: AbortSignal, field: string): Promise<Answer> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<Answer>((resolve, reject) => {
    const req = client.get(
      url,
      { lookup: checkedLookup(limits), signal, headers: { accept: '*/*' } },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          resolve({ kind: 'redirect', location: res.headers.location });
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(fail.unprocessable(`${field}: the server answered ${status}`));
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > limits.maxBytes) {
          res.destroy();
          reject(tooLarge(field, limits.maxBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes) {
            res.destroy();
            reject(tooLarge(field, limits.maxBytes));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ kind: 'body', body: Buffer.concat(chunks, size) }));
        res.on('error', (err) => reject(transportError(err, field, signal)));
      },
    );
    req.on('error', (err) => reject(transportError(err, field, signal)));
  });
}

const tooLarge = (field: string, max: number) =>
  new MnemoError('payload_too_large', `${field}: the archive exceeds the limit of ${max} bytes`);

function transportError(err: Error, field: string, signal: AbortSignal): MnemoError {
  if (err instanceof MnemoError) return err;
  if (err instanceof OutboundUrlRefused) return fail.validation(`${field} refused: ${err.message}`);
  if (signal.aborted) return fail.unprocessable(`${field}: the download did not finish in time`);
  return fail.unprocessable(`${field}: could not be fetched (${err.message})`);
}
