import { gunzipSync, gzipSync } from 'node:zlib';
import { MnemoError, fail } from '../../errors.js';

/**
 * A small, strict reader and writer for gzip-compressed tar archives (POSIX ustar, with pax headers read
 * for long names). Packs are data, so the reader accepts only regular files and directories: links,
 * devices and FIFOs are refused, and so is any path that is absolute or climbs out with `..`. Limits are
 * checked while reading: the unpacked size (a gzip bomb stops at the cap, not after it), the number of
 * entries and each header's checksum.
 */
export interface TarLimits {
  /** Largest total of the unpacked archive (headers included). */
  maxUnpackedBytes: number;
  maxEntries: number;
}

const BLOCK = 512;

/** The archive's regular files by normalized path ("a/b.yaml", never "./", "/" or ".."). */
export function readTarGz(archive: Buffer, limits: TarLimits): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new MnemoError(
        'payload_too_large',
        `The archive unpacks to more than ${limits.maxUnpackedBytes} bytes`,
      );
    throw fail.validation('The archive is not gzip-compressed (expected a .tar.gz)');
  }
  return readTar(tar, limits);
}

export function readTar(tar: Buffer, limits: TarLimits): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  let entries = 0;
  let paxPath: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return files;
    if (++entries > limits.maxEntries)
      throw fail.validation(`The archive has more than ${limits.maxEntries} entries`);
    verifyChecksum(header, entries);
    const size = octal(header.subarray(124, 136), 'size', entries);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = offset + BLOCK;
    const end = start + size;
    if (end > tar.length) throw fail.validation('The archive is truncated');
    const data = tar.subarray(start, end);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      paxPath = paxRecord(data, 'path');
      continue;
    }
    if (type === 'g') continue;
    const name = paxPath ?? headerName(header);
    paxPath = undefined;
    if (type === '1' || type === '2')
      throw fail.validation(`The archive contains a link (${safeShown(name)}); links are refused`);
    if (type === '5') {
      checkPath(name);
      continue;
    }
    if (type !== '0' && type !== '\0')
      throw fail.validation(
        `The archive contains an entry of unsupported type "${type}" (${safeShown(name)})`,
      );
    const path = checkPath(name);
    if (files.has(path)) throw fail.validation(`The archive contains ${path} twice`);
    files.set(path, Buffer.from(data));
  }
  if (offset === 0) throw fail.validation('The archive is empty');
  // Two zero blocks end an archive; writers that stop after the last entry are accepted.
  return files;
}

function verifyChecksum(header: Buffer, entry: number): void {
  const stored = octal(header.subarray(148, 156), 'checksum', entry);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
  if (sum !== stored) throw fail.validation(`Entry ${entry} of the archive has a bad header checksum`);
}

function octal(field: Buffer, what: string, entry: number): number {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]{1,12}$/.test(text)) throw fail.validation(`Entry ${entry} of the archive has a bad ${what}`);
  return parseInt(text, 8);
}

const cString = (field: Buffer): string => {
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
};

function headerName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  // POSIX ustar ("ustar\0") has a name prefix; GNU tar ("ustar  ") keeps other fields there.
  const ustar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = ustar ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** One value of a pax extended header ("<len> <key>=<value>\n" records). */
function paxRecord(data: Buffer, key: string): string | undefined {
  let at = 0;
  let found: string | undefined;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length)
      throw fail.validation('The archive has a malformed pax header');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === key) found = record.slice(eq + 1);
    if (eq > 0 && record.slice(0, eq) === 'linkpath')
      throw fail.validation('The archive contains a link; links are refused');
    at += length;
  }
  return found;
}

const safeShown = (name: string): string => JSON.stringify(name.slice(0, 200));

/** A relative path inside the archive, normalized; 400 for absolute paths and `..` (path traversal). */
function checkPath(raw: string): string {
  if (raw.includes('\0') || raw.includes('\\'))
    throw fail.validation(`The archive path ${safeShown(raw)} is not allowed`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw))
    throw fail.validation(`The archive path ${safeShown(raw)} is absolute; refused`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw fail.validation(`The archive path ${safeShown(raw)} leaves the archive (path traversal); refused`);
  return parts.join('/');
}

/** A .tar.gz of `files` (path -> bytes), ustar, mode 0644, the given modification time. */
export function writeTarGz(files: readonly [string, Buffer][], mtime: Date): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, data] of files) {
    blocks.push(ustarHeader(path, data.length, mtime));
    blocks.push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks));
}

function ustarHeader(path: string, size: number, mtime: Date): Buffer {
  const header = Buffer.alloc(BLOCK);
  let name = path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf('/', 155);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155)
    throw new Error(`tar path too long: ${path}`);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 8, 'latin1');
  header.write('0000000\0', 108, 8, 'latin1');
  header.write('0000000\0', 116, 8, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  header.write(
    `${Math.floor(mtime.getTime() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    12,
    'latin1',
  );
  header.write('        ', 148, 8, 'latin1');
  header.write('0', 156, 1, 'latin1');
  header.write('ustar\0', 257, 6, 'latin1');
  header.write('00', 263, 2, 'latin1');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return header;
}
