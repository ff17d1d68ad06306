import type { AttrPath, Filter, Scalar } from './filter-parser.js';

/**
 * Evaluates a parsed SCIM filter against one resource in its SCIM representation (RFC 7644 §3.4.2.2).
 * Attribute names match case-insensitively; string comparisons ignore case except for the attributes whose
 * `caseExact` is true in RFC 7643 (`id`, `externalId`, `meta.version`, a group's `members.value`). A
 * multi-valued attribute matches when any of its values does; a complex value compared without a
 * sub-attribute is compared by its `value`. Paths naming the resource's own core schema URI are the same as
 * paths naming none; an extension URI reads that extension's object.
 */
export type Json = Record<string, unknown>;

const CORE_SCHEMAS = new Set([
  'urn:ietf:params:scim:schemas:core:2.0:user',
  'urn:ietf:params:scim:schemas:core:2.0:group',
]);

export function matches(filter: Filter, resource: Json): boolean {
  return evaluate(filter, resource, null);
}

function evaluate(filter: Filter, node: Json, parent: string | null): boolean {
  switch (filter.kind) {
    case 'and':
      return evaluate(filter.left, node, parent) && evaluate(filter.right, node, parent);
    case 'or':
      return evaluate(filter.left, node, parent) || evaluate(filter.right, node, parent);
    case 'not':
      return !evaluate(filter.filter, node, parent);
    case 'present':
      return valuesAt(node, filter.path).some(isPresent);
    case 'valuePath': {
      const elements = valuesAt(node, filter.path);
      return elements.some(
        (element) => isObject(element) && evaluate(filter.filter, element, filter.path.attr),
      );
    }
    case 'compare': {
      const values = valuesAt(node, filter.path).map((v) => (isObject(v) ? v.value : v));
      const exact = isCaseExact(parent, filter.path);
      const expected = filter.value;
      if (expected === null) {
        const present = values.some(isPresent);
        return filter.op === 'eq' ? !present : filter.op === 'ne' ? present : false;
      }
      if (filter.op === 'ne') return !values.some((v) => compare('eq', v, expected, exact));
      return values.some((v) => compare(filter.op, v, expected, exact));
    }
  }
}

/** Every value at `path` under `node`, arrays flattened (one level: SCIM has no arrays of arrays). */
export function valuesAt(node: Json, path: AttrPath): unknown[] {
  let base: unknown = node;
  if (path.uri !== null && !CORE_SCHEMAS.has(path.uri)) base = getIgnoringCase(node, path.uri);
  const top = flatten(isObject(base) ? getIgnoringCase(base, path.attr) : undefined);
  if (path.sub === null) return top;
  const sub = path.sub;
  return top.flatMap((v) => (isObject(v) ? flatten(getIgnoringCase(v, sub)) : []));
}

export function getIgnoringCase(node: Json, name: string): unknown {
  if (name in node) return node[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(node)) if (key.toLowerCase() === lower) return node[key];
  return undefined;
}

function flatten(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.length > 0;
  if (isObject(value)) return Object.values(value).some(isPresent);
  return true;
}

function isCaseExact(parent: string | null, path: AttrPath): boolean {
  if (path.sub === null && parent === null) return path.attr === 'id' || path.attr === 'externalid';
  if (parent === 'members' && path.attr === 'value') return true;
  return path.attr === 'meta' && path.sub === 'version';
}

function compare(op: string, actual: unknown, expected: Exclude<Scalar, null>, exact: boolean): boolean {
  if (typeof expected === 'boolean') return op === 'eq' && actual === expected;
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return false;
    return ordered(op, actual - expected);
  }
  if (typeof actual !== 'string') return false;
  const a = exact ? actual : actual.toLowerCase();
  const e = exact ? expected : expected.toLowerCase();
  switch (op) {
    case 'eq':
      return a === e;
    case 'co':
      return a.includes(e);
    case 'sw':
      return a.startsWith(e);
    case 'ew':
      return a.endsWith(e);
    default:
      return ordered(op, a < e ? -1 : a > e ? 1 : 0);
  }
}

function ordered(op: string, difference: number): boolean {
  switch (op) {
    case 'eq':
      return difference === 0;
    case 'gt':
      return difference > 0;
    case 'ge':
      return difference >= 0;
    case 'lt':
      return difference < 0;
    case 'le':
      return difference <= 0;
    default:
      return false;
  }
}
