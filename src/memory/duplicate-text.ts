/**
 * When two memories say the same thing, for a context string: their texts are equal after Unicode NFKC
 * (full-width and compatibility forms fold to plain ones), lower-casing, dropping punctuation and collapsing
 * whitespace. So "User prefers async Python." and "user  prefers async python" are duplicates; the working
 * entry and the episode one remember writes always are. Anything that differs in a word is not: a fact's
 * triple ("user prefers async Python") is not a duplicate of the sentence it came from ("I prefer async
 * Python"), since it states it in the third person and outlives that sentence's recency.
 */
export function duplicateKey(text: string): string {
  const words = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  // Text of punctuation only: compare it as written (whitespace collapsed), not as the empty string.
  return words === '' ? text.replace(/\s+/g, ' ').trim() : words;
}
