import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/memory/search/tokenizer.js';

describe('tokenizer', () => {
  it('lower-cases, drops stop words and stems English', () => {
    expect(tokenize('The user PREFERS async Python frameworks')).toEqual([
      'user',
      'prefer',
      'async',
      'python',
      'framework',
    ]);
  });

  it('keeps numbers and negations', () => {
    expect(tokenize('I am not 42')).toEqual(['not', '42']);
  });

  it('folds Latin diacritics but keeps other scripts intact', () => {
    expect(tokenize('café')).toEqual(tokenize('cafe'));
    expect(tokenize('नमस्ते')).toEqual(['नमस्ते']);
  });

  it('splits scripts without spaces into character bigrams', () => {
    expect(tokenize('東京大学')).toEqual(['東京', '京大', '大学']);
    expect(tokenize('猫')).toEqual(['猫']);
    expect(tokenize('東京 tokyo')).toEqual(['東京', 'tokyo']);
  });

  it('returns nothing for punctuation and stop words only', () => {
    expect(tokenize('... the of and !!!')).toEqual([]);
  });
});
