import { isUtf8 } from 'node:buffer';

/**
 * The one door every JSON document from a client passes (HTTP bodies of both faces, WebSocket client
 * frames). Input is refused, never normalised:
 * - bytes that are not valid UTF-8 (a lenient decoder would silently store U+FFFD instead);
 * - a string or field name holding a lone UTF-16 surrogate (`"\ud83d"`): JSON.stringify writes it back as
 *   that escape, which Lua's cjson rejects half-way through a write script;
 * - nesting deeper than MAX_JSON_DEPTH: cjson refuses documents over 1,000 levels, and JSON.stringify
 *   overflows its stack a few thousand levels down.
 * One bounded walk checks the last two, so a refused document costs no more than an accepted one.
 */
export const MAX_JSON_DEPTH = 32;

export const NOT_JSON = 'is not valid JSON';

/** Why a document was refused; `path` names the field (`metadata.note`), '' for the document itself. */
export interface JsonInputProblem {
  path: string;
  message: string;
}

export type JsonInputResult = { ok: true; value: unknown } | { ok: false; problem: JsonInputProblem };

interface Found {
  kind: 'surrogate' | 'surrogate_key' | 'depth';
  /** Path segments, innermost first (collected while the walk unwinds). */
  segments: string[];
}

/** Parses `raw` as JSON under the rules above; `undefined` value for an empty document. */
export function parseJsonInput(raw: Uint8Array): JsonInputResult {
  if (raw.length === 0) return { ok: true, value: undefined };
  if (!isUtf8(raw)) return refused('', 'is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    return refused('', NOT_JSON);
  }
  const found = findIllFormed(value, 1);
  if (!found) return { ok: true, value };
  const path = found.segments.reverse().join('.');
  switch (found.kind) {
    case 'surrogate':
      return refused(path, 'contains a lone UTF-16 surrogate (ill-formed Unicode)');
    case 'surrogate_key':
      return refused(path, 'has a field name with a lone UTF-16 surrogate (ill-formed Unicode)');
    case 'depth':
      return refused(path, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/**
 * The first ill-formed string, field name or too-deep container, depth-first. Recursion is bounded by
 * MAX_JSON_DEPTH, so a hostile document cannot overflow the stack here.
 */
function findIllFormed(value: unknown, depth: number): Found | undefined {
  if (typeof value === 'string') {
    return value.isWellFormed() ? undefined : { kind: 'surrogate', segments: [] };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_JSON_DEPTH) return { kind: 'depth', segments: [] };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findIllFormed(value[i], depth + 1);
      if (found) {
        found.segments.push(String(i));
        return found;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!key.isWellFormed()) return { kind: 'surrogate_key', segments: [] };
    const found = findIllFormed((value as Record<string, unknown>)[key], depth + 1);
    if (found) {
      found.segments.push(key);
      return found;
    }
  }
  return undefined;
}

function refused(path: string, message: string): JsonInputResult {
  return { ok: false, problem: { path, message } };
}
