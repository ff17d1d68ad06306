import { describe, expect, it } from 'vitest';
import { buildFact, fingerprintOf, slotsOf } from '../../src/memory/facts/fact-builder.js';
import { parseFacts } from '../../src/memory/facts/llm-extractor.js';
import { extractFacts } from '../../src/memory/facts/rule-extractor.js';

const facts = (text: string) => extractFacts(text).map((f) => [f.predicate, f.object]);

describe('rule-based fact extraction', () => {
  it('finds first-person facts with short objects', () => {
    expect(facts('I prefer async Python frameworks like FastAPI over Django.')).toEqual([
      ['prefers', 'async Python frameworks'],
    ]);
    expect(facts('My name is Alice and I live in Berlin, Germany.')).toEqual([
      ['is', 'Alice'],
      ['located_in', 'Berlin'],
    ]);
    expect(facts('I work at Acme Corp as an engineer')).toEqual([['works_at', 'Acme Corp']]);
    expect(facts("I don't like meetings before noon")).toEqual([['dislikes', 'meetings before noon']]);
    expect(facts('I use vim every day')).toEqual([['uses', 'vim']]);
    expect(facts('My favorite color is dark blue')).toEqual([['prefers', 'dark blue']]);
    expect(facts("I'm working on the billing service")).toEqual([['works_on', 'billing service']]);
  });

  it('ignores text without first-person facts and weak objects', () => {
    expect(facts('Hey Mel! Good to see you! How have you been?')).toEqual([]);
    expect(facts('I like to run')).toEqual([]);
    expect(facts('I need it')).toEqual([]);
  });
});

describe('fact identity', () => {
  const ns = { userId: 'u', agentId: null };
  const f = (predicate: 'prefers' | 'dislikes' | 'located_in' | 'uses', object: string) => ({
    subject: 'user',
    predicate,
    object,
    confidence: 0.9,
  });

  it('fingerprints ignore case and punctuation of the object', () => {
    expect(fingerprintOf(ns, f('uses', 'Vim!'))).toBe(fingerprintOf(ns, f('uses', 'vim')));
    expect(fingerprintOf(ns, f('uses', 'vim'))).not.toBe(
      fingerprintOf({ userId: 'v', agentId: null }, f('uses', 'vim')),
    );
  });

  it('gives single-valued predicates one slot and preferences a target and a polarity slot', () => {
    expect(slotsOf(ns, f('located_in', 'Berlin'))).toEqual(slotsOf(ns, f('located_in', 'Paris')));
    expect(slotsOf(ns, f('uses', 'vim'))).toEqual([]);
    const dark = slotsOf(ns, f('prefers', 'dark mode'));
    const light = slotsOf(ns, f('prefers', 'light mode'));
    expect(dark[0]).toBe(light[0]); // same target: mode
    const dislikeDark = slotsOf(ns, f('dislikes', 'dark mode'));
    expect(dislikeDark[1]).toBe(dark[1]); // same polarity slot: dark mode
    expect(dislikeDark[0]).not.toBe(dark[0]);
  });

  it('builds a fact document with plyra-style content and searchable glosses', () => {
    const built = buildFact(f('located_in', 'Berlin'), {
      ns,
      sessionId: null,
      sourceEpisodeId: 'ep_1',
      extractor: 'rules',
      now: new Date('2026-01-01T00:00:00Z'),
      importance: 0.5,
    });
    expect(built.doc.content).toBe('user located_in Berlin');
    expect(built.doc.search_text).toMatch(/lives in/);
    expect(built.doc.status).toBe('current');
    expect(built.doc.id).toMatch(/^fact_/);
  });
});

describe('LLM extractor answers', () => {
  it('parses the agreed JSON and drops unknown predicates', () => {
    const parsed = parseFacts(
      '```json\n{"facts":[{"subject":"user","predicate":"works_at","object":"Acme","confidence":0.9},{"predicate":"teleports","object":"x"}]}\n```',
    );
    expect(parsed).toEqual([{ subject: 'user', predicate: 'works_at', object: 'Acme', confidence: 0.9 }]);
  });

  it('rejects answers that are not the agreed shape', () => {
    expect(() => parseFacts('not json')).toThrow();
    expect(() => parseFacts('{"items":[]}')).toThrow(/facts/);
  });
});
