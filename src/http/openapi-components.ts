/**
 * Named schemas for the API documents: a schema object with a `title` (set where it is defined, e.g. in
 * src/http/routes/*\/shapes.ts) is moved into `components.schemas` under that title and referenced with
 * `$ref` wherever it occurs, so client generators produce named types instead of anonymous ones. Only the
 * schemas a document uses are listed in it.
 */
import type { TSchema } from '@sinclair/typebox';

export type JsonObject = Record<string, unknown>;

/** TypeBox keeps its metadata under symbols; JSON round-tripping drops them and yields plain JSON Schema. */
export const plainSchema = (schema: TSchema | undefined): JsonObject | undefined =>
  schema === undefined ? undefined : (JSON.parse(JSON.stringify(schema)) as JsonObject);

/** A component name: a PascalCase identifier, as generators turn it into a type name. */
const COMPONENT_NAME = /^[A-Z][A-Za-z0-9]*$/;

/** Replaces every titled schema inside `value` by a $ref and returns the components it collected. */
export function hoistNamedSchemas<T>(
  value: T,
  refBase = '#/components/schemas/',
): { value: T; schemas: Record<string, JsonObject> } {
  const schemas: Record<string, JsonObject> = {};
  const canonical = new Map<string, string>();
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== 'object' || node === null) return node;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(node)) out[key] = visit(child);
    const title = out.title;
    if (typeof title !== 'string' || !COMPONENT_NAME.test(title)) return out;
    const text = JSON.stringify(out);
    const seen = canonical.get(title);
    // Two different schemas under one name would make one of them wrong in every generated client.
    if (seen !== undefined && seen !== text)
      throw new Error(`two different schemas are both titled ${title}: give one another title`);
    canonical.set(title, text);
    schemas[title] = out;
    return { $ref: `${refBase}${title}` };
  };
  return { value: visit(value) as T, schemas };
}
