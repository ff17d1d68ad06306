import { stemmer } from 'stemmer';
import { STOP_WORDS } from './stopwords.js';

/**
 * BM25 tokenizer: NFKC, lower case, Unicode letters/digits; stop words removed; Latin words stemmed
 * (Porter); scripts written without spaces (Han, Hiragana, Katakana, Hangul, Thai, ...) split into
 * character bigrams so "東京大学" matches "東京". Queries and documents go through the same function.
 */
const RUN = /[\p{L}\p{N}\p{M}]+/gu;
const NO_SPACE_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+/gu;
const LATIN_WORD = /^[a-z]+$/;
const NUMBER = /^\p{N}+$/u;

/** Bumped when tokenization changes, so persisted derivatives know to rebuild. */
export const TOKENIZER_VERSION = 1;

const NON_ASCII = /[^\x00-\x7f]/;

export function tokenize(text: string): string[] {
  // Most text is ASCII: no normalization or script handling needed, and words are [a-z0-9]+ runs.
  if (!NON_ASCII.test(text)) return tokenizeAscii(text.toLowerCase());
  const tokens: string[] = [];
  const normalized = text.normalize('NFKC').toLowerCase();
  for (const [run] of normalized.matchAll(RUN)) {
    let last = 0;
    for (const match of run.matchAll(NO_SPACE_SCRIPT)) {
      const index = match.index;
      if (index > last) pushWord(run.slice(last, index), tokens);
      pushBigrams(match[0], tokens);
      last = index + match[0].length;
    }
    if (last < run.length) pushWord(run.slice(last), tokens);
  }
  return tokens;
}

/** The ASCII path scans characters itself: one string per word and nothing else allocated. */
function tokenizeAscii(lower: string): string[] {
  const tokens: string[] = [];
  let start = -1;
  let letters = false;
  let digits = false;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 0;
    const letter = c >= 97 && c <= 122;
    const digit = c >= 48 && c <= 57;
    if (letter || digit) {
      if (start < 0) {
        start = i;
        letters = false;
        digits = false;
      }
      letters ||= letter;
      digits ||= digit;
      continue;
    }
    if (start < 0) continue;
    const word = lower.slice(start, i);
    start = -1;
    if (!letters)
      tokens.push(word); // a number
    else if (word.length >= 2 && !STOP_WORDS.has(word)) tokens.push(digits ? word : stem(word));
  }
  return tokens;
}

/** Stemming is the costly part of tokenizing and vocabularies repeat: remember stems of recent words. */
const STEM_CACHE_LIMIT = 200_000;
const stems = new Map<string, string>();

function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = stemmer(word);
    if (stems.size >= STEM_CACHE_LIMIT) stems.clear();
    stems.set(word, stemmed);
  }
  return stemmed;
}

function pushWord(word: string, out: string[]): void {
  if (NUMBER.test(word)) {
    out.push(word);
    return;
  }
  if (word.length < 2 || STOP_WORDS.has(word)) return;
  if (LATIN_WORD.test(word)) {
    out.push(stem(word));
    return;
  }
  // Latin letters with diacritics fold to plain ones ("café" finds "cafe"); other scripts keep their marks
  // (in Devanagari, say, they are vowels).
  const folded = word.normalize('NFD').replace(/\p{M}/gu, '');
  out.push(LATIN_WORD.test(folded) ? stem(folded) : word);
}

function pushBigrams(segment: string, out: string[]): void {
  const chars = Array.from(segment);
  if (chars.length === 1) {
    out.push(chars[0] as string);
    return;
  }
  for (let i = 0; i < chars.length - 1; i++) out.push((chars[i] as string) + (chars[i + 1] as string));
}
