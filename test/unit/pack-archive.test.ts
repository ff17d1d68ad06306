import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isMnemoError } from '../../src/errors.js';
import { parseMultipart } from '../../src/http/multipart.js';
import { parsePack, packFiles } from '../../src/memory/packs/pack-format.js';
import { readTar, readTarGz, writeTarGz } from '../../src/memory/packs/tar-archive.js';
import { parseFetchUrl } from '../../src/net/fetch-target.js';
import { isPublicAddress } from '../../src/net/outbound-url.js';
import { engrams, skillFiles, tar, tarHeader } from '../helpers/packs.js';

/** The pack archive reader and format, the multipart parser and the outbound URL rule, without I/O. */
const LIMITS = { maxUnpackedBytes: 1 << 20, maxEntries: 100 };

function refusal(run: () => unknown): { status: number; detail: string } {
  try {
    run();
  } catch (err) {
    if (isMnemoError(err)) return { status: err.status, detail: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('tar reader', () => {
  it('reads regular files, skips directories, strips ./ and follows pax path headers', () => {
    const long = `${'d'.repeat(120)}/SKILL.md`;
    const pax = `${(long.length + 10).toString()} path=${long}\n`;
    const record = `${Buffer.byteLength(pax) + String(Buffer.byteLength(pax)).length - String(long.length + 10).length} path=${long}\n`;
    const files = readTar(
      tar([
        { name: './p/', type: '5' },
        { name: './p/a.yaml', data: 'a' },
        { name: 'PaxHeader', type: 'x', data: record },
        { name: 'truncated-name', data: 'long' },
      ]),
      LIMITS,
    );
    expect([...files.keys()]).toEqual(['p/a.yaml', long]);
    expect(files.get(long)?.toString()).toBe('long');
  });

  it('round-trips what writeTarGz writes', () => {
    const archive = writeTarGz(
      [
        ['x/one.txt', Buffer.from('1')],
        [`${'n'.repeat(120)}/two.txt`, Buffer.from('2')],
      ],
      new Date(),
    );
    const files = readTarGz(archive, LIMITS);
    expect(files.get('x/one.txt')?.toString()).toBe('1');
    expect(files.get(`${'n'.repeat(120)}/two.txt`)?.toString()).toBe('2');
  });

  it('refuses a bad checksum, a truncated entry, a duplicate path, too many entries and a gzip bomb', () => {
    const good = tar([{ name: 'a', data: 'x' }]);
    const corrupt = Buffer.from(good);
    corrupt[0] = 'b'.charCodeAt(0);
    expect(refusal(() => readTar(corrupt, LIMITS)).detail).toMatch(/checksum/);
    const truncated = Buffer.concat([tarHeader({ name: 'a' }, 4096), Buffer.alloc(512)]);
    expect(refusal(() => readTar(truncated, LIMITS)).detail).toMatch(/truncated/);
    expect(refusal(() => readTar(tar([{ name: 'a' }, { name: './a' }]), LIMITS)).detail).toMatch(/twice/);
    const many = tar(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}` })));
    expect(refusal(() => readTar(many, { ...LIMITS, maxEntries: 4 })).detail).toMatch(/more than 4 entries/);
    const bomb = gzipSync(Buffer.alloc(4 << 20));
    expect(refusal(() => readTarGz(bomb, LIMITS)).status).toBe(413);
    expect(refusal(() => readTar(Buffer.alloc(0), LIMITS)).detail).toMatch(/empty/);
  });

  it('refuses traversal however it is spelled, and links announced by pax', () => {
    for (const name of ['../x', 'a/../../x', 'a/..', '/abs', 'C:/win', 'a\\b'])
      expect(refusal(() => readTar(tar([{ name, data: 'x' }]), LIMITS)).status, name).toBe(400);
    const pax = '19 linkpath=/etc/x\n';
    expect(
      refusal(() => readTar(tar([{ name: 'P', type: 'x', data: pax }, { name: 'a' }]), LIMITS)).detail,
    ).toMatch(/link/);
  });
});

describe('pack format', () => {
  const files = (entries: Record<string, string | Buffer>) =>
    new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

  it('computes the integrity over SKILL.md then engrams.yaml, and reads the manifest', () => {
    const { skill, engrams: body, integrity } = skillFiles({ name: 'p', engrams: engrams(2) });
    const pack = parsePack(files({ 'top/SKILL.md': skill, 'top/engrams.yaml': body }));
    expect(pack).toMatchObject({ layout: 'skill', integrity, declaredIntegrity: null });
    expect(pack.manifest).toMatchObject({
      name: 'p',
      version: '1.0.0',
      injection_policy: 'on_match',
      domain: 'software',
    });
    expect(pack.engrams[0]).toMatchObject({ type: 'procedural', pack_id: 'P-1', commitment: 'leaning' });
  });

  it('refuses a wrong engram_count, an unknown injection policy, files in two top folders', () => {
    const { skill, engrams: body } = skillFiles({
      name: 'p',
      engrams: engrams(2),
      extraManifest: { metadata: { engram_count: 3 } },
    });
    expect(refusal(() => parsePack(files({ 'SKILL.md': skill, 'engrams.yaml': body }))).detail).toMatch(
      /engram_count is 3/,
    );
    const policy = skillFiles({
      name: 'p',
      engrams: engrams(1),
      extraManifest: { metadata: { injection_policy: 'sometimes' } },
    });
    expect(
      refusal(() => parsePack(files({ 'SKILL.md': policy.skill, 'engrams.yaml': policy.engrams }))).detail,
    ).toMatch(/injection_policy/);
    const ok = skillFiles({ name: 'p', engrams: engrams(1) });
    expect(
      refusal(() => parsePack(files({ 'a/SKILL.md': ok.skill, 'b/engrams.yaml': ok.engrams }))).detail,
    ).toMatch(/Unknown pack layout/);
  });

  it('reads the manifest layout: glob, integrity over the engram files, bad globs refused', () => {
    const a = 'statement: First rule\n';
    const b = 'statement: Second rule\n';
    const pack = parsePack(
      files({
        'manifest.yaml': 'name: m\nengrams: ./engrams/*.yaml\n',
        'engrams/b.yaml': b,
        'engrams/a.yaml': a,
        'engrams/skip.txt': 'x',
      }),
    );
    expect(pack.engrams.map((e) => e.statement)).toEqual(['First rule', 'Second rule']);
    expect(pack.layout).toBe('manifest');
    expect(
      refusal(() => parsePack(files({ 'manifest.yaml': 'name: m\nengrams: ./**/x*.yaml\n' }))).status,
    ).toBe(400);
    expect(
      refusal(() => parsePack(files({ 'manifest.yaml': 'name: m\nengrams: ./none/*.yaml\n' }))).detail,
    ).toMatch(/matches no file/);
    expect(
      refusal(() =>
        parsePack(
          files({
            'manifest.yaml': 'name: m\nengrams: ./engrams/*.yaml\nintegrity: nope\n',
            'engrams/a.yaml': a,
          }),
        ),
      ).detail,
    ).toMatch(/integrity must be/);
  });

  it('refuses YAML alias bombs and duplicate keys', () => {
    const bomb = `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nengrams: []\n`;
    const skill = '---\nname: p\n---\n';
    expect(refusal(() => parsePack(files({ 'SKILL.md': skill, 'engrams.yaml': bomb }))).status).toBe(400);
    expect(
      refusal(() =>
        parsePack(files({ 'SKILL.md': '---\nname: p\nname: q\n---\n', 'engrams.yaml': 'engrams: []' })),
      ).detail,
    ).toMatch(/not valid YAML/);
  });

  it('writes an export that reads back with the same engrams and a matching INTEGRITY', () => {
    const pack = parsePack(
      files({
        'SKILL.md': skillFiles({ name: 'p', engrams: engrams(2) }).skill,
        'engrams.yaml': skillFiles({ name: 'p', engrams: engrams(2) }).engrams,
      }),
    );
    const written = new Map(packFiles(pack.manifest, pack.engrams));
    const again = parsePack(written);
    expect(again.declaredIntegrity).toBe(again.integrity);
    expect(again.engrams.map((e) => e.statement)).toEqual(pack.engrams.map((e) => e.statement));
  });
});

describe('multipart parser', () => {
  const spec = { maxBytes: 1000, files: ['file'] };
  const body = (...parts: string[]) =>
    Buffer.from(`${parts.map((p) => `--B\r\n${p}\r\n`).join('')}--B--\r\n`);
  const file =
    'Content-Disposition: form-data; name="file"; filename="p.tgz"\r\nContent-Type: application/gzip\r\n\r\nBYTES';
  const text = (name: string, value: string) =>
    `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;

  it('separates text fields and declared files', () => {
    const parsed = parseMultipart(
      body(file, text('scope', 'org:x')),
      'multipart/form-data; boundary=B',
      spec,
    );
    expect(parsed.fields).toEqual({ scope: 'org:x' });
    expect(parsed.files.file).toMatchObject({ filename: 'p.tgz', contentType: 'application/gzip' });
    expect(parsed.files.file?.data.toString()).toBe('BYTES');
  });

  it('refuses duplicates, undeclared files, text as file, bad headers, too many parts, bad UTF-8', () => {
    const ct = 'multipart/form-data; boundary=B';
    expect(refusal(() => parseMultipart(body(file, file), ct, spec)).detail).toMatch(/twice/);
    expect(
      refusal(() =>
        parseMultipart(body('Content-Disposition: form-data; name="other"; filename="x"\r\n\r\nx'), ct, spec),
      ).detail,
    ).toMatch(/not a file field/);
    expect(refusal(() => parseMultipart(body(text('file', 'x')), ct, spec)).detail).toMatch(/must be a file/);
    expect(refusal(() => parseMultipart(body('Content-Type: text/plain\r\n\r\nx'), ct, spec)).detail).toMatch(
      /Content-Disposition/,
    );
    expect(
      refusal(() =>
        parseMultipart(body(...Array.from({ length: 17 }, (_, i) => text(`f${i}`, 'x'))), ct, spec),
      ).detail,
    ).toMatch(/at most 16/);
    const badUtf8 = Buffer.concat([
      Buffer.from(`--B\r\n${text('scope', '')}`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\r\n--B--\r\n'),
    ]);
    expect(refusal(() => parseMultipart(badUtf8, ct, spec)).detail).toMatch(/UTF-8/);
    expect(refusal(() => parseMultipart(body(file), 'multipart/form-data', spec)).detail).toMatch(/boundary/);
    expect(refusal(() => parseMultipart(Buffer.from('--B\r\nx'), ct, spec)).status).toBe(400);
  });
});

describe('outbound URL rule', () => {
  it('knows private, loopback, link-local, CGNAT, multicast and mapped addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPublicAddress(a), a).toBe(true);
  });

  it('wants https without credentials and no private literal, unless private URLs are allowed', () => {
    const strict = { allowPrivate: false };
    expect(parseFetchUrl('https://example.com/p.tar.gz', strict).hostname).toBe('example.com');
    expect(refusal(() => parseFetchUrl('http://example.com/', strict)).detail).toMatch(/https/);
    expect(refusal(() => parseFetchUrl('https://[fe80::1]/', strict)).detail).toMatch(/private/);
    expect(refusal(() => parseFetchUrl('https://a:b@example.com/', strict)).detail).toMatch(/credentials/);
    expect(parseFetchUrl('http://127.0.0.1:8080/x', { allowPrivate: true }).port).toBe('8080');
  });
});
