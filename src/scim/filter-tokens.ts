import { scimFail } from './scim-errors.js';

/**
 * The tokenizer of SCIM filters and PATCH paths (RFC 7644 §3.4.2.2 and §3.5.2). Words are attribute paths,
 * operators and keywords alike (`userName`, `eq`, `and`, `urn:…:User:name.givenName`); which one a word is
 * depends on where it stands, so the parser decides. Strings are JSON strings (RFC 7159 escapes).
 */
export type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: '(' | ')' | '[' | ']'; at: number }
  | { kind: 'end'; at: number };

/** Longest filter accepted, in characters (a filter is evaluated against every resource of the tenant). */
export const FILTER_MAX_LENGTH = 2000;

const WORD = /[A-Za-z0-9_:.$-]/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export function tokenize(text: string): Token[] {
  if (text.length > FILTER_MAX_LENGTH)
    throw scimFail.invalidFilter(`The filter is longer than ${FILTER_MAX_LENGTH} characters`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c, at: i });
      i++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      let value: unknown;
      try {
        value = JSON.parse(text.slice(i, end));
      } catch {
        throw scimFail.invalidFilter(`Invalid string at position ${i + 1}`);
      }
      tokens.push({ kind: 'string', value: value as string, at: i });
      i = end;
    } else if (WORD.test(c)) {
      const start = i;
      while (i < text.length && WORD.test(text[i] as string)) i++;
      const word = text.slice(start, i);
      if (NUMBER.test(word)) tokens.push({ kind: 'number', value: Number(word), at: start });
      else tokens.push({ kind: 'word', text: word, at: start });
    } else {
      throw scimFail.invalidFilter(`Unexpected character ${JSON.stringify(c)} at position ${i + 1}`);
    }
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

/** Index just past the closing quote of the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  throw scimFail.invalidFilter(`Unterminated string at position ${start + 1}`);
}
