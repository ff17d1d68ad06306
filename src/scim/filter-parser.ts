import { scimFail } from './scim-errors.js';
import { tokenize, type Token } from './filter-tokens.js';

/**
 * A recursive-descent parser for SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2):
 *
 *   filter    = or
 *   or        = and *("or" and)
 *   and       = unary *("and" unary)
 *   unary     = "not" unary / "(" filter ")" / attrExp / valuePath
 *   attrExp   = attrPath "pr" / attrPath compareOp compValue
 *   valuePath = attrPath "[" filter "]"          (no nested brackets)
 *   compValue = string / number / "true" / "false" / "null"
 *   attrPath  = [URI ":"] ATTRNAME ["." subAttr]
 *
 * Precedence is not > and > or. Attribute names, operators and keywords are case-insensitive (names are
 * kept lower-cased); comparing a boolean or null with gt/ge/lt/le, or anything but a string with co/sw/ew,
 * is refused as the RFC says. Every refusal is a 400 `invalidFilter`.
 */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Scalar = string | number | boolean | null;

export interface AttrPath {
  /** Lower-cased schema URI, or null when the path names none. */
  uri: string | null;
  /** Lower-cased attribute name. */
  attr: string;
  /** Lower-cased sub-attribute name (name.givenName), or null. */
  sub: string | null;
}

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Scalar }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /** emails[type eq "work"]: the inner filter's paths are relative to each element. */
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

/** A PATCH target: `name.givenName`, `members`, `emails[type eq "work"].value`, `members[value eq "x"]`. */
export interface PatchPath {
  path: AttrPath;
  filter: Filter | null;
  /** The sub-attribute after a value filter (`.value` in `emails[type eq "work"].value`). */
  sub: string | null;
}

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ORDERING_OPS = new Set<string>(['gt', 'ge', 'lt', 'le']);
const SUBSTRING_OPS = new Set<string>(['co', 'sw', 'ew']);
const ATTR_NAME = /^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$/;
/** Deepest nesting of parentheses and `not`: the parser recurses once per level. */
const MAX_DEPTH = 32;

export function parseFilter(text: string): Filter {
  const parser = new Parser(tokenize(text), false);
  const filter = parser.filter();
  parser.expectEnd();
  return filter;
}

/** Parses a PATCH `path`; a malformed one is a 400 `invalidPath`. */
export function parsePatchPath(text: string): PatchPath {
  try {
    const parser = new Parser(tokenize(text), false);
    const path = parser.patchPath();
    parser.expectEnd();
    return path;
  } catch (err) {
    throw scimFail.invalidPath(`Invalid PATCH path "${text}": ${(err as Error).message}`);
  }
}

/** Parses one attribute path (`userName`, `name.givenName`, `urn:…:User:department`). */
export function parseAttrPath(word: string): AttrPath {
  const colon = word.lastIndexOf(':');
  let uri: string | null = null;
  let rest = word;
  if (colon >= 0) {
    uri = word.slice(0, colon).toLowerCase();
    rest = word.slice(colon + 1);
    if (!uri.startsWith('urn:')) throw scimFail.invalidFilter(`"${word}" is not an attribute path`);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p)))
    throw scimFail.invalidFilter(`"${word}" is not an attribute path`);
  return { uri, attr: (parts[0] as string).toLowerCase(), sub: parts[1]?.toLowerCase() ?? null };
}

class Parser {
  private at = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private inBrackets: boolean,
  ) {}

  filter(): Filter {
    if (++this.depth > MAX_DEPTH) throw scimFail.invalidFilter('The filter is nested too deeply');
    let left = this.and();
    while (this.keyword('or')) left = { kind: 'or', left, right: this.and() };
    this.depth--;
    return left;
  }

  patchPath(): PatchPath {
    const word = this.take();
    if (word.kind !== 'word') throw scimFail.invalidFilter('Expected an attribute path');
    const path = parseAttrPath(word.text);
    if (this.peek().kind !== '[') return { path, filter: null, sub: null };
    const filter = this.bracketed(path);
    let sub: string | null = null;
    const next = this.peek();
    if (next.kind === 'word' && next.text.startsWith('.')) {
      this.at++;
      const name = next.text.slice(1);
      if (!ATTR_NAME.test(name)) throw scimFail.invalidFilter(`"${name}" is not a sub-attribute`);
      sub = name.toLowerCase();
    }
    return { path, filter: filter.filter, sub };
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') throw scimFail.invalidFilter(`Unexpected ${describe(token)}`);
  }

  private and(): Filter {
    let left = this.unary();
    while (this.keyword('and')) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): Filter {
    const token = this.peek();
    if (token.kind === 'word' && token.text.toLowerCase() === 'not') {
      this.at++;
      if (++this.depth > MAX_DEPTH) throw scimFail.invalidFilter('The filter is nested too deeply');
      const filter: Filter = { kind: 'not', filter: this.unary() };
      this.depth--;
      return filter;
    }
    if (token.kind === '(') {
      this.at++;
      const inner = this.filter();
      if (this.take().kind !== ')') throw scimFail.invalidFilter('Missing ")"');
      return inner;
    }
    return this.attrExpression();
  }

  private attrExpression(): Filter {
    const word = this.take();
    if (word.kind !== 'word')
      throw scimFail.invalidFilter(`Expected an attribute path, found ${describe(word)}`);
    const path = parseAttrPath(word.text);
    if (this.peek().kind === '[') return this.bracketed(path);
    const op = this.take();
    if (op.kind !== 'word') throw scimFail.invalidFilter(`Expected an operator after ${word.text}`);
    const name = op.text.toLowerCase();
    if (name === 'pr') return { kind: 'present', path };
    if (!COMPARE_OPS.has(name)) throw scimFail.invalidFilter(`Unknown operator "${op.text}"`);
    const value = this.compValue();
    if (ORDERING_OPS.has(name) && (typeof value === 'boolean' || value === null))
      throw scimFail.invalidFilter(`${name} cannot compare with ${String(value)}`);
    if (SUBSTRING_OPS.has(name) && typeof value !== 'string')
      throw scimFail.invalidFilter(`${name} needs a string value`);
    return { kind: 'compare', path, op: name as CompareOp, value };
  }

  private bracketed(path: AttrPath): Filter & { kind: 'valuePath' } {
    if (this.inBrackets) throw scimFail.invalidFilter('Value filters cannot be nested');
    if (path.sub !== null)
      throw scimFail.invalidFilter('A value filter applies to an attribute, not a sub-attribute');
    this.at++; // "["
    this.inBrackets = true;
    const filter = this.filter();
    this.inBrackets = false;
    if (this.take().kind !== ']') throw scimFail.invalidFilter('Missing "]"');
    return { kind: 'valuePath', path, filter };
  }

  private compValue(): Scalar {
    const token = this.take();
    if (token.kind === 'string' || token.kind === 'number') return token.value;
    if (token.kind === 'word') {
      const word = token.text.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw scimFail.invalidFilter(`Expected a value, found ${describe(token)}`);
  }

  private keyword(name: string): boolean {
    const token = this.peek();
    if (token.kind === 'word' && token.text.toLowerCase() === name) {
      this.at++;
      return true;
    }
    return false;
  }

  private peek(): Token {
    return this.tokens[this.at] as Token;
  }

  private take(): Token {
    const token = this.tokens[this.at] as Token;
    if (token.kind !== 'end') this.at++;
    return token;
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the filter';
    case 'word':
      return `"${token.text}" at position ${token.at + 1}`;
    case 'string':
      return `a string at position ${token.at + 1}`;
    case 'number':
      return `a number at position ${token.at + 1}`;
    default:
      return `"${token.kind}" at position ${token.at + 1}`;
  }
}
