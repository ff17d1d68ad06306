import { fail } from '../errors.js';
import type { UploadedFile, UploadSpec } from './route.js';

/**
 * A strict multipart/form-data parser (RFC 7578) for the few routes that take uploads. It refuses what a
 * lenient parser would guess at: a missing or malformed boundary, a part without
 * `Content-Disposition: form-data; name=...`, a name given twice, a file part the route does not declare,
 * a text part sent as a file, headers over 8 KB, more than 16 parts, and a body without its closing
 * delimiter. Text parts must be UTF-8.
 */
export interface MultipartBody {
  fields: Record<string, string>;
  files: Record<string, UploadedFile>;
}

const MAX_PARTS = 16;
const MAX_HEADER_BYTES = 8192;
const MAX_TEXT_FIELD_BYTES = 64 * 1024;
/** Room the framing of a multipart body takes beyond its file (boundaries, part headers, text fields). */
export const MULTIPART_OVERHEAD_BYTES = 256 * 1024;

export const isMultipart = (contentType: string | undefined): boolean =>
  (contentType ?? '').trim().toLowerCase().startsWith('multipart/form-data');

export function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary || !/^[0-9A-Za-z'()+_,\-./:=? ]{1,70}$/.test(boundary) || boundary.endsWith(' '))
    throw fail.validation('multipart/form-data needs a valid boundary parameter');
  return boundary;
}

export function parseMultipart(body: Buffer, contentType: string, spec: UploadSpec): MultipartBody {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Record<string, string> = {};
  const files: Record<string, UploadedFile> = {};
  let at = body.indexOf(delimiter);
  if (at < 0) throw fail.validation('The multipart body has no part delimited by its boundary');
  const seen = new Set<string>();
  for (let parts = 0; ; parts++) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString('latin1') === '--') break;
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n')
      throw fail.validation('The multipart body has a malformed boundary line');
    if (parts >= MAX_PARTS) throw fail.validation(`A multipart body may have at most ${MAX_PARTS} parts`);
    const headerEnd = body.indexOf('\r\n\r\n', at + 2);
    if (headerEnd < 0 || headerEnd - at > MAX_HEADER_BYTES)
      throw fail.validation('A multipart part has no end of headers (or headers over 8 KB)');
    const headers = partHeaders(body.subarray(at + 2, headerEnd).toString('utf8'));
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw fail.validation('The multipart body ends without its closing boundary');
    const data = body.subarray(headerEnd + 4, next);
    at = next + 2;
    const { name, filename } = disposition(headers['content-disposition']);
    if (seen.has(name)) throw fail.validation(`The multipart field ${name} is given twice`);
    seen.add(name);
    if (spec.files.includes(name)) {
      if (filename === undefined) throw fail.validation(`The multipart field ${name} must be a file`);
      files[name] = {
        filename,
        contentType: headers['content-type'] ?? 'application/octet-stream',
        data: Buffer.from(data),
      };
      continue;
    }
    if (filename !== undefined) throw fail.validation(`The multipart field ${name} is not a file field`);
    if (data.length > MAX_TEXT_FIELD_BYTES) throw fail.validation(`The multipart field ${name} is too long`);
    const text = data.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(data))
      throw fail.validation(`The multipart field ${name} is not valid UTF-8`);
    fields[name] = text;
  }
  return { fields, files };
}

function partHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw fail.validation('A multipart part has a malformed header line');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function disposition(value: string | undefined): { name: string; filename: string | undefined } {
  if (!value || !/^form-data\s*(;|$)/i.test(value))
    throw fail.validation('Each multipart part needs Content-Disposition: form-data');
  const param = (key: string): string | undefined => {
    const m =
      new RegExp(`;\\s*${key}="([^"]*)"`, 'i').exec(value) ??
      new RegExp(`;\\s*${key}=([^;\\s"]+)`, 'i').exec(value);
    return m?.[1];
  };
  const name = param('name');
  if (!name || name.length > 100) throw fail.validation('Each multipart part needs a name');
  return { name, filename: param('filename') };
}
