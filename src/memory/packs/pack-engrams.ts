import { fail } from '../../errors.js';
import { checkValidity } from '../engrams/engram-input.js';
import { COMMITMENTS, ENGRAM_TYPES, type Commitment, type EngramType } from '../engrams/model.js';
import { findSecret } from '../engrams/secrets.js';

/**
 * One engram of a pack, checked with the limits of POST /api/v1/engrams (statement 1-5000 characters,
 * domain a dotted path, at most 50 tags ...). Only content travels in a pack: relations (supersedes,
 * associations), anchors, ids and counters are not installed. The pack's own id of an engram, if it has
 * one, is kept as provenance.
 */
export interface PackEngram {
  statement: string;
  type: EngramType;
  domain: string | null;
  tags: string[];
  rationale: string | null;
  commitment: Commitment;
  source: string | null;
  valid_from: string | null;
  valid_until: string | null;
  /** The id the engram had in the pack (provenance only). */
  pack_id: string | null;
}

const DOMAIN = /^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function validPackEngram(value: unknown, index: number): PackEngram {
  const where = `Engram #${index + 1} of the pack`;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw fail.validation(`${where} must be a mapping`);
  const raw = value as Record<string, unknown>;
  const text = (field: string, max: number, required = false): string | null => {
    const v = raw[field];
    if (v === undefined || v === null) {
      if (required) throw fail.validation(`${where}: ${field} is required`);
      return null;
    }
    if (typeof v !== 'string' || (required && v.length === 0) || v.length > max)
      throw fail.validation(
        `${where}: ${field} must be a string of ${required ? '1-' : 'at most '}${max} characters`,
      );
    return v;
  };
  const statement = text('statement', 5000, true) as string;
  const type = raw.type ?? 'behavioral';
  if (!ENGRAM_TYPES.includes(type as EngramType))
    throw fail.validation(`${where}: type must be one of ${ENGRAM_TYPES.join(', ')}`);
  const commitment = raw.commitment ?? 'leaning';
  if (!COMMITMENTS.includes(commitment as Commitment))
    throw fail.validation(`${where}: commitment must be one of ${COMMITMENTS.join(', ')}`);
  const domain = text('domain', 200);
  if (domain !== null && !DOMAIN.test(domain))
    throw fail.validation(`${where}: domain must be a dotted or slashed path such as software.deployment`);
  const tags = raw.tags ?? [];
  if (
    !Array.isArray(tags) ||
    tags.length > 50 ||
    tags.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 64 || CONTROL.test(t))
  )
    throw fail.validation(`${where}: tags must be a list of at most 50 strings of 1-64 characters`);
  const dates = (field: string): string | null => {
    const v = raw[field];
    if (v instanceof Date) return v.toISOString();
    return text(field, 40);
  };
  const engram: PackEngram = {
    statement,
    type: type as EngramType,
    domain,
    tags: [...new Set(tags as string[])],
    rationale: text('rationale', 5000),
    commitment: commitment as Commitment,
    source: text('source', 1000),
    valid_from: dates('valid_from'),
    valid_until: dates('valid_until'),
    pack_id: typeof raw.id === 'string' || typeof raw.id === 'number' ? String(raw.id).slice(0, 128) : null,
  };
  try {
    checkValidity(engram.valid_from, engram.valid_until);
  } catch (err) {
    throw fail.validation(`${where}: ${(err as Error).message}`);
  }
  return engram;
}

/** The secret scan of POST /api/v1/engrams over every text of the engram: what kind of secret, if any. */
export const secretIn = (engram: PackEngram): string | undefined =>
  findSecret([engram.statement, engram.rationale, engram.source, engram.domain, ...engram.tags]);

/** How the engram is named in an error (never by its text, which may hold the secret). */
export const engramLabel = (engram: PackEngram, index: number): string =>
  engram.pack_id === null ? `#${index + 1}` : `#${index + 1} (id ${engram.pack_id})`;
