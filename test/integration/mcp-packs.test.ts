import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Integrity } from '../../src/memory/packs/pack-format.js';
import { readTarGz } from '../../src/memory/packs/tar-archive.js';
import { Org, PROBLEM_FIELDS, startEngramServer, type TestUser } from '../helpers/engram.js';
import { connectMcp, type McpSession } from '../helpers/mcp.js';
import { engrams, skillPack } from '../helpers/packs.js';
import { ADMIN_KEY, type TestServer } from '../helpers/server.js';

/**
 * The plur_packs_* tools through the official SDK client over real HTTP: each runs the /api/v1/packs route
 * REST serves. Packs are installed by URL from a plain-http server on 127.0.0.1 that this file starts
 * (MNEMO_ALLOW_PRIVATE_URLS=true lets the server fetch it).
 */
const PACK_TOOLS = [
  'plur_packs_export',
  'plur_packs_install',
  'plur_packs_job',
  'plur_packs_list',
  'plur_packs_uninstall',
];

let server: TestServer;
let files: http.Server;
let base: string;
let connections = 0;
let org: Org;
let editor: TestUser;
let adminMcp: McpSession;
let editorMcp: McpSession;
const pack = skillPack({ name: 'remote', engrams: engrams(2, 'Always roll out') });
const packV2 = skillPack({ name: 'remote', version: '2.0.0', engrams: engrams(2, 'Always roll out') });
/** Over the server's inline limit (packInlineMaxEngrams below): installed as a job. */
const largePack = skillPack({ name: 'large', engrams: engrams(30, 'Large pack rule') });

const text = (result: { content: unknown[] }) => (result.content[0] as { text: string }).text;

beforeAll(async () => {
  files = http.createServer((req, res) => {
    if (req.url === '/pack.tar.gz')
      res.writeHead(200, { 'content-type': 'application/gzip' }).end(pack.archive);
    else if (req.url === '/large.tar.gz')
      res.writeHead(200, { 'content-type': 'application/gzip' }).end(largePack.archive);
    else if (req.url === '/pack-v2.tar.gz')
      res.writeHead(200, { 'content-type': 'application/gzip' }).end(packV2.archive);
    else res.writeHead(404).end();
  });
  files.on('connection', () => connections++);
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  server = await startEngramServer({ allowPrivateUrls: true, packInlineMaxEngrams: 20 });
  org = new Org(server, 'mcppacks');
  editor = await org.user('editor', 'editor');
  adminMcp = await connectMcp(server.url, ADMIN_KEY, { 'x-mnemo-org': org.id });
  editorMcp = await connectMcp(server.url, editor.key);
});
afterAll(async () => {
  await adminMcp?.close();
  await editorMcp?.close();
  await server?.close();
  files?.closeAllConnections();
  await new Promise((resolve) => files?.close(resolve));
});

describe('plur_packs_* tools', () => {
  it('are listed to engram credentials with the PLUR parameter names', async () => {
    const { tools } = await editorMcp.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of PACK_TOOLS) {
      const tool = byName.get(name);
      expect(tool, name).toBeDefined();
      expect(tool?.description?.length).toBeGreaterThan(40);
    }
    const install = byName.get('plur_packs_install')?.inputSchema;
    expect(install?.required).toEqual(['source']);
    expect(Object.keys(install?.properties ?? {}).sort()).toEqual([
      'integrity',
      'scope',
      'source',
      'upgrade',
    ]);
    const exported = byName.get('plur_packs_export')?.inputSchema;
    expect([...((exported?.required as string[]) ?? [])].sort()).toEqual(['filter_scope', 'name']);
    expect(byName.get('plur_packs_uninstall')?.inputSchema.required).toEqual(['name']);
    expect(byName.get('plur_packs_uninstall')?.annotations?.destructiveHint).toBe(true);
    expect(byName.get('plur_packs_job')?.inputSchema.required).toEqual(['job_id']);
    expect(byName.get('plur_packs_job')?.annotations?.readOnlyHint).toBe(true);
  });

  it('plur_packs_list starts empty', async () => {
    const result = await adminMcp.call('plur_packs_list');
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ rows: [], total_count: 0 });
    expect(text(result)).toBe('No packs installed.');
  });

  it("an editor's install is a tool error with the 403 problem, and nothing is downloaded", async () => {
    const before = connections;
    const result = await editorMcp.call('plur_packs_install', { source: `${base}/pack.tar.gz` });
    expect(result.isError).toBe(true);
    const problem = result.structuredContent as Record<string, unknown>;
    for (const field of PROBLEM_FIELDS) expect(problem).toHaveProperty(field);
    expect(problem.status).toBe(403);
    expect(problem.instance).toBe('mcp:tools/plur_packs_install');
    expect(text(result)).toContain(String(problem.detail));
    expect(connections).toBe(before);
  });

  it('plur_packs_install by URL installs the engrams, visible over REST recall and list', async () => {
    const result = await adminMcp.call('plur_packs_install', {
      source: `${base}/pack.tar.gz`,
      integrity: pack.integrity,
    });
    expect(result.isError, JSON.stringify(result.structuredContent)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      installed: 2,
      duplicates: 0,
      already_installed: false,
      queued: false,
      pack: { name: 'remote', source: `${base}/pack.tar.gz`, integrity: pack.integrity, engram_count: 2 },
    });
    expect(text(result)).toMatch(/^Installed remote@1\.0\.0 in org:.*: 2 engrams added/);

    const recalled = await org.as(editor, 'POST', '/api/v1/recall', {
      query: 'roll out service blue green strategy',
    });
    expect(recalled.status).toBe(200);
    const statements = (recalled.json.results as { statement: string }[]).map((r) => r.statement).sort();
    expect(statements).toEqual([
      'Always roll out service number 1 with the blue green strategy',
      'Always roll out service number 2 with the blue green strategy',
    ]);

    const listed = await editorMcp.ok('plur_packs_list');
    expect(listed).toEqual((await org.as(editor, 'GET', '/api/v1/packs')).json);
    expect(listed.total_count).toBe(1);
    expect(text(await editorMcp.call('plur_packs_list'))).toMatch(
      /^remote@1\.0\.0 in org:.*: 2 engrams, integrity ok$/,
    );

    // The same pack again changes nothing (the route's 200).
    const again = await adminMcp.ok('plur_packs_install', { source: `${base}/pack.tar.gz` });
    expect(again).toMatchObject({ already_installed: true, pack: { name: 'remote' } });

    // Another version is the route's 409 unless upgrade is set; with it, one step.
    const conflict = await adminMcp.call('plur_packs_install', { source: `${base}/pack-v2.tar.gz` });
    expect(conflict.isError).toBe(true);
    expect(conflict.structuredContent).toMatchObject({ status: 409 });
    const upgraded = await adminMcp.call('plur_packs_install', {
      source: `${base}/pack-v2.tar.gz`,
      upgrade: true,
    });
    expect(upgraded.structuredContent).toMatchObject({ upgraded: true, pack: { version: '2.0.0' } });
    expect(text(upgraded)).toMatch(/^Upgraded to remote@2\.0\.0 in org:/);

    const audit = (await server.services.audit.recent(org.id, 50)).filter((e) => e.action === 'pack.install');
    expect(audit.map((e) => [e.outcome, e.channel])).toEqual(
      expect.arrayContaining([
        ['success', 'mcp'],
        ['denied', 'mcp'],
      ]),
    );
  });

  it('plur_packs_export answers a valid .tar.gz, base64-encoded, with its filename and media type', async () => {
    await org.engram(editor, {
      statement: 'Tag every release with its changelog entry',
      scope: `org:${org.id}`,
      domain: 'software.release',
      tags: ['release'],
    });
    const result = await editorMcp.call('plur_packs_export', {
      name: 'mcp-export',
      filter_scope: `org:${org.id}`,
      version: '2.0.0',
      description: 'Exported over MCP',
    });
    expect(result.isError, JSON.stringify(result.structuredContent)).toBeFalsy();
    const out = result.structuredContent as Record<string, unknown>;
    expect(out).toMatchObject({
      filename: 'mcp-export-2.0.0.tar.gz',
      content_type: 'application/gzip',
      engram_count: 3,
    });
    const archive = Buffer.from(String(out.base64), 'base64');
    expect(archive.length).toBe(out.bytes);
    expect(archive.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(archive).length).toBeGreaterThan(512);
    const inside = readTarGz(archive, { maxUnpackedBytes: 1 << 20, maxEntries: 10 });
    expect([...inside.keys()].sort()).toEqual([
      'mcp-export/INTEGRITY',
      'mcp-export/SKILL.md',
      'mcp-export/engrams.yaml',
    ]);
    const skill = inside.get('mcp-export/SKILL.md') as Buffer;
    const body = inside.get('mcp-export/engrams.yaml') as Buffer;
    expect((inside.get('mcp-export/INTEGRITY') as Buffer).toString().trim()).toBe(
      sha256Integrity(skill, body),
    );
    const statements = (parse(body.toString()) as { engrams: { statement: string }[] }).engrams
      .map((e) => e.statement)
      .sort();
    expect(statements).toEqual([
      'Always roll out service number 1 with the blue green strategy',
      'Always roll out service number 2 with the blue green strategy',
      'Tag every release with its changelog entry',
    ]);
    // The text rendering is short and does not carry the bytes.
    expect(text(result)).toBe(
      `Exported 3 engrams as mcp-export-2.0.0.tar.gz (application/gzip, ${archive.length} bytes); ` +
        'the archive is base64-encoded in the structured content field base64.',
    );

    // The filters map onto the route's domain/tags/type.
    const filtered = await editorMcp.ok('plur_packs_export', {
      name: 'releases',
      filter_scope: `org:${org.id}`,
      filter_tags: ['release'],
    });
    expect(filtered).toMatchObject({ filename: 'releases-1.0.0.tar.gz', engram_count: 1 });

    const audit = (await server.services.audit.recent(org.id, 50)).filter((e) => e.action === 'pack.export');
    expect(audit.map((e) => e.channel)).toEqual(['mcp', 'mcp']);
  });

  it('bad input is a tool error with the problem, and the connection keeps answering', async () => {
    const cases: [McpSession, string, Record<string, unknown>, number, RegExp][] = [
      [adminMcp, 'plur_packs_install', {}, 400, /source/],
      [adminMcp, 'plur_packs_install', { source: 5 }, 400, /source/],
      [adminMcp, 'plur_packs_install', { source: 'not a url' }, 400, /not a valid absolute URL/],
      [adminMcp, 'plur_packs_install', { source: `${base}/missing.tar.gz` }, 422, /404|download|fetch/i],
      [
        adminMcp,
        'plur_packs_install',
        { source: `${base}/pack.tar.gz`, integrity: 'md5:x' },
        400,
        /integrity/,
      ],
      [adminMcp, 'plur_packs_uninstall', { name: '../etc' }, 400, /name/],
      [adminMcp, 'plur_packs_uninstall', { name: 'never-installed' }, 404, /not installed/],
      [editorMcp, 'plur_packs_export', { name: 'x' }, 400, /filter_scope/],
      [
        editorMcp,
        'plur_packs_export',
        { name: 'x', filter_scope: `org:${org.id}`, filter_type: 'semantic' },
        400,
        /filter_type/,
      ],
      [editorMcp, 'plur_packs_export', { name: 'x', filter_scope: 'group:nowhere' }, 404, /./],
    ];
    for (const [session, name, args, status, detail] of cases) {
      const result = await session.call(name, args);
      const label = `${name} ${JSON.stringify(args)}`;
      expect(result.isError, label).toBe(true);
      const problem = result.structuredContent as Record<string, unknown>;
      for (const field of PROBLEM_FIELDS) expect(problem, label).toHaveProperty(field);
      expect(problem.status, label).toBe(status);
      expect(String(problem.detail), label).toMatch(detail);
    }
    expect((await adminMcp.ok('plur_packs_list')).total_count).toBe(1);
  });

  it('plur_packs_uninstall: an editor is refused; an admin retires the engrams out of recall', async () => {
    const denied = await editorMcp.call('plur_packs_uninstall', { name: 'remote' });
    expect(denied.isError).toBe(true);
    expect(denied.structuredContent).toMatchObject({ status: 403 });

    const result = await adminMcp.call('plur_packs_uninstall', { name: 'remote' });
    expect(result.isError, JSON.stringify(result.structuredContent)).toBeFalsy();
    expect(result.structuredContent).toEqual({ name: 'remote', removed: 2 });
    expect(text(result)).toBe('Uninstalled remote: 2 engrams retired.');

    const recalled = await org.as(editor, 'POST', '/api/v1/recall', {
      query: 'roll out service blue green strategy',
    });
    expect((recalled.json.results as { statement: string }[]).map((r) => r.statement)).not.toContain(
      'Always roll out service number 1 with the blue green strategy',
    );
    expect(await adminMcp.ok('plur_packs_list')).toEqual({ rows: [], total_count: 0 });
    const audit = (await server.services.audit.recent(org.id, 50)).filter(
      (e) => e.action === 'pack.uninstall',
    );
    expect(audit.map((e) => [e.outcome, e.channel])).toEqual([
      ['success', 'mcp'],
      ['denied', 'mcp'],
    ]);
  });

  it('a large install is queued as a job; the result names plur_packs_job, which follows it as REST does', async () => {
    const queued = await adminMcp.call('plur_packs_install', { source: `${base}/large.tar.gz` });
    expect(queued.isError, JSON.stringify(queued.structuredContent)).toBeFalsy();
    const jobId = (queued.structuredContent as { job_id: string }).job_id;
    expect(jobId).toMatch(/^packjob_[0-9a-f]+$/);
    expect(queued.structuredContent).toMatchObject({
      queued: true,
      already_installed: false,
      progress: { total: 30 },
      poll: { tool: 'plur_packs_job', arguments: { job_id: jobId } },
    });
    expect(text(queued)).toBe(
      `Install queued as job ${jobId} (30 engrams); follow it with plur_packs_job {"job_id": "${jobId}"}.`,
    );

    // Poll until the job has ended (the worker runs it in the background).
    const deadline = Date.now() + 20_000;
    let job = await adminMcp.call('plur_packs_job', { job_id: jobId });
    const state = () => (job.structuredContent as { state?: string }).state;
    while (!job.isError && state() !== 'completed' && state() !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await adminMcp.call('plur_packs_job', { job_id: jobId });
    }
    expect(job.isError, JSON.stringify(job.structuredContent)).toBeFalsy();
    expect(job.structuredContent).toMatchObject({
      job_id: jobId,
      state: 'completed',
      progress: { done: 30, total: 30 },
      result: { installed: 30, pack: { name: 'large', engram_count: 30 } },
      error: null,
    });
    expect(text(job)).toMatch(
      new RegExp(`^Job ${jobId} completed: large@1\\.0\\.0 in org:\\S+, 30 engrams added\\.$`),
    );
    expect(job.structuredContent).toEqual((await org.admin('GET', `/api/v1/packs/jobs/${jobId}`)).json);

    // The route's permissions: an editor is refused, another organisation's admin does not find it.
    const denied = await editorMcp.call('plur_packs_job', { job_id: jobId });
    expect(denied.isError).toBe(true);
    expect(denied.structuredContent).toMatchObject({ status: 403 });
    const other = new Org(server, 'mcpjobs');
    const otherMcp = await connectMcp(server.url, ADMIN_KEY, { 'x-mnemo-org': other.id });
    try {
      const hidden = await otherMcp.call('plur_packs_job', { job_id: jobId });
      expect(hidden.isError).toBe(true);
      expect(hidden.structuredContent).toMatchObject({ status: 404, detail: `Job ${jobId} not found` });
    } finally {
      await otherMcp.close();
    }
    for (const bad of [{}, { job_id: 'not-a-job' }, { job_id: 7 }]) {
      const result = await adminMcp.call('plur_packs_job', bad);
      expect(result.isError, JSON.stringify(bad)).toBe(true);
      expect(result.structuredContent).toMatchObject({
        status: 400,
        detail: expect.stringMatching(/job_id/),
      });
    }
    await adminMcp.ok('plur_packs_uninstall', { name: 'large' });
  });
});
