import { Type, type TOptional, type TSchema } from '@sinclair/typebox';
import {
  COMMITMENTS,
  ENGRAM_ID_PATTERN,
  ENGRAM_STATUSES,
  ENGRAM_TYPES,
} from '../../../memory/engrams/model.js';
import { SCOPE_MAX_LENGTH } from '../../../memory/engrams/scopes.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';

/**
 * Schemas shared by the engram API's routes (wire shapes of plur.md §1.3). The engram object is open:
 * request bodies accept fields beyond the model and `data` returns them (additionalProperties), while every
 * known field is declared, validated and documented.
 */
export const EngramId = Type.String({
  pattern: ENGRAM_ID_PATTERN,
  maxLength: 128,
  description: 'Engram id, canonically ENG-YYYY-MM-DD-NNN',
});
export const EngramIdParams = Type.Object({ id: EngramId });

export const ScopeName = Type.String({
  minLength: 1,
  maxLength: SCOPE_MAX_LENGTH,
  description:
    'global, org:<org>, user:<org>:<name>, group:<org>/<team>[/<sub>], project:<org>/<path>; group:<team> and project:<name> name your organisation',
});

const DATE_OR_TIME = '^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d(:\\d\\d(\\.\\d{1,9})?)?(Z|[+-]\\d\\d:\\d\\d)?)?$';
const ValidityBound = (description: string) =>
  Nullable(Type.String({ pattern: DATE_OR_TIME, description: `${description} (YYYY-MM-DD or ISO 8601)` }));
export const NoControl = '^[^\\u0000-\\u001f\\u007f]+$';
const Text = (max: number, description?: string) =>
  Nullable(Type.String({ maxLength: max, ...(description ? { description } : {}) }));

/** The fields of the model a client sets (create and patch alike). */
export const EngramFieldSchemas = {
  statement: Type.String({
    minLength: 1,
    maxLength: 5000,
    description: 'The engram itself (1-5000 characters).',
  }),
  type: StringEnum(ENGRAM_TYPES, { description: 'Default behavioral.' }),
  scope: ScopeName,
  domain: Nullable(
    Type.String({
      maxLength: 200,
      pattern: '^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$',
      description: 'Dotted or slashed path, e.g. software.deployment',
    }),
  ),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: NoControl }), { maxItems: 50 }),
  rationale: Text(5000),
  pinned: Type.Boolean({ description: 'Admins of the scope only.' }),
  commitment: StringEnum(COMMITMENTS, { description: 'Default leaning.' }),
  locked_reason: Text(1000),
  valid_from: ValidityBound('Not injected before'),
  valid_until: ValidityBound('Not injected after'),
  supersedes: Type.Array(EngramId, { maxItems: 50 }),
  source: Text(1000),
  session_id: Nullable(Type.String({ minLength: 1, maxLength: 128 })),
};

const optional = <T extends Record<string, TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof T]: TOptional<T[K]>;
  };

const { statement, ...rest } = EngramFieldSchemas;

export const CreateEngramBody = Type.Object(
  {
    statement,
    ...optional(rest),
    id: Type.Optional(EngramId),
  },
  { additionalProperties: true, description: 'Fields beyond the model are kept and returned in data.' },
);

export const PatchEngramBody = Type.Object(
  {
    ...optional(EngramFieldSchemas),
    id: Type.Optional(EngramId),
    status: Type.Optional(StringEnum(ENGRAM_STATUSES)),
  },
  {
    additionalProperties: true,
    minProperties: 1,
    description: 'Any subset of the model; an unknown field set to null is removed.',
  },
);

const Counts = Type.Object({ positive: Type.Integer(), negative: Type.Integer(), neutral: Type.Integer() });

/** The engram model as returned (`data`). */
export const EngramData = Type.Object(
  {
    id: Type.String(),
    statement: Type.String(),
    type: Type.String(),
    scope: Type.String(),
    status: Type.String(),
    domain: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    rationale: Nullable(Type.String()),
    pinned: Type.Boolean(),
    commitment: Type.String(),
    locked_reason: Nullable(Type.String()),
    valid_from: Nullable(Type.String()),
    valid_until: Nullable(Type.String()),
    supersedes: Type.Array(Type.String()),
    source: Nullable(Type.String()),
    session_id: Nullable(Type.String()),
    content_hash: Type.String(),
    write_count: Type.Integer(),
    retrieval_strength: Type.Number(),
    feedback_signals: Counts,
    activation: Type.Object({
      retrieval_strength: Type.Number(),
      storage_strength: Type.Number(),
      frequency: Type.Integer(),
      last_accessed: Nullable(Type.String()),
    }),
    injection_count: Type.Integer(),
    engram_version: Type.Integer(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { title: 'Engram', additionalProperties: true },
);

const rowFields = {
  id: Type.String(),
  scope: Type.String(),
  status: StringEnum(ENGRAM_STATUSES),
  data: EngramData,
};

/** A row of the REST contract: {id, scope, status, data, created_at, updated_at}. */
export const EngramRow = Type.Object(
  { ...rowFields, created_at: Timestamp(), updated_at: Timestamp() },
  { title: 'EngramRow' },
);

/** What POST /engrams answers: {id, scope, status, data}. */
export const CreatedEngram = Type.Object(rowFields, { title: 'CreatedEngram' });

export const EngramEnvelope = Type.Object({ engram: EngramRow }, { title: 'EngramEnvelope' });

/** Lists of the admin side: {rows, total_count}, like GET /engrams. */
export const RowsOf = <T extends TSchema>(row: T) =>
  Type.Object({ rows: Type.Array(row), total_count: Type.Integer() });
