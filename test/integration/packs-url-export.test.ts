import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Keys } from '../../src/redis/keys.js';
import { readTarGz } from '../../src/memory/packs/tar-archive.js';
import { sha256Integrity } from '../../src/memory/packs/pack-format.js';
import { orgTenant } from '../../src/tenant.js';
import { Org, startEngramServer } from '../helpers/engram.js';
import { adminUpload, engrams, skillFiles, skillPack } from '../helpers/packs.js';
import { ADMIN_KEY, FILE_PREFIX, type TestServer } from '../helpers/server.js';

/**
 * Installing by URL (from a plain-http server on 127.0.0.1 that this file starts, which only
 * MNEMO_ALLOW_PRIVATE_URLS=true permits) and the SSRF rule without the flag, checked before any connection
 * is made; exporting a scope as a pack and installing it into a second organisation; interop with GNU tar.
 */
let open: TestServer;
let guarded: TestServer;
let files: http.Server;
let base: string;
let connections = 0;
const pack = skillPack({ name: 'remote', engrams: engrams(2) });

beforeAll(async () => {
  files = http.createServer((req, res) => {
    if (req.url === '/pack.tar.gz')
      res.writeHead(200, { 'content-type': 'application/gzip' }).end(pack.archive);
    else if (req.url === '/hop') res.writeHead(302, { location: '/pack.tar.gz' }).end();
    else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(200 * 1024, 1));
    else if (req.url === '/big-chunked') {
      res.writeHead(200);
      for (let i = 0; i < 50; i++) res.write(Buffer.alloc(4096, 2));
      res.end();
    } else res.writeHead(404).end();
  });
  files.on('connection', () => connections++);
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  open = await startEngramServer({ allowPrivateUrls: true, packMaxBytes: 64 * 1024 });
  guarded = await startEngramServer({ allowPrivateUrls: false });
});
afterAll(async () => {
  await Promise.all([open?.close(), guarded?.close()]);
  files?.closeAllConnections();
  await new Promise((resolve) => files?.close(resolve));
});

describe('install by URL', () => {
  it('downloads the archive (following a redirect) and installs it with the URL as source', async () => {
    const org = new Org(open);
    const res = await org.admin('POST', '/api/v1/packs', { url: `${base}/hop`, integrity: pack.integrity });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ installed: 2, pack: { name: 'remote', source: `${base}/hop` } });
    expect((await org.admin('GET', '/api/v1/packs')).json.rows[0]).toMatchObject({ source: `${base}/hop` });
  });

  it('refuses too many redirects, a missing file, and a body over the limit (declared or streamed)', async () => {
    const org = new Org(open);
    const loop = await org.admin('POST', '/api/v1/packs', { url: `${base}/loop` });
    expect(loop.status).toBe(422);
    expect(loop.json.detail).toMatch(/more than 3 redirects/);
    expect((await org.admin('POST', '/api/v1/packs', { url: `${base}/missing` })).status).toBe(422);
    const big = await org.admin('POST', '/api/v1/packs', { url: `${base}/big` });
    expect(big.status).toBe(413);
    expect((await org.admin('POST', '/api/v1/packs', { url: `${base}/big-chunked` })).status).toBe(413);
    expect((await org.admin('GET', '/api/v1/packs')).json.total_count).toBe(0);
  });

  it('checks who may install before downloading anything', async () => {
    const org = new Org(open);
    const editor = await org.user('eddie', 'editor');
    const before = connections;
    const res = await org.as(editor, 'POST', '/api/v1/packs', { url: `${base}/pack.tar.gz` });
    expect(res.status).toBe(403);
    expect(connections).toBe(before);
  });

  it('without MNEMO_ALLOW_PRIVATE_URLS refuses private, loopback and metadata targets before connecting', async () => {
    const org = new Org(guarded);
    const port = (files.address() as AddressInfo).port;
    const before = connections;
    const refused: [string, RegExp][] = [
      [`https://127.0.0.1:${port}/pack.tar.gz`, /refused: .*loopback, private, link-local/],
      [`https://localhost:${port}/pack.tar.gz`, /refused: .*loopback, private, link-local/],
      [`https://[::1]:${port}/pack.tar.gz`, /refused: .*loopback, private, link-local/],
      [`https://[::ffff:127.0.0.1]:${port}/pack.tar.gz`, /refused: .*loopback, private, link-local/],
      ['https://169.254.169.254/latest/meta-data/', /refused: .*loopback, private, link-local/],
      ['https://10.1.2.3/pack.tar.gz', /refused: .*loopback, private, link-local/],
      [`http://127.0.0.1:${port}/pack.tar.gz`, /must use https/],
      ['ftp://example.com/pack.tar.gz', /must use https/],
      ['https://user:pw@example.com/pack.tar.gz', /credentials/],
      ['not a url', /not a valid absolute URL/],
    ];
    for (const [url, detail] of refused) {
      const res = await org.admin('POST', '/api/v1/packs', { url });
      expect(res.status, url).toBe(400);
      expect(res.json.detail, url).toMatch(detail);
    }
    expect(connections, 'no connection reached the local server').toBe(before);
    expect((await org.admin('POST', '/api/v1/packs', { url: 5 })).status).toBe(400);
    expect((await org.admin('POST', '/api/v1/packs', { url: 'x'.repeat(3000) })).status).toBe(400);
  });
});

describe('export', () => {
  it('downloads a .tar.gz with a correct INTEGRITY that installs into another org with the same statements', async () => {
    const a = new Org(open, 'exporter');
    const alice = await a.user('alice', 'editor');
    const first = await a.engram(null, {
      statement: 'Always pin dependency versions in production builds',
      domain: 'software.build',
      tags: ['deps'],
      rationale: 'Reproducible builds',
    });
    await a.engram(null, {
      statement: 'Review lockfile changes like code changes',
      domain: 'software.build',
      supersedes: [first.id],
    });
    await a.engram(alice, { statement: 'My personal note about builds' });
    const retired = await a.engram(null, { statement: 'Retired build advice' });
    await a.admin('DELETE', `/api/v1/engrams/${retired.id}`);

    const res = await fetch(`${open.url}/api/v1/packs/export`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        scope: `org:${a.id}`,
        name: 'build-rules',
        version: '1.2.0',
        description: 'Builds',
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="build-rules-1.2.0.tar.gz"');
    const archive = Buffer.from(await res.arrayBuffer());
    const filesIn = readTarGz(archive, { maxUnpackedBytes: 1 << 20, maxEntries: 10 });
    expect([...filesIn.keys()].sort()).toEqual([
      'build-rules/INTEGRITY',
      'build-rules/SKILL.md',
      'build-rules/engrams.yaml',
    ]);
    const skill = filesIn.get('build-rules/SKILL.md') as Buffer;
    const body = filesIn.get('build-rules/engrams.yaml') as Buffer;
    expect((filesIn.get('build-rules/INTEGRITY') as Buffer).toString().trim()).toBe(
      sha256Integrity(skill, body),
    );
    expect(skill.toString()).toMatch(/engram_count: 2/);
    expect(skill.toString()).toMatch(/match_terms:[\s\S]*deps/);
    const exported = parse(body.toString()) as { engrams: Record<string, unknown>[] };
    expect(exported.engrams.map((e) => e.statement).sort()).toEqual([
      'Always pin dependency versions in production builds',
      'Review lockfile changes like code changes',
    ]);
    for (const e of exported.engrams) {
      expect(e).not.toHaveProperty('supersedes');
      expect(e).not.toHaveProperty('id');
    }
    // GNU tar reads it too.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-pack-'));
    try {
      await writeFile(path.join(dir, 'p.tar.gz'), archive);
      expect(execFileSync('tar', ['-tzf', path.join(dir, 'p.tar.gz')]).toString()).toContain(
        'build-rules/SKILL.md',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const b = new Org(open, 'importer');
    const installed = await adminUpload(open, b.id, archive);
    expect(installed.status, installed.text).toBe(201);
    expect(installed.json.pack).toMatchObject({
      name: 'build-rules',
      version: '1.2.0',
      integrity_status: 'ok',
    });
    const rows = (await b.admin('GET', '/api/v1/engrams')).json.rows as { data: Record<string, unknown> }[];
    expect(rows.map((r) => r.data.statement).sort()).toEqual(exported.engrams.map((e) => e.statement).sort());
    expect(rows.find((r) => r.data.rationale === 'Reproducible builds')?.data).toMatchObject({
      domain: 'software.build',
      tags: ['deps'],
      scope: `org:${b.id}`,
    });

    const audit = (await open.services.audit.recent(a.id)).filter((e) => e.action === 'pack.export');
    expect(audit).toEqual([
      expect.objectContaining({ outcome: 'success', actor: expect.objectContaining({ id: alice.id }) }),
    ]);
    const page = await open.services.events.read(orgTenant(a.id), '0-0', 1000);
    expect(page.events.filter((e) => e.type === 'pack.exported')).toHaveLength(1);
  });

  it('filters by domain, tags and type; an empty result is 422; bad bodies are 400', async () => {
    const org = new Org(open);
    await org.engram(null, {
      statement: 'Use feature flags for risky launches',
      domain: 'product.launch',
      type: 'procedural',
    });
    await org.engram(null, {
      statement: 'Name services in kebab case',
      domain: 'software.naming',
      tags: ['style'],
    });
    const only = async (filters: Record<string, unknown>) => {
      const res = await org.admin('POST', '/api/v1/packs/export', {
        scope: `org:${org.id}`,
        name: 'f',
        ...filters,
      });
      if (res.status !== 200) return res.status;
      const buf = Buffer.from(
        await (
          await fetch(`${open.url}/api/v1/packs/export`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${ADMIN_KEY}`,
              'x-mnemo-org': org.id,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ scope: `org:${org.id}`, name: 'f', ...filters }),
          })
        ).arrayBuffer(),
      );
      const yamlText = (
        readTarGz(buf, { maxUnpackedBytes: 1 << 20, maxEntries: 10 }).get('f/engrams.yaml') as Buffer
      ).toString();
      return (parse(yamlText) as { engrams: { statement: string }[] }).engrams.map((e) => e.statement);
    };
    expect(await only({ domain: 'product' })).toEqual(['Use feature flags for risky launches']);
    expect(await only({ tags: ['style'] })).toEqual(['Name services in kebab case']);
    expect(await only({ type: 'procedural' })).toEqual(['Use feature flags for risky launches']);
    expect(await only({ domain: 'nothing.here' })).toBe(422);
    const bad = [
      {},
      { scope: `org:${org.id}` },
      { scope: `org:${org.id}`, name: '../up' },
      { scope: 'bad scope', name: 'x' },
      { scope: `org:${org.id}`, name: 'x', tags: 'style' },
      { scope: `org:${org.id}`, name: 'x', extra: 1 },
    ];
    for (const body of bad)
      expect((await org.admin('POST', '/api/v1/packs/export', body)).status, JSON.stringify(body)).toBe(400);
  });

  it('leaves out an engram the secret scan flags (stored by an older writer) and keeps the rest', async () => {
    const org = new Org(open);
    const clean = await org.engram(null, { statement: 'Rotate credentials every quarter' });
    const redis = new Redis(inject('redisUrl'));
    try {
      // Today's writes refuse secrets in shared scopes; a document from before that rule may still hold one.
      const keys = new Keys(FILE_PREFIX);
      const tenant = orgTenant(org.id);
      const stored = JSON.parse((await redis.hget(keys.docs(tenant), clean.id)) as string) as Record<
        string,
        unknown
      >;
      const leaky = {
        ...stored,
        id: 'ENG-2000-01-01-001',
        statement: 'The deploy key is sk-live-abcdefghijklmnopqrstuvwx',
        content_hash: 'legacy',
      };
      await redis.hset(keys.docs(tenant), leaky.id, JSON.stringify(leaky));
      await redis.hset(keys.engramHashes(tenant), `org:${org.id}\nlegacy`, leaky.id);
    } finally {
      await redis.quit();
    }
    const res = await fetch(`${open.url}/api/v1/packs/export`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'x-mnemo-org': org.id,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ scope: `org:${org.id}`, name: 'clean' }),
    });
    expect(res.status).toBe(200);
    const out = readTarGz(Buffer.from(await res.arrayBuffer()), {
      maxUnpackedBytes: 1 << 20,
      maxEntries: 10,
    });
    const text = (out.get('clean/engrams.yaml') as Buffer).toString();
    expect((parse(text) as { engrams: { statement: string }[] }).engrams.map((e) => e.statement)).toEqual([
      'Rotate credentials every quarter',
    ]);
    expect(text).not.toContain('sk-live');
  });

  it('a user who cannot read the scope gets 404; a viewer member may export it', async () => {
    const org = new Org(open);
    const team = await org.group('secretteam');
    const viewer = await org.user('vera', 'viewer');
    const outsider = await org.user('otto', 'editor');
    await org.member(team.id, viewer, 'viewer');
    await org.engram(null, { statement: 'The team deploys on Mondays', scope: team.scope });
    const body = { scope: team.scope, name: 'team' };
    const denied = await org.as(outsider, 'POST', '/api/v1/packs/export', body);
    expect(denied.status).toBe(404);
    expect(denied.headers.get('content-type')).toContain('application/problem+json');
    expect((await org.as(viewer, 'POST', '/api/v1/packs/export', body)).status).toBe(200);
    const other = new Org(open, 'other');
    expect((await other.admin('POST', '/api/v1/packs/export', body)).status).toBe(404);
    expect((await open.request('POST', '/api/v1/packs/export', { body })).status).toBe(401);
  });
});

describe('interop', () => {
  it('installs a pack archived by GNU tar', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-gnutar-'));
    try {
      const { skill, engrams: body } = skillFiles({ name: 'gnu', engrams: engrams(2) });
      await mkdir(path.join(dir, 'gnu'));
      await writeFile(path.join(dir, 'gnu', 'SKILL.md'), skill);
      await writeFile(path.join(dir, 'gnu', 'engrams.yaml'), body);
      execFileSync('tar', ['-czf', path.join(dir, 'gnu.tar.gz'), '-C', dir, 'gnu']);
      const archive = execFileSync('cat', [path.join(dir, 'gnu.tar.gz')]);
      const org = new Org(open);
      const res = await adminUpload(open, org.id, archive);
      expect(res.status, res.text).toBe(201);
      expect(res.json).toMatchObject({ installed: 2, pack: { name: 'gnu', integrity_status: 'unverified' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
