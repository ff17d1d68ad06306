import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { REFUSED, type Refusal } from '../helpers/refusals.js';

let server: TestServer;
let key: string;

beforeAll(async () => {
  server = await startServer({ metadataMaxBytes: 256 });
  key = await createLayerKey(server, uniqueWorkspace('rem'));
});
afterAll(async () => {
  await server.close();
});

const remember = (body: unknown) => server.request('POST', '/v1/remember', { token: key, body });

describe('POST /v1/remember', () => {
  it('writes all three layers and answers in the seed and reference shapes', async () => {
    const res = await remember({
      content: 'I prefer async Python frameworks over Django',
      importance: 0.8,
      metadata: { channel: 'chat', n: 1 },
      user_id: 'alice',
      agent_id: 'support-bot',
      session_id: 's-1',
      source: 'user_message',
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      working: {
        id: expect.stringMatching(/^wm_/),
        content: 'I prefer async Python frameworks over Django',
        importance: 0.8,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        expires_at: null,
      },
      episodic: {
        id: expect.stringMatching(/^ep_/),
        content: 'I prefer async Python frameworks over Django',
        event: 'user_message',
        created_at: expect.any(String),
      },
      facts: [
        {
          id: expect.stringMatching(/^fact_/),
          subject: 'user',
          predicate: 'prefers',
          object: 'async Python frameworks',
          content: 'user prefers async Python frameworks',
          confidence: 0.88,
          status: 'added',
          superseded: [],
        },
      ],
      working_entry_id: res.json.working.id,
      episode_id: res.json.episodic.id,
      evicted: [],
      // Extraction ran (the rules); the reference server answers true too. No LLM extractor configured here.
      facts_queued: true,
      llm_extraction_queued: false,
      latency_ms: expect.any(Number),
    });
    const stored = await server.request('GET', `/v1/memory/${res.json.episode_id}`, { token: key });
    expect(stored.json).toMatchObject({
      layer: 'episodic',
      metadata: { channel: 'chat', n: 1 },
      session_id: 's-1',
    });
  });

  it('maps source and event to the episode type (the reference always stores agent_response)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'agent_response'],
      [{ source: 'tool_output' }, 'tool_result'],
      [{ source: 'tool_call' }, 'tool_call'],
      [{ source: 'user' }, 'user_message'],
      [{ source: 'something-else' }, 'agent_response'],
      [{ source: 'user_message', event: 'plan_step' }, 'plan_step'],
    ];
    for (const [extra, event] of cases) {
      const res = await remember({ content: 'x', ...extra });
      expect(res.json.episodic.event).toBe(event);
    }
  });

  it('applies defaults: importance 0.5, no metadata, no TTL', async () => {
    const res = await remember({ content: 'plain' });
    expect(res.json.working.importance).toBe(0.5);
    expect(res.json.working.expires_at).toBeNull();
    // No fact in the text, but extraction ran on it: facts_queued is true, as on the reference server.
    expect(res.json).toMatchObject({ facts: [], facts_queued: true, llm_extraction_queued: false });
    const stored = await server.request('GET', `/v1/memory/${res.json.working_entry_id}`, { token: key });
    expect(stored.json).toMatchObject({ metadata: {}, user_id: null, agent_id: null, expires_at: null });
  });

  it('accepts a past created_at for imports and refuses the future', async () => {
    const res = await remember({ content: 'imported from last year', created_at: '2025-05-08T13:56:00Z' });
    expect(res.json.episodic.created_at).toBe('2025-05-08T13:56:00.000Z');
    const recall = await server.request('POST', '/v1/recall', {
      token: key,
      body: { query: 'imported last year' },
    });
    expect(recall.json.results[0].recency).toBeLessThan(0.001);
    const future = await remember({
      content: 'x',
      created_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(future.status).toBe(400);
    expect(future.json.detail).toBe('body.created_at must not be in the future');
    const garbled = await remember({ content: 'x', created_at: 'yesterday' });
    expect(garbled.json.detail).toMatch(/created_at must match format "date-time"/);
  });

  it('sets an expiry from ttl_seconds', async () => {
    const res = await remember({ content: 'temporary', ttl_seconds: 60 });
    const expires = Date.parse(res.json.working.expires_at);
    expect(expires - Date.parse(res.json.working.created_at)).toBe(60_000);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['missing content', {}, /body\.content is required/],
    ['empty content', { content: '' }, /content must NOT have fewer than 1 characters/],
    [
      'content over 8000 chars',
      { content: 'x'.repeat(8001) },
      /content must NOT have more than 8000 characters/,
    ],
    ['content a number', { content: 5 }, /content must be string/],
    ['importance above 1', { content: 'x', importance: 1.5 }, /importance must be <= 1/],
    ['importance below 0', { content: 'x', importance: -0.1 }, /importance must be >= 0/],
    ['importance a string', { content: 'x', importance: 'high' }, /importance must be number/],
    ['metadata an array', { content: 'x', metadata: [1] }, /metadata must be object/],
    ['metadata a string', { content: 'x', metadata: 'x' }, /metadata must be object/],
    ['user_id with a space', { content: 'x', user_id: 'a b' }, /user_id must match pattern/],
    ['user_id too long', { content: 'x', user_id: 'u'.repeat(129) }, /user_id must match pattern/],
    ['agent_id a number', { content: 'x', agent_id: 7 }, /agent_id must be string,null/],
    ['session_id with a brace', { content: 'x', session_id: 'a{b}' }, /session_id must match pattern/],
    ['source too long', { content: 'x', source: 's'.repeat(65) }, /source must NOT have more than 64/],
    ['unknown event', { content: 'x', event: 'dance' }, /event must be one of/],
    ['negative ttl', { content: 'x', ttl_seconds: -1 }, /ttl_seconds must be >= 0/],
    ['body not an object', 'hello', /body must be object/],
  ];
  for (const [name, body, detail] of invalid) {
    it(`answers 400 {detail, status} for ${name} and stores nothing`, async () => {
      const before = (await server.request('GET', '/v1/stats', { token: key })).json;
      const res = await remember(body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ detail: expect.stringMatching(detail), status: 400 });
      const after = (await server.request('GET', '/v1/stats', { token: key })).json;
      expect(after.episodic_records).toBe(before.episodic_records);
    });
  }

  it('answers 400 for metadata over the configured byte limit', async () => {
    const res = await remember({ content: 'x', metadata: { blob: 'y'.repeat(300) } });
    expect(res.status).toBe(400);
    expect(res.json.detail).toBe('body.metadata must not exceed 256 bytes as JSON');
  });

  it('answers 401 without a valid key', async () => {
    const refusals: [string | undefined, Refusal][] = [
      [undefined, REFUSED.missing],
      ['plm_live_' + '0'.repeat(48), REFUSED.unknown],
      ['nonsense', REFUSED.notAKey('layer')],
    ];
    for (const [token, refusal] of refusals) {
      const res = await server.request('POST', '/v1/remember', {
        ...(token ? { token } : {}),
        body: { content: 'x' },
      });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ detail: refusal.detail, status: 401 });
    }
  });
});
