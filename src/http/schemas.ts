import { Type, type Static, type TSchema, type SchemaOptions } from '@sinclair/typebox';

/**
 * Schema helpers shared by every route file. Enums are plain JSON Schema `enum`s (clear ajv messages,
 * clean OpenAPI); nullable values use a type array, which ajv, fast-json-stringify and OpenAPI 3.1 share.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export function Nullable<T extends TSchema>(schema: T) {
  // A nullable copy is another schema: it must not claim the component name (`title`) of the original.
  const { title: _named, ...base } = schema as TSchema & { type?: string | string[]; enum?: unknown[] };
  const types = Array.isArray(base.type) ? base.type : base.type ? [base.type] : [];
  return Type.Unsafe<Static<T> | null>({
    ...base,
    ...(types.length > 0 ? { type: [...types, 'null'] } : {}),
    ...(base.enum ? { enum: [...base.enum, null] } : {}),
  });
}

/**
 * Schema keyword: the error detail for any validation failure of this value or inside it (wrong type,
 * unknown enum value, bad item, too few or too many items ...), instead of ajv's message for the keyword
 * that failed. For fields whose clients expect one documented message. An `x-` name, so the OpenAPI
 * document may carry it as an extension.
 */
export const ERROR_DETAIL = 'x-error-detail';

/** An ISO 8601 timestamp string. */
export const Timestamp = (options: SchemaOptions = {}) => Type.String({ format: 'date-time', ...options });

/** The layer API's error body, for OpenAPI. */
export const LayerError = Type.Object(
  { detail: Type.String(), status: Type.Integer() },
  { title: 'LayerError' },
);

/** RFC 7807 problem document, for OpenAPI. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
  },
  { title: 'Problem', description: 'RFC 7807 problem document' },
);

/** Name of the optional response field that repeats X-Mnemo-Ignored-Fields in the body (see server.ts). */
export const WARNINGS_FIELD = 'warnings';

/**
 * `warnings`: declared by a response envelope that has room for it (never inside a result a strict client
 * validates field by field). Present only when the request had fields the route ignored.
 */
export const Warnings = () =>
  Type.Optional(
    Type.Array(Type.String(), {
      description:
        'Present only when the request carried fields this route does not use: one sentence per field (also in X-Mnemo-Ignored-Fields).',
    }),
  );

/** SCIM's media type (RFC 7644 §3.1); requests may also say application/json. */
export const SCIM_MEDIA_TYPE = 'application/scim+json';

/** The SCIM error body (RFC 7644 §3.12), for OpenAPI: `status` is a string there. */
export const ScimErrorBody = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    status: Type.String(),
    scimType: Type.Optional(Type.String()),
    detail: Type.String(),
  },
  { title: 'ScimError', description: 'RFC 7644 §3.12 error' },
);
