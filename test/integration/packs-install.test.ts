import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgTenant } from '../../src/tenant.js';
import { Org, startEngramServer } from '../helpers/engram.js';
import { adminUpload, engrams, skillPack, tarGz, uploadPack } from '../helpers/packs.js';
import { ADMIN_KEY, type TestServer } from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';

/**
 * POST/GET/DELETE /api/v1/packs over real HTTP: install by multipart upload, the list with its integrity
 * status, same-name rules and ?upgrade=true, secrets and integrity refusals that write nothing, every
 * malformed archive, permissions, uninstall taking the engrams out of recall and inject, the audit entries
 * and events, and large packs as a job.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startEngramServer({ packInlineMaxEngrams: 20, packMaxBytes: 64 * 1024 });
});
afterAll(async () => {
  await server.close();
});

/** What an organisation holds: engram and pack counts, and how many events were ever appended. */
async function stateOf(org: Org) {
  const list = await org.admin('GET', '/api/v1/engrams?limit=200');
  const packs = await org.admin('GET', '/api/v1/packs');
  const page = await server.services.events.read(orgTenant(org.id), '0-0', 1);
  return { engrams: list.json.total_count, packs: packs.json.total_count, events: page.entriesAdded };
}

async function eventTypes(org: Org): Promise<string[]> {
  const page = await server.services.events.read(orgTenant(org.id), '0-0', 100_000);
  return page.events.map((e) => e.type);
}

describe('install by upload', () => {
  it('installs the engrams with server ids, pack provenance and status active (201), and lists the pack', async () => {
    const org = new Org(server);
    const { archive, integrity } = skillPack({ name: 'deploy-rules', engrams: engrams(3) });
    const res = await adminUpload(server, org.id, archive);
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ installed: 3, duplicates: 0, conflicts: [], upgraded: false });
    expect(res.json.pack).toMatchObject({
      name: 'deploy-rules',
      version: '1.0.0',
      creator: 'tests',
      scope: `org:${org.id}`,
      source: 'upload',
      integrity,
      integrity_status: 'ok',
      engram_count: 3,
      installed_by: 'admin',
    });
    const list = await org.admin('GET', '/api/v1/engrams?limit=50');
    expect(list.json.total_count).toBe(3);
    for (const row of list.json.rows) {
      expect(row.id).toMatch(/^ENG-\d{4}-\d\d-\d\d-\d{3}$/);
      expect(row.status).toBe('active');
      expect(row.scope).toBe(`org:${org.id}`);
      expect(row.data.pack).toMatchObject({ name: 'deploy-rules', version: '1.0.0' });
    }
    const packs = await org.admin('GET', '/api/v1/packs');
    expect(packs.status).toBe(200);
    expect(packs.json).toMatchObject({
      total_count: 1,
      rows: [{ name: 'deploy-rules', integrity_status: 'ok' }],
    });

    const types = await eventTypes(org);
    expect(types.filter((t) => t === 'engram.created')).toHaveLength(3);
    expect(types.filter((t) => t === 'pack.installed')).toHaveLength(1);
    const audit = (await server.services.audit.recent(org.id)).filter((e) => e.action === 'pack.install');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      outcome: 'success',
      target: { type: 'pack', id: 'deploy-rules' },
      channel: 'rest',
      payload: { installed: 3, scope: `org:${org.id}` },
    });
  });

  it('installs into the requested scope, files at the archive root, and counts duplicates', async () => {
    const org = new Org(server);
    const team = await org.group('platform');
    await org.engram(null, { statement: engrams(1)[0]?.statement, scope: team.scope });
    const { archive } = skillPack({ name: 'rooted', engrams: engrams(2), folder: '' });
    const res = await adminUpload(server, org.id, archive, { scope: team.scope });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ installed: 1, duplicates: 1, pack: { scope: team.scope } });
  });

  it('reports a contradiction with a live engram of the scope without blocking the install', async () => {
    const org = new Org(server);
    const existing = await org.engram(null, {
      statement: 'Never deploy database migrations on Fridays',
      domain: 'software.deployment',
    });
    const { archive } = skillPack({
      name: 'fridays',
      engrams: [
        { statement: 'Always deploy database migrations before the weekend', domain: 'software.deployment' },
      ],
    });
    const res = await adminUpload(server, org.id, archive);
    expect(res.status, res.text).toBe(201);
    expect(res.json.conflicts).toEqual([
      expect.objectContaining({ engram_id: existing.id, existing_statement: existing.data.statement }),
    ]);
  });

  it('accepts the manifest.yaml layout with one file per engram and its target_scope', async () => {
    const org = new Org(server);
    const team = await org.group('docs');
    const files = engrams(2).map((e, i) => ({ name: `m/engrams/${i}.yaml`, data: JSON.stringify(e) }));
    const archive = tarGz([
      {
        name: 'm/manifest.yaml',
        data: `name: manifested\nversion: 2.1.0\nauthor: someone\ntarget_scope: ${team.scope}\nengrams: ./engrams/*.yaml\n`,
      },
      ...files,
    ]);
    const res = await adminUpload(server, org.id, archive);
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      installed: 2,
      pack: {
        name: 'manifested',
        version: '2.1.0',
        creator: 'someone',
        scope: team.scope,
        integrity_status: 'unverified',
      },
    });
  });
});

describe('same name, integrity and upgrade', () => {
  it('answers 200 with nothing changed for the same integrity, 409 for another without ?upgrade=true', async () => {
    const org = new Org(server);
    const v1 = skillPack({ name: 'rules', engrams: engrams(2) });
    expect((await adminUpload(server, org.id, v1.archive)).status).toBe(201);
    const before = await stateOf(org);
    const again = await adminUpload(server, org.id, v1.archive);
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ installed: 0, pack: { name: 'rules', integrity: v1.integrity } });
    expect(await stateOf(org)).toEqual(before);

    const v2 = skillPack({ name: 'rules', version: '2.0.0', engrams: engrams(3, 'Never deploy') });
    const refused = await adminUpload(server, org.id, v2.archive);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json.detail).toContain('upgrade=true');
    expect(await stateOf(org)).toEqual(before);
  });

  it('?upgrade=true replaces the pack engrams in one step', async () => {
    const org = new Org(server);
    const v1 = skillPack({ name: 'rules', engrams: engrams(2) });
    await adminUpload(server, org.id, v1.archive);
    const oldIds = (await org.admin('GET', '/api/v1/engrams')).json.rows.map((r: { id: string }) => r.id);
    const v2 = skillPack({ name: 'rules', version: '2.0.0', engrams: engrams(3, 'Never deploy') });
    const res = await adminUpload(server, org.id, v2.archive, {}, '?upgrade=true');
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      installed: 3,
      upgraded: true,
      pack: { version: '2.0.0', engram_count: 3 },
    });
    const active = await org.admin('GET', '/api/v1/engrams?status=active');
    expect(active.json.total_count).toBe(3);
    expect(
      active.json.rows.every((r: { data: { statement: string } }) => r.data.statement.startsWith('Never')),
    ).toBe(true);
    for (const id of oldIds)
      expect((await org.admin('GET', `/api/v1/engrams/${id}`)).json.status).toBe('retired');
    expect((await org.admin('GET', '/api/v1/packs')).json.rows).toEqual([
      expect.objectContaining({ name: 'rules', version: '2.0.0' }),
    ]);
  });

  it('two different versions installed at once: exactly one wins, the other is 409, nothing is mixed', async () => {
    const org = new Org(server);
    const a = skillPack({ name: 'race', version: '1.0.0', engrams: engrams(4, 'Always deploy') });
    const b = skillPack({ name: 'race', version: '2.0.0', engrams: engrams(4, 'Never deploy') });
    const [ra, rb] = await Promise.all([
      adminUpload(server, org.id, a.archive),
      adminUpload(server, org.id, b.archive),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    const winner = ra.status === 201 ? 'Always' : 'Never';
    const rows = (await org.admin('GET', '/api/v1/engrams')).json.rows as { data: { statement: string } }[];
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.data.statement.startsWith(winner))).toBe(true);
  });

  it('a tampered pack (INTEGRITY, or the request integrity, disagrees) is 409 and installs nothing', async () => {
    const org = new Org(server);
    const before = await stateOf(org);
    const tampered = skillPack({
      name: 'tampered',
      engrams: engrams(2),
      integrity: `sha256:${'0'.repeat(64)}`,
    });
    const res = await adminUpload(server, org.id, tampered.archive);
    expect(res.status, res.text).toBe(409);
    expect(res.json.detail).toContain('nothing was installed');
    const good = skillPack({ name: 'tampered', engrams: engrams(2) });
    const wrongRequest = await adminUpload(server, org.id, good.archive, {
      integrity: `sha256:${'a'.repeat(64)}`,
    });
    expect(wrongRequest.status).toBe(409);
    expect(await stateOf(org)).toEqual(before);
    const right = await adminUpload(server, org.id, good.archive, { integrity: good.integrity });
    expect(right.status).toBe(201);
  });

  it('reports modified once an installed engram is edited', async () => {
    const org = new Org(server);
    await adminUpload(server, org.id, skillPack({ name: 'editable', engrams: engrams(2) }).archive);
    const [first] = (await org.admin('GET', '/api/v1/engrams')).json.rows;
    // A recall (read counters) is not an edit.
    await org.admin('POST', '/api/v1/recall', { query: 'deploy service blue green' });
    expect((await org.admin('GET', '/api/v1/packs')).json.rows[0].integrity_status).toBe('ok');
    const patched = await org.admin('PATCH', `/api/v1/engrams/${first.id}`, {
      statement: 'Deploy on Tuesdays only',
    });
    expect(patched.status).toBe(200);
    expect((await org.admin('GET', '/api/v1/packs')).json.rows[0].integrity_status).toBe('modified');
  });
});

describe('refusals that install nothing', () => {
  it('secrets in any engram block the install with 422 naming the engram (not its text)', async () => {
    const org = new Org(server);
    const before = await stateOf(org);
    const secret = 'sk-live-abcdefghijklmnopqrstuvwx';
    const { archive } = skillPack({
      name: 'leaky',
      engrams: [...engrams(2), { id: 'LEAK-1', statement: `Use the key ${secret} for billing` }],
    });
    const res = await adminUpload(server, org.id, archive);
    expect(res.status, res.text).toBe(422);
    expect(res.json.detail).toContain('#3 (id LEAK-1)');
    expect(res.json.detail).not.toContain(secret);
    expect(await stateOf(org)).toEqual(before);
  });

  const malformed: [string, () => Buffer, number, RegExp][] = [
    ['not gzip', () => Buffer.from('plain text, not an archive'), 400, /gzip/],
    ['gzip of no tar', () => tarGz([]).subarray(0, 10), 400, /gzip|empty|truncated/],
    ['path traversal', () => tarGz([{ name: '../SKILL.md', data: 'x' }]), 400, /path traversal/],
    ['absolute path', () => tarGz([{ name: '/etc/SKILL.md', data: 'x' }]), 400, /absolute/],
    ['a symlink', () => tarGz([{ name: 'p/SKILL.md', type: '2', linkname: '/etc/passwd' }]), 400, /link/],
    [
      'a hard link',
      () => tarGz([{ name: 'p/engrams.yaml', type: '1', linkname: 'p/SKILL.md' }]),
      400,
      /link/,
    ],
    ['a device', () => tarGz([{ name: 'p/dev', type: '3' }]), 400, /unsupported type/],
    ['unknown layout', () => tarGz([{ name: 'p/README.md', data: '# hi' }]), 400, /Unknown pack layout/],
    [
      'SKILL.md without engrams.yaml',
      () => tarGz([{ name: 'SKILL.md', data: '---\nname: x\n---\n' }]),
      400,
      /no engrams.yaml/,
    ],
    [
      'no front matter',
      () =>
        tarGz([
          { name: 'SKILL.md', data: 'name: x' },
          { name: 'engrams.yaml', data: 'engrams: []' },
        ]),
      400,
      /front matter/,
    ],
    [
      'malformed YAML',
      () =>
        tarGz([
          { name: 'SKILL.md', data: '---\nname: x\n---\n' },
          { name: 'engrams.yaml', data: 'engrams: [unclosed' },
        ]),
      400,
      /not valid YAML/,
    ],
    [
      'engrams not a list',
      () =>
        tarGz([
          { name: 'SKILL.md', data: '---\nname: x\n---\n' },
          { name: 'engrams.yaml', data: 'engrams: 3' },
        ]),
      400,
      /engrams: list/,
    ],
    [
      'an engram without statement',
      () => skillPack({ name: 'x', engrams: [{ type: 'behavioral' }] }).archive,
      400,
      /statement is required/,
    ],
    [
      'a bad engram type',
      () => skillPack({ name: 'x', engrams: [{ statement: 's', type: 'weird' }] }).archive,
      400,
      /type must be one of/,
    ],
    [
      'a bad pack name',
      () => skillPack({ name: '../x', engrams: engrams(1), folder: 'x' }).archive,
      400,
      /name must be/,
    ],
    [
      'a malformed INTEGRITY file',
      () => skillPack({ name: 'x', engrams: engrams(1), integrity: 'md5:abc' }).archive,
      400,
      /INTEGRITY must be/,
    ],
    [
      'over 10,000 engrams',
      () =>
        skillPack({
          name: 'huge',
          engrams: Array.from({ length: 10_001 }, (_, i) => ({ statement: `s${i}` })),
        }).archive,
      400,
      /at most 10000 engrams/,
    ],
  ];
  for (const [name, build, status, detail] of malformed) {
    it(`refuses ${name} with ${status} and the reason`, async () => {
      const org = new Org(server);
      const before = await stateOf(org);
      const res = await adminUpload(server, org.id, build());
      expect(res.status, res.text).toBe(status);
      expect(res.json.detail).toMatch(detail);
      expect(await stateOf(org)).toEqual(before);
    });
  }

  it('refuses an archive over MNEMO_PACK_MAX_BYTES with 413', async () => {
    const org = new Org(server);
    const big = Buffer.alloc(100 * 1024, 7);
    const res = await adminUpload(server, org.id, big);
    expect(res.status).toBe(413);
    expect(res.json.detail).toMatch(/exceeds the limit of 65536 bytes/);
  });

  it('refuses bad requests: no file and no url, both, an unknown field, a bad upgrade or scope, broken multipart', async () => {
    const org = new Org(server);
    const { archive } = skillPack({ name: 'ok', engrams: engrams(1) });
    const none = await org.admin('POST', '/api/v1/packs', {});
    expect(none.status).toBe(400);
    const both = await adminUpload(server, org.id, archive, { url: 'https://example.com/p.tar.gz' });
    expect(both.status).toBe(400);
    const unknown = await adminUpload(server, org.id, archive, { colour: 'blue' });
    expect(unknown.status).toBe(400);
    const badQuery = await adminUpload(server, org.id, archive, {}, '?upgrade=perhaps');
    expect(badQuery.status).toBe(400);
    const badScope = await adminUpload(server, org.id, archive, { scope: 'nowhere at all' });
    expect(badScope.status).toBe(400);
    const noBoundary = await server.request('POST', '/api/v1/packs', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id, 'content-type': 'multipart/form-data' },
      rawBody: 'x',
    });
    expect(noBoundary.status).toBe(400);
    const unterminated = await server.request('POST', '/api/v1/packs', {
      token: ADMIN_KEY,
      headers: { 'x-mnemo-org': org.id, 'content-type': 'multipart/form-data; boundary=XyZ' },
      rawBody: '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.tgz"\r\n\r\nabc',
    });
    expect(unterminated.status).toBe(400);
    expect((await org.admin('GET', '/api/v1/packs')).json.total_count).toBe(0);
  });
});

describe('who may install and uninstall', () => {
  it('an editor gets 403 (audited as denied), a missing or bad key 401; another org is untouched', async () => {
    const org = new Org(server);
    const editor = await org.user('eddie', 'editor');
    const { archive } = skillPack({ name: 'team', engrams: engrams(1) });
    const res = await uploadPack(server, null, editor.key, archive);
    expect(res.status).toBe(403);
    const denied = (await server.services.audit.recent(org.id)).filter((e) => e.action === 'pack.install');
    expect(denied).toEqual([expect.objectContaining({ outcome: 'denied' })]);
    expect((await uploadPack(server, null, 'plur_sk_nope', archive)).status).toBe(401);
    const anonymous = await fetch(`${server.url}/api/v1/packs`, { method: 'POST', body: new FormData() });
    expect(anonymous.status).toBe(401);

    const admin = await org.user('ada', 'admin');
    expect((await uploadPack(server, null, admin.key, archive)).status).toBe(201);
    expect((await org.as(editor, 'DELETE', '/api/v1/packs/team')).status).toBe(403);
    const other = new Org(server, 'other');
    expect((await other.admin('DELETE', '/api/v1/packs/team')).status).toBe(404);
    expect((await other.admin('GET', '/api/v1/packs')).json.total_count).toBe(0);
    expect((await org.admin('GET', '/api/v1/packs')).json.total_count).toBe(1);
  });
});

describe('uninstall', () => {
  it('retires the pack engrams so recall and inject stop returning them', async () => {
    const org = new Org(server);
    const mine = await org.engram(null, { statement: 'Marmots prefer the blue green strategy too' });
    const { archive } = skillPack({
      name: 'marmots',
      engrams: [
        { statement: 'Always feed marmots with the blue green strategy', domain: 'zoo' },
        { statement: 'Marmot enclosures use the blue green strategy', domain: 'zoo' },
      ],
    });
    expect((await adminUpload(server, org.id, archive)).status).toBe(201);
    const recalled = await org.admin('POST', '/api/v1/recall', { query: 'marmots blue green strategy' });
    expect(recalled.json.results.length).toBe(3);
    const injected = await org.admin('POST', '/api/v1/inject', { task: 'marmots blue green strategy' });
    expect(injected.json.injected_ids.length).toBe(3);

    const res = await org.admin('DELETE', '/api/v1/packs/marmots');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ name: 'marmots', removed: 2 });
    const after = await org.admin('POST', '/api/v1/recall', { query: 'marmots blue green strategy' });
    expect(after.json.results.map((r: { id: string }) => r.id)).toEqual([mine.id]);
    const injectedAfter = await org.admin('POST', '/api/v1/inject', { task: 'marmots blue green strategy' });
    expect(injectedAfter.json.injected_ids).toEqual([mine.id]);
    expect((await org.admin('GET', '/api/v1/packs')).json.total_count).toBe(0);
    expect((await org.admin('DELETE', '/api/v1/packs/marmots')).status).toBe(404);
    expect((await org.admin('DELETE', '/api/v1/packs/..%2Fx')).status).toBe(400);
    const types = await eventTypes(org);
    expect(types.filter((t) => t === 'pack.uninstalled')).toHaveLength(1);
    const audit = (await server.services.audit.recent(org.id)).filter((e) => e.action === 'pack.uninstall');
    expect(audit).toEqual([expect.objectContaining({ outcome: 'success', payload: { removed: 2 } })]);
    // The statements may be installed again.
    expect((await adminUpload(server, org.id, archive)).json.installed).toBe(2);
  });
});

describe('large packs', () => {
  it('install as a job: 202 with a job id, then progress and the result', async () => {
    const org = new Org(server);
    const { archive } = skillPack({ name: 'large', engrams: engrams(30) });
    const res = await adminUpload(server, org.id, archive);
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({ job_id: expect.stringMatching(/^packjob_/), progress: { total: 30 } });
    const deadline = Date.now() + 20_000;
    let status = await org.admin('GET', `/api/v1/packs/jobs/${res.json.job_id}`);
    while (status.json.state !== 'completed' && status.json.state !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = await org.admin('GET', `/api/v1/packs/jobs/${res.json.job_id}`);
    }
    expect(status.json, status.text).toMatchObject({
      state: 'completed',
      progress: { done: 30, total: 30 },
      result: { installed: 30, pack: { name: 'large', engram_count: 30 } },
    });
    expect((await org.admin('GET', '/api/v1/engrams')).json.total_count).toBe(30);
    const other = new Org(server, 'other');
    expect((await other.admin('GET', `/api/v1/packs/jobs/${res.json.job_id}`)).status).toBe(404);
    expect((await org.admin('GET', '/api/v1/packs/jobs/not-a-job')).status).toBe(400);
  });
});

describe('pack events on the live stream', () => {
  it('org admins see pack.installed; a member sees the engrams of scopes it reads but not the pack event', async () => {
    const org = new Org(server);
    const editor = await org.user('edna', 'editor');
    const admin = await connectEvents(server, ADMIN_KEY, {
      path: '/api/v1/events',
      headers: { 'x-mnemo-org': org.id },
    });
    const member = await connectEvents(server, editor.key, { path: '/api/v1/events' });
    try {
      await admin.subscribe({ types: ['pack.*', 'engram.*'] });
      await member.subscribe({ types: ['pack.*', 'engram.*'] });
      expect(
        (await adminUpload(server, org.id, skillPack({ name: 'live', engrams: engrams(2) }).archive)).status,
      ).toBe(201);
      const installed = await admin.waitFor((f) => f.type === 'pack.installed');
      expect(installed.data).toMatchObject({
        name: 'live',
        scope: `org:${org.id}`,
        installed: 2,
        duplicates: 0,
      });
      // Events arrive in stream order: once the member has the later engram, it would have had the pack event.
      const later = await org.engram(null, { statement: 'A later rule everyone reads' });
      await member.waitFor((f) => f.type === 'engram.created' && f.data.id === later.id);
      expect(member.events.filter((e) => e.type === 'engram.created')).toHaveLength(3);
      expect(member.events.some((e) => String(e.type).startsWith('pack.'))).toBe(false);
    } finally {
      await Promise.all([admin.close(), member.close()]);
    }
  });
});
