import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fastJson from 'fast-json-stringify';
import { MnemoError } from '../errors.js';
import { ignoredFieldsFinder, type IgnoredFieldsFinder } from './ignored-fields.js';
import type { AnyRoute } from './route.js';
import { ERROR_DETAIL, WARNINGS_FIELD } from './schemas.js';

/**
 * Compiles each route's schemas once at boot: ajv validators for params, querystring and body, and a
 * fast-json-stringify serializer per response status. Query strings and path parameters arrive as
 * strings, so their validator coerces types; bodies are validated exactly as sent.
 */
export interface CompiledRoute {
  route: AnyRoute;
  paramNames: string[];
  validateParams?: ValidateFunction;
  validateQuery?: ValidateFunction;
  validateBody?: ValidateFunction;
  /** Names of query parameters whose schema is an array (they may repeat: ?tag=a&tag=b). */
  arrayQueryParams: Set<string>;
  serializers: Map<number, (body: unknown) => string>;
  /** Names the body's undeclared fields (X-Mnemo-Ignored-Fields); absent when the body schema is open. */
  findIgnoredFields?: IgnoredFieldsFinder;
  /** Response statuses whose schema declares `warnings`, where ignored fields are also named in the body. */
  warnsIn: Set<number>;
}

// ajv-formats is CommonJS; under NodeNext its callable sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv }).default;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    strict: false,
  });
  addFormats(ajv);
  ajv.addKeyword({ keyword: ERROR_DETAIL, schemaType: 'string' });
  return ajv;
}

const bodyAjv = makeAjv(false);
const stringAjv = makeAjv(true);

export function paramNamesOf(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

export function compileRoute(route: AnyRoute): CompiledRoute {
  const { schema } = route;
  const serializers = new Map<number, (body: unknown) => string>();
  for (const [status, responseSchema] of Object.entries(schema.response as Record<string, TSchema>)) {
    serializers.set(Number(status), fastJson(responseSchema as object) as (body: unknown) => string);
  }
  const querySchema = schema.querystring as { properties?: Record<string, { type?: string }> } | undefined;
  const arrayQueryParams = new Set(
    Object.entries(querySchema?.properties ?? {})
      .filter(([, s]) => s.type === 'array')
      .map(([name]) => name),
  );
  const findIgnoredFields = ignoredFieldsFinder(schema.body);
  const warnsIn = new Set(
    Object.entries(schema.response as Record<string, { properties?: Record<string, unknown> }>)
      .filter(([, s]) => s.properties?.[WARNINGS_FIELD] !== undefined)
      .map(([status]) => Number(status)),
  );
  return {
    route,
    paramNames: paramNamesOf(route.path),
    ...(schema.params ? { validateParams: stringAjv.compile(schema.params) } : {}),
    ...(schema.querystring ? { validateQuery: stringAjv.compile(schema.querystring) } : {}),
    ...(schema.body ? { validateBody: bodyAjv.compile(schema.body) } : {}),
    arrayQueryParams,
    serializers,
    ...(findIgnoredFields ? { findIgnoredFields } : {}),
    warnsIn,
  };
}

/** Validates (and, for strings, coerces) `value` in place; throws a 400 whose detail names the field. */
export function validate(
  fn: ValidateFunction | undefined,
  value: unknown,
  part: 'body' | 'query' | 'path',
): void {
  if (!fn || fn(value)) return;
  const error = fn.errors?.[0];
  throw new MnemoError('validation', declaredDetail(fn.schema, error) ?? describeError(error, part));
}

/**
 * The detail a schema declares for any failure inside it (`ERROR_DETAIL`), the innermost one on the failing
 * keyword's path winning: one message for a field however its value is wrong.
 */
function declaredDetail(root: unknown, error: ErrorObject | undefined): string | undefined {
  if (!error) return undefined;
  let node = root;
  let detail: string | undefined;
  for (const segment of error.schemaPath.replace(/^#\/?/, '').split('/')) {
    if (typeof node !== 'object' || node === null) break;
    const declared = (node as Record<string, unknown>)[ERROR_DETAIL];
    if (typeof declared === 'string') detail = declared;
    node = (node as Record<string, unknown>)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return detail;
}

function describeError(error: ErrorObject | undefined, part: string): string {
  if (!error) return `Invalid ${part}`;
  const field = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const where = field ? `${part}.${field}` : part;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${where === part ? part : where}.${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${where}.${String(params.additionalProperty)} is not allowed`;
    case 'enum':
      return `${where} must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'type':
      return `${where} must be ${String(params.type)}`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}

/** A validator for a JSON value (a tool's input, say) with the body rules: exact types, defaults filled in. */
export function compileJsonSchema(schema: TSchema): ValidateFunction {
  return bodyAjv.compile(schema);
}
