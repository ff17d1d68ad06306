/**
 * Fields a client sent that the route's body schema does not declare. They are accepted (the reference
 * server accepts them too) but not silently: the server names them in the `X-Mnemo-Ignored-Fields` response
 * header. Derived from the schema once at boot; a schema that keeps unknown fields on purpose
 * (`additionalProperties: true`, e.g. an engram's extra data) or is a free-form map reports nothing there.
 */
export const IGNORED_FIELDS_HEADER = 'X-Mnemo-Ignored-Fields';

/** At most this many names are listed (the header stays small whatever the body). */
const MAX_LISTED = 20;

interface ObjectSchema {
  type?: unknown;
  properties?: Record<string, ObjectSchema>;
  additionalProperties?: unknown;
  patternProperties?: unknown;
}

export type IgnoredFieldsFinder = (body: unknown) => string[];

/** The finder of a body schema, or undefined when the schema declares no closed object to check. */
export function ignoredFieldsFinder(schema: unknown): IgnoredFieldsFinder | undefined {
  if (!isClosedObject(schema)) return undefined;
  return (body) => {
    const found: string[] = [];
    collect(schema, body, '', found);
    return found;
  };
}

function isClosedObject(
  schema: unknown,
): schema is ObjectSchema & { properties: Record<string, ObjectSchema> } {
  const s = schema as ObjectSchema | undefined;
  return (
    typeof s === 'object' &&
    s !== null &&
    s.type === 'object' &&
    s.properties !== undefined &&
    s.additionalProperties !== true &&
    s.patternProperties === undefined
  );
}

function collect(schema: ObjectSchema, value: unknown, prefix: string, found: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isClosedObject(schema)) return;
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    if (found.length >= MAX_LISTED) return;
    const declared = schema.properties[name];
    if (declared === undefined) found.push(prefix + name);
    else collect(declared, field, `${prefix}${name}.`, found);
  }
}

/** The header value: names joined by ", ", each percent-encoded unless plain (a header carries Latin-1). */
export function ignoredFieldsHeader(names: string[]): string {
  return names.map((n) => (/^[A-Za-z0-9_.-]+$/.test(n) ? n : encodeURIComponent(n))).join(', ');
}
