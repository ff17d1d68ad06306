import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { ADMIN_KEY, type TestResponse, type TestServer } from './server.js';

/**
 * Pack archives for tests, built byte by byte here (not with the server's own writer), so the reader is
 * tested against an independent encoder: ustar headers with any type flag, name and link target, the
 * skill layout with or without INTEGRITY, and the manifest.yaml layout.
 */
export interface TarEntry {
  name: string;
  data?: Buffer | string;
  /** '0' file (default), '5' directory, '1' hard link, '2' symlink, 'x' pax header ... */
  type?: string;
  linkname?: string;
}

export function tarHeader(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(entry.name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    'latin1',
  );
  h.write('        ', 148, 'latin1');
  h.write(entry.type ?? '0', 156, 'latin1');
  if (entry.linkname) h.write(entry.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A tar (uncompressed) of the entries, with the two zero blocks at the end. */
export function tar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    blocks.push(tarHeader(entry, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const tarGz = (entries: readonly TarEntry[]): Buffer => gzipSync(tar(entries));

export interface PackSpec {
  name: string;
  version?: string;
  engrams: Record<string, unknown>[];
  /** 'auto' writes a correct INTEGRITY file, a string writes that, null none (default auto). */
  integrity?: string | null;
  /** Folder the files sit in ('' = the root; default the pack name). */
  folder?: string;
  extraManifest?: Record<string, unknown>;
}

export function skillFiles(spec: PackSpec): { skill: Buffer; engrams: Buffer; integrity: string } {
  const front = {
    name: spec.name,
    version: spec.version ?? '1.0.0',
    description: `The ${spec.name} pack`,
    creator: 'tests',
    license: 'cc-by-sa-4.0',
    tags: ['testing'],
    metadata: { id: spec.name, injection_policy: 'on_match', match_terms: ['deploy'], domain: 'software' },
    ...(spec.extraManifest ?? {}),
  };
  const skill = Buffer.from(`---\n${stringify(front)}---\n\n# ${spec.name}\n`);
  const engrams = Buffer.from(stringify({ engrams: spec.engrams }));
  const integrity = `sha256:${createHash('sha256').update(skill).update(engrams).digest('hex')}`;
  return { skill, engrams, integrity };
}

/** A .tar.gz in the SKILL.md layout. */
export function skillPack(spec: PackSpec): { archive: Buffer; integrity: string } {
  const { skill, engrams, integrity } = skillFiles(spec);
  const dir = spec.folder ?? spec.name;
  const at = (file: string) => (dir === '' ? file : `${dir}/${file}`);
  const entries: TarEntry[] = [
    ...(dir === '' ? [] : [{ name: `${dir}/`, type: '5' }]),
    { name: at('SKILL.md'), data: skill },
    { name: at('engrams.yaml'), data: engrams },
  ];
  const declared = spec.integrity === undefined || spec.integrity === 'auto' ? integrity : spec.integrity;
  if (declared !== null) entries.push({ name: at('INTEGRITY'), data: `${declared}\n` });
  return { archive: tarGz(entries), integrity };
}

/** Uploads an archive as multipart/form-data (field file) with optional text fields. */
export async function uploadPack(
  server: TestServer,
  org: string | null,
  token: string,
  archive: Buffer,
  fields: Record<string, string> = {},
  query = '',
): Promise<TestResponse> {
  const form = new FormData();
  form.append('file', new Blob([archive], { type: 'application/gzip' }), 'pack.tar.gz');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (org !== null) headers['x-mnemo-org'] = org;
  const res = await fetch(`${server.url}/api/v1/packs${query}`, { method: 'POST', headers, body: form });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Uploads as the admin key of `org`. */
export const adminUpload = (server: TestServer, org: string, archive: Buffer, fields = {}, query = '') =>
  uploadPack(server, org, ADMIN_KEY, archive, fields, query);

export const engrams = (n: number, prefix = 'Always deploy'): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `P-${i + 1}`,
    statement: `${prefix} service number ${i + 1} with the blue green strategy`,
    type: 'procedural',
    domain: 'software.deployment',
    tags: ['deploy'],
  }));
