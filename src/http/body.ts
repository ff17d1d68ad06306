import type { HttpResponse } from 'uWebSockets.js';
import { MnemoError } from '../errors.js';
import { NOT_JSON, parseJsonInput } from './json-input.js';

export interface ResponseState {
  aborted: boolean;
  finished: boolean;
}

/**
 * Reads a request body up to `limit` bytes. Must be called synchronously inside the uWS handler (before
 * any await), because uWS delivers body chunks only to a handler attached in that tick. Chunks are copied:
 * uWS neuters each ArrayBuffer when the callback returns.
 */
export function readBody(
  res: HttpResponse,
  limit: number,
  declaredLength: number | undefined,
  state: ResponseState,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (declaredLength !== undefined && declaredLength > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed || state.aborted) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
  });
}

const tooLarge = (limit: number): MnemoError =>
  new MnemoError('payload_too_large', `Request body exceeds the limit of ${limit} bytes`);

/**
 * Parses a JSON body through the input door (src/http/json-input.ts); an empty body is `undefined` (routes
 * decide whether that is allowed). A refusal is a 400 whose detail names the field (`body.metadata.note`).
 */
export function parseJsonBody(raw: Buffer): unknown {
  const result = parseJsonInput(raw);
  if (result.ok) return result.value;
  const { path, message } = result.problem;
  if (message === NOT_JSON) throw new MnemoError('validation', 'Invalid JSON body');
  throw new MnemoError('validation', `${path === '' ? 'Request body' : `body.${path}`} ${message}`);
}
