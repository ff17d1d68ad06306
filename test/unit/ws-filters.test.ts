import { describe, expect, it } from 'vitest';
import { liveView, storedView, type EventView } from '../../src/memory/event-view.js';
import { Filter } from '../../src/memory/event-filter.js';
import { newSubscription } from '../../src/ws/subscription.js';

const event = (type: string, data: Record<string, unknown> = {}): EventView =>
  liveView(JSON.stringify({ id: '1-0', type, ts: 't', workspace: 'w', actor: {}, data }))!;

describe('event views', () => {
  it('takes type and namespace out of the envelope once and keeps the JSON text as is', () => {
    const json =
      '{"id":"5-1","type":"memory.fact.added","data":{"user_id":"u","agent_id":"a","scope":"team"}}';
    const view = liveView(json)!;
    expect(view).toMatchObject({
      id: '5-1',
      type: 'memory.fact.added',
      userId: 'u',
      agentId: 'a',
      scope: 'team',
    });
    expect(view.json).toBe(json);
    expect(view.bytes!.toString('utf8')).toBe(json);
  });

  it('treats absent, null and non-string namespaces as null', () => {
    expect(event('t', { user_id: null }).userId).toBeNull();
    expect(event('t', {}).agentId).toBeNull();
    expect(event('t', { user_id: 7 }).userId).toBeNull();
    expect(liveView('{"id":"1-0","type":"t"}')!.userId).toBeNull();
  });

  it('rejects what is not an envelope', () => {
    expect(liveView('not json')).toBeUndefined();
    expect(liveView('[1,2]')).toBeUndefined();
    expect(liveView('{"type":"x"}')).toBeUndefined();
    expect(liveView('null')).toBeUndefined();
  });

  it('falls back to the stream entry for a stored event', () => {
    expect(storedView({ id: '2-0', type: 'x.y', json: 'garbage' })).toMatchObject({ id: '2-0', type: 'x.y' });
    expect(storedView({ id: '2-0', type: 'x.y', json: '{"id":"2-0","type":"x.y"}' }).bytes).toBeUndefined();
  });
});

describe('filters', () => {
  it('matches everything without a filter, and with *', () => {
    expect(new Filter({}).matches(event('working.evicted'))).toBe(true);
    expect(new Filter({ types: ['*'] }).matches(event('anything.at.all'))).toBe(true);
  });

  it('matches exact types', () => {
    const filter = new Filter({ types: ['memory.fact.added', 'working.evicted'] });
    expect(filter.matches(event('memory.fact.added'))).toBe(true);
    expect(filter.matches(event('working.evicted'))).toBe(true);
    expect(filter.matches(event('memory.fact.superseded'))).toBe(false);
    expect(filter.matches(event('memory.fact'))).toBe(false);
  });

  it('matches family prefixes on whole segments', () => {
    const filter = new Filter({ types: ['memory.*'] });
    for (const type of [
      'memory.working.added',
      'memory.episode.added',
      'memory.fact.added',
      'memory.deleted',
    ])
      expect(filter.matches(event(type))).toBe(true);
    expect(filter.matches(event('working.evicted'))).toBe(false);
    expect(filter.matches(event('memoryx.added'))).toBe(false);
    expect(filter.matches(event('memory'))).toBe(false);
    const fact = new Filter({ types: ['memory.fact.*'] });
    expect(fact.matches(event('memory.fact.superseded'))).toBe(true);
    expect(fact.matches(event('memory.working.added'))).toBe(false);
  });

  it('requires every given namespace part', () => {
    const user = new Filter({ user_id: 'alice' });
    expect(user.matches(event('t', { user_id: 'alice' }))).toBe(true);
    expect(user.matches(event('t', { user_id: 'bob' }))).toBe(false);
    expect(user.matches(event('t', { user_id: null }))).toBe(false);
    expect(user.matches(event('t', {}))).toBe(false);
    const both = new Filter({ types: ['memory.*'], user_id: 'alice', agent_id: 'planner' });
    expect(both.matches(event('memory.fact.added', { user_id: 'alice', agent_id: 'planner' }))).toBe(true);
    expect(both.matches(event('memory.fact.added', { user_id: 'alice', agent_id: 'other' }))).toBe(false);
    expect(both.matches(event('working.evicted', { user_id: 'alice', agent_id: 'planner' }))).toBe(false);
  });
});

describe('subscriptions', () => {
  it('start with new events only unless given an id to replay from', () => {
    expect(newSubscription('s1', {}, undefined)).toMatchObject({
      since: '$',
      replaying: false,
      from: undefined,
    });
    expect(newSubscription('s1', {}, '$')).toMatchObject({ since: '$', replaying: false });
    expect(newSubscription('s2', {}, '10-0')).toMatchObject({
      since: '10-0',
      replaying: true,
      announced: false,
    });
  });
});
