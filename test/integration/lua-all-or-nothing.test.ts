import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { readScripts, Scripts, type ScriptArg } from '../../src/redis/scripts.js';

/**
 * Every write script, run with the nastiest inputs it can receive: lone UTF-16 surrogates in every string
 * field and key (JSON.stringify writes them as "\ud83d", which cjson refuses), metadata nested deeper than
 * cjson's 1,000 levels, and undecodable documents already stored under the ids it reads (as written before
 * the fix). Each call must either do all of its work or change nothing: a digest of every key and value of
 * the script's workspace is compared before and after a refused call. The fixture table covers every file
 * of lua/ (a new script without a fixture fails here).
 */
let redis: Redis;
let scripts: Scripts;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  scripts = new Scripts(redis);
});
afterAll(async () => {
  await redis.quit();
});

const LONE = 'cut \ud83d and \udfff';
const nested = (depth: number): unknown => {
  let value: unknown = LONE;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { [LONE]: value };
  return value;
};
/** Text cjson cannot decode at all, as a foreign or truncated writer might leave. */
const GARBAGE = '{"layer":"semantic","status":"current"';

interface Fixture {
  /** Writes the state the call meets (bad documents included). */
  seed(k: (name: string) => string): Promise<void>;
  call(k: (name: string) => string): { keys: string[]; args: ScriptArg[] };
  /** What the call must have done; a fixture with a check must succeed (bad stored documents never block it). */
  check?(k: (name: string) => string, reply: unknown): Promise<void>;
}

const ctx = (ws: string): string[] => [
  `chan:${ws}`,
  '1000',
  ws,
  new Date().toISOString(),
  JSON.stringify({ type: 'api_key', id: `key ${LONE}` }),
];

function memoryDoc(id: string, layer: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    layer,
    content: `${LONE} ${id}`,
    importance: 0.5,
    created_at: new Date().toISOString(),
    ts: Date.now(),
    user_id: 'v',
    agent_id: null,
    session_id: null,
    metadata: { [LONE]: LONE, deep: nested(1100) },
    ...extra,
  });
}

function factDoc(
  id: string,
  fingerprint: string,
  slots: string,
  extra: Record<string, unknown> = {},
): string {
  return memoryDoc(id, 'semantic', {
    metadata: {},
    search_text: LONE,
    subject: 'user',
    predicate: 'located_in',
    object: `Paris ${LONE}`,
    confidence: 0.8,
    source_episode_id: null,
    valid_from: new Date().toISOString(),
    valid_to: null,
    status: 'current',
    superseded_by: null,
    fingerprint,
    slots,
    confirmations: 1,
    last_confirmed: null,
    extractor: 'rules',
    ...extra,
  });
}

const engramDoc = (id: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    id,
    layer: 'engram',
    ts: Date.now(),
    content: `deploy deploy ${LONE}`,
    search_text: `deploy deploy ${LONE}`,
    statement: `deploy deploy ${LONE}`,
    ext: JSON.stringify({ [LONE]: nested(1100) }),
    tags: [LONE],
    supersedes: [],
    scope: 'global',
    status: 'candidate',
    pinned: false,
    content_hash: 'h',
    feedback_signals: { positive: 0, negative: 0, neutral: 0 },
    engram_version: 1,
    ...extra,
  });

const factArgs = (id: string, fingerprint: string, slots: string[]): ScriptArg[] => [
  id,
  factDoc(id, fingerprint, slots.join('\n')),
  fingerprint,
  slots.join('\n'),
  '',
  0.9,
];

const seedFacts = async (k: (name: string) => string) => {
  await redis.hset(k('docs'), 'f_old', factDoc('f_old', 'fp_old', 's_city'), 'f_bad', GARBAGE);
  await redis.hset(k('slots'), 's_city', 'f_old', 's_bad', 'f_bad', 's_gone', 'f_missing');
  await redis.hset(k('fps'), 'fp_old', 'f_old', 'fp_bad', 'f_bad');
  await redis.zadd(k('facts'), 1, 'f_old', 2, 'f_bad');
};

const audit = JSON.stringify({ id: 'a1', action: LONE, target: null, actor: { id: LONE } });

const FIXTURES: Record<string, Fixture | 'read-only'> = {
  readEvents: 'read-only',
  readNewEvents: 'read-only',
  remember: {
    seed: async (k) => {
      await seedFacts(k);
      await redis.zadd(k('wm'), 0.1, 'w_bad', 0.2, 'w_old');
      await redis.hset(k('docs'), 'w_bad', GARBAGE, 'w_old', memoryDoc('w_old', 'working'));
    },
    call: (k) => ({
      keys: [
        'docs',
        'vecs',
        'wm',
        'wmexp',
        'wmexp-ns',
        'episodes',
        'facts',
        'fps',
        'slots',
        'stats',
        'ud:v',
        'stream',
        'agents',
        'namespaces',
      ].map(k),
      args: [
        ...ctx(k('')),
        Date.now(),
        2,
        'w_new',
        memoryDoc('w_new', 'working'),
        0.5,
        Date.now() + 60_000,
        'e_new',
        memoryDoc('e_new', 'episodic'),
        `v|`,
        'v',
        '',
        '',
        '',
        3,
        ...factArgs('f_a', 'fp_a', ['s_city', 's_bad', 's_gone']),
        ...factArgs('f_b', 'fp_old', []),
        ...factArgs('f_c', 'fp_bad', ['s_city']),
      ],
    }),
    check: async (k) => {
      expect(JSON.parse((await redis.hget(k('docs'), 'f_old')) as string).status).toBe('superseded');
      expect(await redis.hexists(k('docs'), 'e_new')).toBe(1);
      expect(await redis.hget(k('slots'), 's_city')).toBe('f_c');
    },
  },
  addFacts: {
    seed: seedFacts,
    call: (k) => ({
      keys: ['docs', 'vecs', 'facts', 'fps', 'slots', 'stats', 'ud:v', 'stream'].map(k),
      args: [
        ...ctx(k('')),
        Date.now(),
        'v',
        '',
        2,
        ...factArgs('f_a', 'fp_old', ['s_city', 's_bad']),
        ...factArgs('f_b', 'fp_a', ['s_city']),
      ],
    }),
    check: async (k) => {
      const old = JSON.parse((await redis.hget(k('docs'), 'f_old')) as string) as Record<string, unknown>;
      expect(old).toMatchObject({ status: 'superseded', superseded_by: 'f_b', confirmations: 2 });
    },
  },
  clearWorking: {
    seed: async (k) => {
      await redis.zadd(k('wm'), 0.1, 'w_bad', 0.2, 'w_old', 0.3, 'w_missing');
      await redis.hset(k('docs'), 'w_bad', GARBAGE, 'w_old', memoryDoc('w_old', 'working'));
      await redis.zadd(k('namespaces'), 1, 'v|');
    },
    call: (k) => ({
      keys: ['docs', 'vecs', 'wm', 'wmexp', 'wmexp-ns', 'stats', 'ud:v', 'stream', 'namespaces'].map(k),
      args: [...ctx(k('')), 'v|', 'v', ''],
    }),
    check: async (k) => {
      expect(await redis.exists(k('wm'))).toBe(0);
      expect(await redis.hlen(k('docs'))).toBe(0);
    },
  },
  expireWorking: {
    seed: async (k) => {
      await redis.zadd(k('wm'), 0.1, 'w_bad', 0.2, 'w_old');
      await redis.zadd(k('wmexp'), 1, 'w_bad', 2, 'w_old');
      await redis.hset(k('docs'), 'w_bad', GARBAGE, 'w_old', memoryDoc('w_old', 'working'));
    },
    call: (k) => ({
      keys: ['docs', 'vecs', 'wm', 'wmexp', 'wmexp-ns', 'stats', 'ud:v', 'stream'].map(k),
      args: [...ctx(k('')), Date.now(), 'v|', 'v', ''],
    }),
    check: async (k) => expect(await redis.hlen(k('docs'))).toBe(0),
  },
  deleteMemory: {
    seed: async (k) => {
      await redis.hset(k('docs'), 'e1', memoryDoc('e1', 'episodic'));
      await redis.zadd(k('episodes'), 1, 'e1');
    },
    call: (k) => ({
      keys: [
        'docs',
        'vecs',
        'wm',
        'wmexp',
        'wmexp-ns',
        'episodes',
        'facts',
        'fps',
        'slots',
        'stats',
        'ud:v',
        'stream',
      ].map(k),
      args: [...ctx(k('')), 'e1', 'v|'],
    }),
    check: async (k) => {
      expect(await redis.hexists(k('docs'), 'e1')).toBe(0);
      expect(await redis.zcard(k('episodes'))).toBe(0);
    },
  },
  forgetUser: {
    seed: async (k) => {
      await seedFacts(k);
      await redis.hset(k('docs'), 'e1', memoryDoc('e1', 'episodic'), 'e_bad', GARBAGE, 'w_stray', GARBAGE);
      await redis.zadd(k('episodes'), 1, 'e1', 2, 'e_bad');
      await redis.sadd(k('ud:v'), 'f_old', 'f_bad', 'e1', 'e_bad', 'w_stray', 'gone');
    },
    call: (k) => ({
      keys: ['docs', 'vecs', 'episodes', 'facts', 'fps', 'slots', 'stats', 'ud:v', 'stream'].map(k),
      args: [...ctx(k('')), 'v', '0'],
    }),
    check: async (k) => {
      expect(await redis.hlen(k('docs'))).toBe(0);
      expect(await redis.exists(k('ud:v'), k('episodes'), k('facts'), k('fps'))).toBe(0);
      expect(await redis.hgetall(k('slots'))).toEqual({ s_gone: 'f_missing' });
    },
  },
  setVectors: {
    seed: async (k) => void (await redis.hset(k('docs'), 'e1', GARBAGE)),
    call: (k) => ({
      keys: ['docs', 'vecs', 'stream'].map(k),
      args: [...ctx(k('')), LONE, 1, 'e1', Buffer.alloc(8)],
    }),
  },
  appendEvents: {
    seed: async () => undefined,
    call: (k) => ({
      keys: [k('stream')],
      args: [
        ...ctx(k('')),
        2,
        'facts.extraction_failed',
        JSON.stringify({ error: LONE }),
        'x',
        JSON.stringify(nested(1100)),
      ],
    }),
  },
  captureEpisode: {
    seed: async () => undefined,
    call: (k) => ({
      keys: ['docs', 'vecs', 'episodes', 'stats', 'agents', 'ud:v', 'stream'].map(k),
      args: [...ctx(k('')), 'e1', memoryDoc('e1', 'episodic'), '', 'not a number', LONE, 'v'],
    }),
  },
  createEngram: {
    seed: async (k) => {
      await redis.hset(k('docs'), 'ENG-dup', engramDoc('ENG-dup').replace('"layer"', '"layer":"engram","x"'));
      await redis.hset(k('hashes'), `global\nh`, 'ENG-dup');
    },
    call: (k) => ({
      keys: ['docs', 'vecs', 'hashes', 'seq', 'stream', 'audit', 'insights'].map(k),
      args: [
        ...ctx(k('')),
        '',
        engramDoc('').replace('"id":"",', ''),
        `global\nh`,
        '',
        '2026-12-01',
        '{"not json',
        '100',
        '8640000',
      ],
    }),
  },
  replaceEngram: {
    seed: async (k) => void (await redis.hset(k('docs'), 'ENG-1', engramDoc('ENG-1'))),
    call: (k) => ({
      keys: ['docs', 'vecs', 'hashes', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'ENG-1',
        createHash('sha1').update(engramDoc('ENG-1')).digest('hex'),
        engramDoc('ENG-1', { statement: LONE }),
        `global\nh`,
        `global\nh2`,
        'keep',
        '',
        'engram.updated',
        audit,
        '100',
      ],
    }),
  },
  retireEngram: engramChange('retireEngram', ['docs', 'hashes', 'stream', 'audit'], [audit, '100']),
  feedbackEngram: engramChange(
    'feedbackEngram',
    ['docs', 'stream', 'audit'],
    ['positive', '2026-12-01', audit, '100'],
  ),
  pinEngram: engramChange('pinEngram', ['docs', 'stream', 'audit'], ['1', audit, '100']),
  promoteEngram: engramChange('promoteEngram', ['docs', 'stream', 'audit'], ['2026-12-01', audit, '100']),
  touchEngrams: {
    seed: async (k) => void (await redis.hset(k('docs'), 'ENG-1', engramDoc('ENG-1'), 'ENG-2', GARBAGE)),
    call: (k) => ({
      keys: ['docs', 'stream'].map(k),
      args: [...ctx(k('')), 'recall', '2026-12-01', 'ENG-1', 'ENG-2', 'ENG-1'],
    }),
    check: async (k) => {
      expect(JSON.parse((await redis.hget(k('docs'), 'ENG-1')) as string).frequency).toBe(2);
    },
  },
  startSession: {
    seed: async () => undefined,
    call: (k) => ({
      keys: ['sessions', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 's1', JSON.stringify({ task: LONE }), audit, '100'],
    }),
  },
  endSession: {
    seed: async (k) => {
      await redis.hset(
        k('sessions'),
        's1',
        JSON.stringify({ id: 's1', status: 'active', task: LONE, tags: [] }),
      );
      await redis.hset(k('docs'), 'ENG-dup', GARBAGE);
      await redis.hset(k('hashes'), `global\nh`, 'ENG-dup');
    },
    call: (k) => ({
      keys: [
        'docs',
        'vecs',
        'hashes',
        'seq',
        'stream',
        'sessions',
        'episodes',
        'stats',
        'agents',
        'ud:v',
        'audit',
      ].map(k),
      args: [
        ...ctx(k('')),
        's1',
        LONE,
        '2026-12-01',
        'e1',
        memoryDoc('e1', 'episodic'),
        '',
        Date.now(),
        'v',
        2,
        engramDoc('').replace('"id":"",', ''),
        `global\nh`,
        '',
        '{"truncated',
        `global\nh3`,
        '',
        audit,
        '100',
      ],
    }),
  },
  createUser: identity(
    ['users', 'usernames', 'stream', 'audit'],
    ['u1', LONE, JSON.stringify({ id: 'u1', name: LONE }), audit, '100'],
  ),
  updateUser: {
    seed: async (k) =>
      void (await redis.hset(k('users'), 'u1', JSON.stringify({ id: 'u1', active: true, name: LONE }))),
    call: (k) => ({
      keys: ['users', 'scimnames', 'usernames', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'u1',
        JSON.stringify({ active: false, username: LONE, deep: nested(1100) }),
        'inv',
        'user:o:u1',
        audit,
        '100',
        '',
        LONE,
        '',
      ],
    }),
  },
  provisionScimUser: identity(
    ['users', 'usernames', 'scimnames', 'stream', 'audit'],
    ['u1', LONE, LONE, JSON.stringify({ id: 'u1', name: LONE, deep: nested(1100) }), audit, '100'],
  ),
  updateGroup: {
    seed: async (k) => void (await redis.hset(k('groups'), 'g1', GARBAGE)),
    call: (k) => ({
      keys: ['groups', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 'g1', JSON.stringify({ scim: { displayName: LONE } }), audit, '100'],
    }),
  },
  deleteGroup: {
    seed: async (k) => {
      await redis.hset(k('groups'), 'g1', JSON.stringify({ id: 'g1', name: 'team' }), 'g2', GARBAGE);
      await redis.hset(k('paths'), 'team', 'g1', 'team/sub', 'g3');
    },
    call: (k) => ({
      keys: ['groups', 'paths', 'gm', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 'g1', 'inv', 'org:o', audit, '100'],
    }),
  },
  createOidcUser: {
    // A stale link (its user gone) and a taken username: the new user must still be created whole.
    seed: async (k) => {
      await redis.hset(k('ids'), `https://idp ${LONE}`, 'u-gone');
      await redis.hset(k('usernames'), LONE, 'u-other');
    },
    call: (k) => ({
      keys: ['users', 'usernames', 'ids', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        `https://idp ${LONE}`,
        'u1',
        LONE,
        `${LONE}-fallback`,
        JSON.stringify({ role: 'viewer', active: true, deep: nested(1100) }),
        audit,
        '100',
      ],
    }),
    check: async (k, reply) => {
      expect(JSON.parse(reply as string)).toMatchObject({
        id: 'u1',
        username: `${LONE}-fallback`.replace(/\ud83d|\udfff/g, '\ufffd'),
      });
      expect(await redis.hget(k('ids'), `https://idp ${LONE}`)).toBe('u1');
    },
  },
  revokeSession: identity(
    ['revoked', 'stream', 'audit'],
    ['60000', JSON.stringify({ user_id: LONE, deep: nested(1100) }), 'inv', `session:${LONE}`, audit, '100'],
  ),
  createGroup: identity(
    ['groups', 'paths', 'stream', 'audit'],
    ['g1', LONE, JSON.stringify({ id: 'g1', name: LONE }), 'inv', 'org:o', audit, '100'],
  ),
  addMember: {
    seed: async (k) => {
      await redis.hset(k('groups'), 'g1', GARBAGE);
      await redis.hset(k('users'), 'u1', GARBAGE);
    },
    call: (k) => ({
      keys: ['groups', 'users', 'members', 'ugroups', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'g1',
        'u1',
        LONE,
        JSON.stringify({ role: LONE }),
        'inv',
        'user:o:u1',
        audit,
        '100',
      ],
    }),
  },
  removeMember: {
    seed: async (k) => void (await redis.hset(k('members'), 'u1', LONE)),
    call: (k) => ({
      keys: ['members', 'ugroups', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 'g1', 'u1', JSON.stringify({ role: LONE }), 'inv', 'user:o:u1', audit, '100'],
    }),
  },
  storeCredential: {
    seed: async () => undefined,
    call: (k) => ({
      keys: ['rec', 'id', 'list'].map(k),
      args: ['h', 'key_1', 'not ms', 'key_id', 'key_1', 'label', LONE, 'org', LONE],
    }),
  },
  revokeCredential: {
    seed: async (k) => {
      await redis.set(k('id'), 'h');
      await redis.hset(k('rec'), 'key_id', 'key_1', 'org', 'o', 'is_active', '1', 'label', LONE);
    },
    call: (k) => ({ keys: ['id', 'rec'].map(k), args: ['h', 'org', 'o', LONE, 'inv', LONE] }),
  },
  touchCredential: {
    seed: async (k) => void (await redis.hset(k('rec'), 'key_id', 'key_1')),
    call: (k) => ({ keys: [k('rec')], args: [LONE] }),
  },
  rateLimit: {
    seed: async () => undefined,
    call: (k) => ({ keys: ['rl1', 'rl2'].map(k), args: ['not a limit', LONE, '0'] }),
  },
  recordRateLimited: {
    // A wrong-typed day counter (a foreign writer's STRING): refused before the minute counts or the entry.
    seed: async (k) => void (await redis.set(k('day'), LONE)),
    call: (k) => ({ keys: ['minute', 'day', 'audit'].map(k), args: [audit, '100', '8640000', '120'] }),
  },
  authFailure: {
    seed: async () => undefined,
    call: (k) => ({ keys: [k('af')], args: [LONE, 'not ms'] }),
  },
  setScopeMetadata: {
    seed: async (k) => void (await redis.hset(k('scopes'), 'global', GARBAGE)),
    call: (k) => ({
      keys: ['scopes', 'paths', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'global',
        '',
        JSON.stringify({ description: LONE, deep: nested(1100) }),
        audit,
        '100',
      ],
    }),
  },
  deleteScopeMetadata: {
    seed: async (k) => void (await redis.hset(k('scopes'), 'global', GARBAGE)),
    call: (k) => ({
      keys: ['scopes', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 'global', JSON.stringify({ scope: LONE }), audit, '100'],
    }),
    check: async (k) => {
      expect(await redis.hexists(k('scopes'), 'global'), 'deleteScopeMetadata removed the scope').toBe(0);
    },
  },
  installPack: {
    seed: async (k) => {
      await redis.hset(k('docs'), 'ENG-bad', GARBAGE);
      await redis.hset(k('hashes'), `global\nh`, 'ENG-bad');
      await redis.hset(k('packs'), 'p1', GARBAGE);
      await redis.hset(k('packeng'), 'ENG-bad', 'fp');
    },
    call: (k) => ({
      keys: ['docs', 'vecs', 'hashes', 'seq', 'packs', 'packeng', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'p1',
        'upgrade',
        `sha256:${LONE}`,
        JSON.stringify({ name: 'p1', version: LONE, scope: 'global', tags: [], deep: nested(1100) }),
        '2026-12-01',
        audit,
        '100',
        2,
        engramDoc('').replace('"id":"",', ''),
        `global\nh`,
        '',
        'fp1',
        engramDoc('').replace('"id":"",', ''),
        `global\nh2`,
        '',
        'fp2',
      ],
    }),
    check: async (k) => {
      expect(await redis.hlen(k('packeng')), 'installPack recorded its engrams').toBe(2);
      expect(await redis.hexists(k('packs'), 'p1')).toBe(1);
    },
  },
  uninstallPack: {
    seed: async (k) => {
      await redis.hset(k('docs'), 'ENG-1', engramDoc('ENG-1', { content_hash: 'h' }), 'ENG-2', GARBAGE);
      await redis.hset(k('hashes'), `global\nh`, 'ENG-1');
      await redis.hset(k('packs'), 'p1', JSON.stringify({ name: 'p1', version: LONE, scope: 'global' }));
      await redis.hset(k('packeng'), 'ENG-1', 'fp', 'ENG-2', 'fp');
    },
    call: (k) => ({
      keys: ['docs', 'hashes', 'packs', 'packeng', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 'p1', audit, '100'],
    }),
    check: async (k) => {
      const doc = JSON.parse((await redis.hget(k('docs'), 'ENG-1')) as string) as Record<string, unknown>;
      expect(doc.status, 'uninstallPack retired the engram').toBe('retired');
      expect(await redis.exists(k('packs'), k('packeng'), k('hashes'))).toBe(0);
    },
  },
  recordPackExport: {
    seed: async () => undefined,
    call: (k) => ({
      keys: ['stream', 'audit'].map(k),
      args: [...ctx(k('')), JSON.stringify({ name: LONE, deep: nested(1100) }), '{"truncated', '100'],
    }),
  },
  // --- webhooks ----------------------------------------------------------------------------------------
  createWebhook: identity(
    ['ids', 'wh', 'stream', 'audit'],
    [
      'wh1',
      Date.now(),
      JSON.stringify({ id: 'wh1', url: LONE }),
      `v1.${LONE}`,
      '10',
      JSON.stringify({ id: LONE }),
      audit,
      '100',
    ],
  ),
  updateWebhook: {
    seed: async (k) => void (await redis.hset(k('wh'), 'config', GARBAGE, 'secret', 'v1.a', 'active', '1')),
    call: (k) => ({
      keys: ['wh', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        JSON.stringify({ id: 'wh1', url: LONE }),
        '0',
        LONE,
        `v1.${LONE}`,
        Date.now() + 1000,
        'webhook.updated',
        JSON.stringify(nested(1100)),
        audit,
        '100',
      ],
    }),
    check: async (k) => {
      expect(await redis.hget(k('wh'), 'active')).toBe('0');
      expect(await redis.hget(k('wh'), 'prev_secret')).toBe('v1.a');
    },
  },
  deleteWebhook: {
    seed: async (k) => {
      await redis.hset(k('wh'), 'config', GARBAGE, 'secret', 'v1.a');
      await redis.zadd(k('ids'), 1, 'wh1');
      await redis.zadd(k('pending'), 0, 'wh1|a|d1', 0, 'wh2|a|d2');
    },
    call: (k) => ({
      keys: ['ids', 'wh', 'log', 'order', 'inflight', 'pending', 'stream', 'audit'].map(k),
      args: [...ctx(k('')), 'wh1', JSON.stringify({ id: LONE }), audit, '100'],
    }),
    check: async (k) => {
      expect(await redis.exists(k('wh'))).toBe(0);
      expect(await redis.zrange(k('pending'), '0', '-1')).toEqual(['wh2|a|d2']);
    },
  },
  recordWebhookAttempt: {
    seed: async (k) => void (await redis.hset(k('wh'), 'config', GARBAGE, 'secret', 'v1.a', 'active', '1')),
    call: (k) => ({
      keys: ['wh', 'log', 'order', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'd1',
        JSON.stringify({ error: LONE, deep: nested(1100) }),
        Date.now(),
        '1',
        'fail',
        Date.now(),
        LONE,
        JSON.stringify({ reason: LONE }),
        audit,
        '100',
      ],
    }),
    check: async (k, reply) => {
      expect(reply).toBe(2);
      expect(await redis.hget(k('wh'), 'active')).toBe('0');
      expect(await redis.hexists(k('log'), 'd1')).toBe(1);
    },
  },
  redeliverWebhook: {
    seed: async (k) => void (await redis.hset(k('wh'), 'config', GARBAGE, 'secret', 'v1.a', 'active', '1')),
    call: (k) => ({
      keys: ['wh', 'log', 'order', 'stream', 'audit'].map(k),
      args: [
        ...ctx(k('')),
        'd2',
        JSON.stringify({ id: LONE }),
        Date.now(),
        '1',
        JSON.stringify({ id: LONE }),
        audit,
        '100',
      ],
    }),
    check: async (k) => expect(await redis.hexists(k('log'), 'd2')).toBe(1),
  },
  commitIndexSnapshot: {
    seed: async (k) =>
      void (await redis.hset(k('isnap'), 'gen', 'aaaa', 'position', '5-0', 'chunks', '2', 'retiring', LONE)),
    call: (k) => ({
      keys: [k('isnap')],
      args: ['00ff00ff00ff00ff', '6-0', 3, JSON.stringify({ embedder: LONE, deep: nested(1100) }), 1000],
    }),
    check: async (k, reply) => {
      expect(reply).toEqual([1, ['aaaa', 2]]);
      expect(await redis.hget(k('isnap'), 'gen')).toBe('00ff00ff00ff00ff');
    },
  },
  dropIndexSnapshot: {
    seed: async (k) => {
      await redis.hset(k('isnap'), 'gen', 'aaaa', 'position', LONE, 'chunks', GARBAGE, 'floor', LONE);
      await redis.xadd(k('stream'), '7-1', 'e', LONE);
    },
    call: (k) => ({ keys: ['isnap', 'stream'].map(k), args: [''] }),
    check: async (k) => {
      expect(await redis.hgetall(k('isnap'))).toEqual({ floor: '7-1' });
    },
  },
  webhookLease: {
    seed: async () => undefined,
    call: (k) => ({ keys: [k('lease')], args: ['disp_1', 1000, 'take'] }),
    check: async (k) => expect(await redis.get(k('lease'))).toBe('disp_1'),
  },
  advanceWebhookCursor: {
    seed: async (k) => void (await redis.set(k('lease'), 'o1')),
    call: (k) => ({ keys: ['lease', 'cursor', 'pending'].map(k), args: ['o1', '5-0', `wh1|${LONE}|d1`] }),
    check: async (k) => expect(await redis.get(k('cursor'))).toBe('5-0'),
  },
  takeWebhookSlot: {
    seed: async (k) => void (await redis.zadd(k('pending'), 0, `wh1|${LONE}|d1`)),
    call: (k) => ({
      keys: ['inflight', 'pending'].map(k),
      args: [Date.now(), Date.now() + 1000, 1, 'd1', '[wh1|', '(wh1}', `wh1|${LONE}|d1`],
    }),
    check: async (k, reply) => {
      expect(reply).toBe(1);
      expect(await redis.zcard(k('inflight'))).toBe(1);
    },
  },
  releaseWebhookSlot: {
    seed: async (k) => {
      await redis.zadd(k('pending'), 0, `wh1|${LONE}|d1`);
      await redis.zadd(k('inflight'), Date.now() + 1000, 'd1');
    },
    call: (k) => ({ keys: ['inflight', 'pending'].map(k), args: ['d1', `wh1|${LONE}|d1`] }),
    check: async (k) => expect(await redis.exists(k('inflight'), k('pending'))).toBe(0),
  },
};

function engramChange(name: string, keyNames: string[], extra: ScriptArg[]): Fixture {
  return {
    seed: async (k) => {
      await redis.hset(k('docs'), 'ENG-1', engramDoc('ENG-1', { content_hash: 'h' }));
      await redis.hset(k('hashes'), `global\nh`, 'ENG-1');
    },
    call: (k) => ({ keys: keyNames.map(k), args: [...ctx(k('')), 'ENG-1', ...extra] }),
    check: async (k) => {
      const doc = JSON.parse((await redis.hget(k('docs'), 'ENG-1')) as string) as Record<string, unknown>;
      expect(doc.engram_version, `${name} saved the engram`).toBe(2);
    },
  };
}

function identity(keyNames: string[], args: ScriptArg[]): Fixture {
  return {
    seed: async () => undefined,
    call: (k) => ({ keys: keyNames.map(k), args: [...ctx(k('')), ...args] }),
  };
}

/** Every key of the workspace with its type and full value, hashed. */
async function digest(ws: string): Promise<string> {
  const hash = createHash('sha256');
  const found = (await redis.keys(`${ws}*`)).sort();
  for (const key of found) {
    const type = await redis.type(key);
    let value: unknown;
    if (type === 'string') value = await redis.getBuffer(key);
    else if (type === 'hash') value = Object.entries(await redis.hgetall(key)).sort();
    else if (type === 'set') value = (await redis.smembers(key)).sort();
    else if (type === 'zset') value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'stream') value = await redis.xrange(key, '-', '+');
    hash.update(
      `${key}\u0000${type}\u0000${JSON.stringify(value)}\u0000${String((await redis.pttl(key)) > 0)}\n`,
    );
  }
  return hash.digest('hex');
}

describe('every write script is all-or-nothing under the nastiest inputs', () => {
  it('has a fixture for every script in lua/', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(
      readScripts()
        .map((s) => s.name)
        .sort(),
    );
  });

  for (const [name, fixture] of Object.entries(FIXTURES)) {
    if (fixture === 'read-only') continue;
    it(`${name}: either does all of its work or changes nothing`, async () => {
      const ws = `{aon${randomHex(4)}}:`;
      const k = (part: string) => `${ws}${part}`;
      await fixture.seed(k);
      const before = await digest(ws);
      const { keys, args } = fixture.call(k);
      let reply: unknown;
      let failed: unknown;
      try {
        reply = await scripts.run(name, keys, args);
      } catch (err) {
        failed = err;
      }
      if (fixture.check) expect(failed, `${name} must do its work`).toBeUndefined();
      if (failed !== undefined) {
        expect(
          await digest(ws),
          `${name} failed (${failed instanceof Error ? failed.message : 'error'}) and changed something`,
        ).toBe(before);
      } else if (fixture.check) {
        await fixture.check(k, reply);
      }
    });
  }
});
