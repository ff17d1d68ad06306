import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { buildContext, contextLine } from '../../src/memory/context-builder.js';

const items = Array.from({ length: 40 }, (_, i) => ({
  layer: i % 3 === 0 ? 'semantic' : 'episodic',
  content: `memory ${i} ${'word '.repeat((i * 7) % 23)}`,
  score: 1 - i / 100,
}));

describe('context builder', () => {
  it('formats lines like the reference docs', () => {
    expect(contextLine({ layer: 'episodic', content: 'User prefers\nasync  Python', score: 0.9412 })).toBe(
      '[EPISODIC] User prefers async Python (score: 0.94)',
    );
  });

  it('never exceeds the budget and counts with the real tokenizer', () => {
    for (const budget of [1, 5, 16, 64, 100, 333, 2048]) {
      const built = buildContext(items, budget);
      expect(built.tokenCount).toBeLessThanOrEqual(budget);
      expect(built.tokenCount).toBe(countTokens(built.content));
      expect(built.used).toBe(built.content === '' ? 0 : built.content.split('\n').length);
    }
  });

  it('skips an item that does not fit and still uses later smaller ones', () => {
    const built = buildContext(
      [
        { layer: 'working', content: 'short one', score: 0.9 },
        { layer: 'working', content: 'long '.repeat(200), score: 0.8 },
        { layer: 'working', content: 'short two', score: 0.7 },
      ],
      40,
    );
    expect(built.content).toContain('short one');
    expect(built.content).toContain('short two');
    expect(built.content).not.toContain('long long');
  });
});

describe('context token counting by parts', () => {
  it('equals counting the whole text, for all kinds of content', () => {
    const contents = [
      'plain words here',
      'ends with a period.',
      'ends with a question?',
      'trailing paren (like this)',
      'numbers 12345 and 3.14159',
      'unicode: café, 東京大学, emoji 🎉, مرحبا',
      'slashes / and \\ backslashes / at the end/',
      'newlines\nin the\n\nmiddle   and   spaces',
      '"quoted" text — with dashes – and ellipsis…',
      ')))',
      '[BRACKETS] inside [text]',
      'a',
    ];
    const items = contents.flatMap((content, i) =>
      ['working', 'episodic', 'semantic'].map((layer, j) => ({
        layer,
        content,
        score: ((i * 7 + j * 13) % 101) / 100,
      })),
    );
    // One layer at a time: the same content on two layers would be left out as a duplicate.
    for (const layer of ['working', 'episodic', 'semantic']) {
      const ofLayer = items.filter((item) => item.layer === layer);
      for (let start = 0; start < ofLayer.length; start += 2) {
        const slice = ofLayer.slice(start, start + 5);
        const built = buildContext(slice, 100_000);
        expect(built.used).toBe(slice.length);
        expect(built.tokenCount).toBe(countTokens(built.content));
      }
    }
  });
});

describe('context without repeats', () => {
  const line = (layer: string, content: string, score: number) => ({ layer, content, score });

  it('keeps only the best-scored copy of one remember (working, episodic, semantic of the same text)', () => {
    const built = buildContext(
      [
        line('episodic', 'Deploys run migrations first', 0.91),
        line('working', 'Deploys run migrations first', 0.9),
        line('semantic', 'Deploys run migrations first', 0.7),
        line('working', 'The staging database is read-only', 0.6),
      ],
      2048,
    );
    expect(built.content).toBe(
      '[EPISODIC] Deploys run migrations first (score: 0.91)\n[WORKING] The staging database is read-only (score: 0.60)',
    );
    expect(built.used).toBe(2);
    expect(built.tokenCount).toBe(countTokens(built.content));
  });

  it('treats text equal after NFKC, case, whitespace and punctuation as a duplicate', () => {
    const variants = [
      'User prefers async Python.',
      'user prefers async python',
      '  USER   prefers\nasync Python!!',
      'User prefers, async Python?',
      'Ｕｓｅｒ ｐｒｅｆｅｒｓ async Ｐｙｔｈｏｎ', // full-width forms
      '"User" prefers async-Python',
    ];
    const built = buildContext(
      variants.map((content, i) => line('episodic', content, 0.9 - i / 100)),
      2048,
    );
    expect(built.content).toBe('[EPISODIC] User prefers async Python. (score: 0.90)');
  });

  it('keeps memories that differ in a word, and a fact next to the sentence it came from', () => {
    const contents = [
      'User prefers async Python',
      'User prefers sync Python',
      'User prefers async Python frameworks',
      'I prefer async Python', // the sentence
      'user prefers async python frameworks like fastapi',
    ];
    const built = buildContext(
      [
        ...contents.map((content, i) => line('episodic', content, 0.9 - i / 100)),
        line('semantic', 'user prefers async Python', 0.5), // the triple of the first: a duplicate
      ],
      2048,
    );
    expect(built.used).toBe(contents.length);
    expect(built.content).not.toContain('[SEMANTIC]');
  });

  it('spends the budget only on distinct lines: a left-out duplicate costs nothing', () => {
    const first = line('working', 'alpha beta gamma', 0.9);
    const second = line('working', 'delta epsilon zeta', 0.5);
    const exactly = countTokens(`${contextLine(first)}\n${contextLine(second)}`);
    const copies = Array.from({ length: 5 }, (_, i) => line('episodic', 'Alpha beta gamma.', 0.8 - i / 100));
    const built = buildContext([first, ...copies, second], exactly);
    expect(built.content).toBe(`${contextLine(first)}\n${contextLine(second)}`);
    expect(built.tokenCount).toBe(exactly);
  });

  it('keeps texts of punctuation only apart from each other', () => {
    const built = buildContext([line('working', '...', 0.9), line('working', '???', 0.8)], 2048);
    expect(built.used).toBe(2);
  });
});
