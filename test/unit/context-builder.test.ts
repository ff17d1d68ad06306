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
    for (let start = 0; start < items.length; start += 5) {
      const slice = items.slice(start, start + 9);
      const built = buildContext(slice, 100_000);
      expect(built.tokenCount).toBe(countTokens(built.content));
    }
  });
});
