import { describe, expect, it } from 'vitest';
import { frames } from '../../src/ws/frames.js';
import { parseClientMessage } from '../../src/ws/protocol.js';
import { upgradeToken } from '../../src/ws/upgrade-token.js';

const parse = (value: unknown) =>
  parseClientMessage(typeof value === 'string' ? value : JSON.stringify(value));

describe('client messages', () => {
  it('accepts the documented messages', () => {
    for (const message of [
      { op: 'ping' },
      { op: 'subscribe' },
      {
        op: 'subscribe',
        id: 'mine-1',
        types: ['memory.*', 'working.evicted', '*'],
        user_id: 'u',
        agent_id: 'a',
      },
      { op: 'subscribe', since: '$' },
      { op: 'subscribe', since: '1700000000000-0' },
      { op: 'subscribe', since: '0-0' },
      { op: 'unsubscribe', id: 's1' },
    ]) {
      expect(parse(message)).toEqual({ ok: true, message });
    }
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['invalid JSON', '{"op":', 'invalid_json', /not valid JSON/],
    ['a JSON string', '"subscribe"', 'invalid_message', /JSON object with an op/],
    ['an array', [{ op: 'ping' }], 'invalid_message', /JSON object/],
    ['null', 'null', 'invalid_message', /JSON object/],
    ['no op', { types: ['*'] }, 'unknown_op', /op must be one of: subscribe, unsubscribe, ping/],
    ['an unknown op', { op: 'publish' }, 'unknown_op', /op must be one of/],
    ['op not a string', { op: 1 }, 'unknown_op', /op must be one of/],
    ['an unknown field', { op: 'subscribe', topic: 'x' }, 'invalid_message', /^topic is not allowed$/],
    [
      'types not an array',
      { op: 'subscribe', types: 'memory.*' },
      'invalid_message',
      /^types must be array$/,
    ],
    ['empty types', { op: 'subscribe', types: [] }, 'invalid_message', /types must NOT have fewer than 1/],
    [
      'a type with a space',
      { op: 'subscribe', types: ['memory fact'] },
      'invalid_message',
      /types.0 must be an event type/,
    ],
    [
      'a wildcard inside',
      { op: 'subscribe', types: ['memory.*.added'] },
      'invalid_message',
      /types.0 must be an event type/,
    ],
    [
      'a bare prefix star',
      { op: 'subscribe', types: ['mem*'] },
      'invalid_message',
      /types.0 must be an event type/,
    ],
    ['a type a number', { op: 'subscribe', types: [3] }, 'invalid_message', /^types.0 must be string$/],
    ['too many types', { op: 'subscribe', types: Array(33).fill('*') }, 'invalid_message', /more than 32/],
    ['user_id a number', { op: 'subscribe', user_id: 7 }, 'invalid_message', /^user_id must be string$/],
    ['empty agent_id', { op: 'subscribe', agent_id: '' }, 'invalid_message', /agent_id must NOT have fewer/],
    ['since a number', { op: 'subscribe', since: 5 }, 'invalid_message', /^since must be string$/],
    [
      'since not an id',
      { op: 'subscribe', since: 'yesterday' },
      'invalid_message',
      /since must be an event id/,
    ],
    [
      'since without a sequence',
      { op: 'subscribe', since: '1700000000000' },
      'invalid_message',
      /since must be an event id/,
    ],
    [
      'since too large',
      { op: 'subscribe', since: '1'.repeat(16) + '-0' },
      'invalid_message',
      /since must be an event id/,
    ],
    ['a subscription id with a space', { op: 'subscribe', id: 'a b' }, 'invalid_message', /id must be 1-64/],
    ['unsubscribe without id', { op: 'unsubscribe' }, 'invalid_message', /^id is required$/],
    ['ping with extras', { op: 'ping', data: 1 }, 'invalid_message', /data is not allowed/],
  ];
  for (const [name, value, code, message] of bad) {
    it(`rejects ${name}`, () => {
      const result = parse(value);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe(code);
      expect(result.message).toMatch(message);
    });
  }
});

describe('server frames', () => {
  it('serializes every frame with exactly its declared fields', () => {
    expect(JSON.parse(frames.subscribed({ subscription: 's1', from: '1-0' }))).toEqual({
      op: 'subscribed',
      subscription: 's1',
      from: '1-0',
    });
    expect(
      JSON.parse(frames.subscribed({ subscription: 's1', from: '1-0', types: ['memory.*'], user_id: 'u' })),
    ).toEqual({ op: 'subscribed', subscription: 's1', from: '1-0', types: ['memory.*'], user_id: 'u' });
    expect(JSON.parse(frames.unsubscribed('s1'))).toEqual({ op: 'unsubscribed', subscription: 's1' });
    expect(JSON.parse(frames.replayGap('s1', '0-0', '9-0'))).toEqual({
      op: 'replay.gap',
      subscription: 's1',
      since: '0-0',
      first_id: '9-0',
    });
    expect(JSON.parse(frames.replayDone('s1', '9-3'))).toEqual({
      op: 'replay.done',
      subscription: 's1',
      last_id: '9-3',
    });
    expect(JSON.parse(frames.error('unknown_op', 'op "x" \\ "y"'))).toEqual({
      op: 'error',
      code: 'unknown_op',
      message: 'op "x" \\ "y"',
    });
    expect(JSON.parse(frames.error('since_behind', 'm', 's2'))).toMatchObject({ subscription: 's2' });
    expect(JSON.parse(frames.pong)).toMatchObject({ op: 'pong' });
  });
});

describe('upgrade credentials', () => {
  const key = 'plm_live_' + 'a'.repeat(48);
  it('reads the Authorization header first', () => {
    expect(upgradeToken(`Bearer ${key}`, '', 'access_token=other')).toMatchObject({
      token: key,
      subprotocol: '',
    });
  });
  it('reads the bearer subprotocol and answers it', () => {
    expect(upgradeToken('', `bearer, ${key}`, '')).toMatchObject({ token: key, subprotocol: 'bearer' });
    expect(upgradeToken('', `Bearer,${key}`, '')).toMatchObject({ token: key, subprotocol: 'bearer' });
    // A browser that offered `bearer` requires it answered even when the header carried the token.
    expect(upgradeToken(`Bearer ${key}`, 'bearer, x', '')).toMatchObject({
      token: key,
      subprotocol: 'bearer',
    });
  });
  it('reads access_token from the query last', () => {
    expect(upgradeToken('', '', `a=1&access_token=${key}`)).toMatchObject({ token: key, subprotocol: '' });
    expect(upgradeToken('', 'chat', `access_token=${key}`)).toMatchObject({ token: key, subprotocol: '' });
  });
  it('finds nothing when nothing is given', () => {
    expect(upgradeToken('', '', '')).toMatchObject({ token: undefined, subprotocol: '' });
    expect(upgradeToken('Basic abc', 'bearer', 'access_token=')).toMatchObject({
      token: undefined,
      subprotocol: 'bearer',
    });
  });
});
