import { countTokens } from 'gpt-tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';

/** POST /api/v1/inject (plur.md §1.7): selection, sections, the budget and the pinned cap. */
let server: TestServer;

beforeAll(async () => {
  server = await startEngramServer();
});
afterAll(async () => {
  await server.close();
});

/** The entries of an injection's text by engram id (a directive block spans its Rationale/Domain lines). */
function entriesOf(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const part of text.split(/\n(?=\[)|\n\n## [A-Z ]+\n|^## [A-Z ]+\n| \| (?=\[)/)) {
    const id = /^\[([^\]]+)\]/.exec(part)?.[1];
    if (id) entries.set(id, part);
  }
  return entries;
}
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('inject', () => {
  it('answers in the documented shape with the text sectioned by kind of engram', async () => {
    const org = new Org(server);
    const alice = await org.user('alice');
    const arch = await org.engram(alice, {
      statement: 'Services exchange deploy events through the queue.',
      type: 'architectural',
      rationale: 'Decoupled deploys.',
      domain: 'software.deployment',
    });
    const proc = await org.engram(alice, {
      statement: 'Deploys run database migrations first.',
      type: 'procedural',
    });
    const term = await org.engram(alice, {
      statement: 'A deploy train is a scheduled batch of releases.',
      type: 'terminological',
    });
    const res = await org.as(alice, 'POST', '/api/v1/inject', {
      task: 'Plan the deploy of the billing service',
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(
      ['consider', 'constraints', 'count', 'directives', 'injected_ids', 'text', 'tokens_used'].sort(),
    );
    expect(res.json.injected_ids).toEqual([arch.id, proc.id, term.id]);
    expect(res.json.count).toBe(3);
    expect(res.json.text).toBe(
      [
        '## DIRECTIVES',
        `[${arch.id}] Services exchange deploy events through the queue.`,
        '  Rationale: Decoupled deploys.',
        `  Domain: software.deployment | Commitment: leaning | Confidence: 0.35 | Last verified: ${day(0)}`,
        '',
        '## CONSTRAINTS',
        `[${proc.id}] Deploys run database migrations first.`,
        '',
        '## ALSO CONSIDER',
        `[${term.id}] A deploy train is a scheduled batch of releases.`,
      ].join('\n'),
    );
    expect(res.json.directives).toBe(res.json.text.split('\n\n')[0].replace('## DIRECTIVES\n', ''));
    expect(res.json.constraints).toBe(`[${proc.id}] Deploys run database migrations first.`);
    expect(res.json.tokens_used).toBe(countTokens(res.json.text));
    const after = await org.as(alice, 'GET', `/api/v1/engrams/${arch.id}`);
    expect(after.json.data.injection_count).toBe(1);
  });

  it('injects only active engrams inside their validity window', async () => {
    const org = new Org(server);
    const alice = await org.user('alice');
    const ok = await org.engram(alice, {
      statement: 'Valid marmot rule.',
      valid_from: day(-1),
      valid_until: day(1),
    });
    await org.engram(alice, { statement: 'Expired marmot rule.', valid_until: day(-1) });
    await org.engram(alice, { statement: 'Future marmot rule.', valid_from: day(2) });
    const retired = await org.engram(alice, { statement: 'Retired marmot rule.' });
    await org.as(alice, 'DELETE', `/api/v1/engrams/${retired.id}`);
    const dormant = await org.engram(alice, { statement: 'Dormant marmot rule.' });
    await org.as(alice, 'PATCH', `/api/v1/engrams/${dormant.id}`, { status: 'dormant' });
    const res = await org.as(alice, 'POST', '/api/v1/inject', { task: 'marmot rule' });
    expect(res.json.injected_ids).toEqual([ok.id]);
  });

  it('injects nothing for an unrelated task, but always the pinned engrams', async () => {
    const org = new Org(server);
    const alice = await org.user('alice');
    await org.engram(alice, { statement: 'Otters hold hands while sleeping.' });
    expect(
      (await org.as(alice, 'POST', '/api/v1/inject', { task: 'Refactor the tax module' })).json,
    ).toMatchObject({
      text: '',
      count: 0,
      injected_ids: [],
      tokens_used: 0,
    });
    const pinned = await org.engram(null, {
      statement: 'Never commit to main directly.',
      scope: `org:${org.id}`,
      pinned: true,
    });
    const res = await org.as(alice, 'POST', '/api/v1/inject', { task: 'Refactor the tax module' });
    expect(res.json.injected_ids).toEqual([pinned.id]);
  });

  for (const budget of [1, 60, 150, 400, 900, 2000, 6000]) {
    it(`reports the tokenizer's count of the text, never above a budget of ${budget}, pinned within half`, async () => {
      const org = new Org(server, 'budget');
      const alice = await org.user('alice', 'admin');
      const pinnedIds = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const e = await org.engram(alice, {
          statement: `Pinned release rule ${i}: ${'tag every release with its changelog entry. '.repeat(1 + (i % 3))}`,
          pinned: true,
          domain: 'release',
        });
        pinnedIds.add(e.id);
      }
      for (let i = 0; i < 25; i++) {
        await org.engram(alice, {
          statement: `Release checklist item ${i}: verify the release notes and changelog before shipping ${'carefully '.repeat(i % 5)}`,
          domain: i % 2 ? 'release.notes' : 'qa',
          tags: ['release'],
        });
      }
      const res = await org.as(alice, 'POST', '/api/v1/inject', {
        task: 'Prepare the release: changelog, release notes, shipping checklist',
        budget,
        max_engrams: 100,
      });
      expect(res.status).toBe(200);
      expect(res.json.tokens_used).toBe(countTokens(res.json.text));
      expect(res.json.tokens_used).toBeLessThanOrEqual(budget);
      const entries = entriesOf(res.json.text);
      expect([...entries.keys()].sort()).toEqual([...res.json.injected_ids].sort());
      const pinnedCost = [...entries]
        .filter(([id]) => pinnedIds.has(id))
        .reduce((n, [, entry]) => n + countTokens(entry), 0);
      expect(pinnedCost).toBeLessThanOrEqual(Math.floor(budget / 2));
      expect(res.json.count).toBe(res.json.injected_ids.length);
      if (budget >= 2000) {
        expect(pinnedCost).toBeGreaterThan(0);
        expect(res.json.count).toBeGreaterThan(4);
      }
    });
  }

  it('respects max_engrams and narrows by scope or scopes (each with its sub-scopes)', async () => {
    const org = new Org(server);
    const alice = await org.user('alice');
    const team = await org.group('web');
    const sub = await org.group('web/ui');
    await org.member(team.id, alice, 'editor');
    const top = await org.engram(alice, {
      statement: 'Web pages load the pelican bundle lazily.',
      scope: team.scope,
    });
    const below = await org.engram(alice, {
      statement: 'UI buttons show the pelican icon.',
      scope: sub.scope,
    });
    const mine = await org.engram(alice, { statement: 'I like the pelican theme.' });
    const task = { task: 'pelican bundle icon theme' };
    expect((await org.as(alice, 'POST', '/api/v1/inject', { ...task, max_engrams: 1 })).json.count).toBe(1);
    const scoped = await org.as(alice, 'POST', '/api/v1/inject', { ...task, scope: 'group:web' });
    expect(scoped.json.injected_ids.sort()).toEqual([top.id, below.id].sort());
    const several = await org.as(alice, 'POST', '/api/v1/inject', {
      ...task,
      scopes: [sub.scope, `user:${org.id}:alice`],
    });
    expect(several.json.injected_ids.sort()).toEqual([below.id, mine.id].sort());
    const nowhere = await org.as(alice, 'POST', '/api/v1/inject', { ...task, scope: 'group:elsewhere' });
    expect(nowhere.json.count).toBe(0);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no task', {}, /task is required/],
    ['an empty task', { task: '' }, /task must NOT have fewer than 1/],
    ['a budget of 0', { task: 't', budget: 0 }, /budget must be >= 1/],
    ['a fractional budget', { task: 't', budget: 1.5 }, /budget must be integer/],
    ['max_engrams over 100', { task: 't', max_engrams: 101 }, /max_engrams must be <= 100/],
    [
      'both scope and scopes',
      { task: 't', scope: 'global', scopes: ['global'] },
      /scope or scopes, not both/,
    ],
    ['a malformed scope', { task: 't', scope: '' }, /scope must NOT have fewer than 1/],
  ];
  for (const [name, body, detail] of bad) {
    it(`answers 400 for ${name}`, async () => {
      const res = await new Org(server).admin('POST', '/api/v1/inject', body);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(detail);
    });
  }
});
