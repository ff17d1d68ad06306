import { describe, expect, it } from 'vitest';
import {
  contentHash,
  engramRow,
  newEngramDoc,
  normalizeStatement,
  parseEngramDoc,
  searchText,
} from '../../src/memory/engrams/engram-doc.js';
import { canTransition, dayOf, formatEngramId, isEngramId } from '../../src/memory/engrams/model.js';

describe('engram ids', () => {
  it('have the canonical ENG-YYYY-MM-DD-NNN form, growing past 999', () => {
    expect(formatEngramId('2026-03-01', 7)).toBe('ENG-2026-03-01-007');
    expect(formatEngramId('2026-03-01', 1234)).toBe('ENG-2026-03-01-1234');
    expect(dayOf(new Date('2026-03-01T23:59:59Z'))).toBe('2026-03-01');
  });

  it('accepts the forms of the model and nothing else', () => {
    for (const id of ['ENG-2026-03-01-007', 'ENG-2026-0301-007', 'ENG-PACK-EM-006', 'ABS-1', 'META-x-1'])
      expect(isEngramId(id), id).toBe(true);
    for (const id of ['eng-2026', 'ENG-', 'ENG-a b', 'ENG-a/b', 'XYZ-1', `ENG-${'x'.repeat(121)}`])
      expect(isEngramId(id), id).toBe(false);
  });
});

describe('engram documents', () => {
  it('hash the normalized statement (case, punctuation and spacing do not matter)', () => {
    expect(normalizeStatement('  Deploys MUST run   migrations, first! ')).toBe(
      'deploys must run migrations first',
    );
    expect(contentHash('Deploys must run migrations first.')).toBe(
      contentHash('deploys must run migrations first'),
    );
    expect(contentHash('Deploys must run migrations first.')).not.toBe(
      contentHash('Deploys must run tests first.'),
    );
  });

  it('search statement, domain words, tags and rationale', () => {
    expect(
      searchText({
        statement: 'S',
        domain: 'software.deployment/k8s',
        tags: ['a', 'b'],
        rationale: 'because',
      }),
    ).toBe('S\nsoftware deployment k8s\na b\nbecause');
  });

  it('round-trip unknown fields and let the model win on the wire', () => {
    const doc = {
      ...newEngramDoc({
        statement: 'S',
        type: 'procedural',
        scope: 'org:acme',
        status: 'active',
        domain: null,
        tags: [],
        rationale: null,
        pinned: false,
        commitment: 'leaning',
        locked_reason: null,
        valid_from: null,
        valid_until: null,
        supersedes: [],
        source: null,
        session_id: null,
        ext: { measured_under: { model: 'x', empty: [] }, scope: 'ignored', n: 1.123456789012345 },
        createdBy: 'u',
        now: new Date('2026-01-02T03:04:05Z'),
      }),
      id: 'ENG-2026-01-02-001',
    };
    const row = engramRow(parseEngramDoc(JSON.stringify(doc))!);
    expect(row).toMatchObject({
      id: doc.id,
      scope: 'org:acme',
      status: 'active',
      created_at: '2026-01-02T03:04:05.000Z',
    });
    expect(row.data.measured_under).toEqual({ model: 'x', empty: [] });
    expect(row.data.n).toBe(1.123456789012345);
    expect(row.data.scope).toBe('org:acme');
    expect(row.data.activation).toEqual({
      retrieval_strength: 0.7,
      storage_strength: 1,
      frequency: 0,
      last_accessed: null,
    });
  });

  it('read documents whose empty arrays Lua wrote as objects', () => {
    const parsed = parseEngramDoc(
      '{"id":"ENG-1","layer":"engram","tags":{},"supersedes":{},"ext":"{}","feedback_signals":{"positive":0}}',
    );
    expect(parsed?.tags).toEqual([]);
    expect(parseEngramDoc('{"id":"ep_1","layer":"episodic"}')).toBeUndefined();
  });

  it('allow only the documented status transitions', () => {
    expect(canTransition('candidate', 'active')).toBe(true);
    expect(canTransition('active', 'candidate')).toBe(false);
    expect(canTransition('retired', 'active')).toBe(true);
    expect(canTransition('retired', 'dormant')).toBe(false);
    expect(canTransition('dormant', 'dormant')).toBe(true);
  });
});
