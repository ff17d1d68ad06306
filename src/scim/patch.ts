import { matches, type Json } from './filter-eval.js';
import { parsePatchPath, type Filter, type PatchPath } from './filter-parser.js';
import { canonicalName, SCHEMAS, type NameBook } from './schema-names.js';
import { scimFail } from './scim-errors.js';

/**
 * Applies a SCIM PATCH (RFC 7644 §3.5.2) to a resource in its SCIM representation and returns the new
 * representation; the caller validates it like a PUT body and stores the difference. Written for what
 * Okta and Entra ID send as well as for the RFC:
 * - `op` in any case (`Replace`, `Add`, `remove`);
 * - no `path`, with an object `value` whose keys are attributes, dotted paths (`name.givenName`) or
 *   extension URIs (Entra), applied one by one;
 * - `path` forms `active`, `name.givenName`, `emails[type eq "work"].value`, `members`,
 *   `members[value eq "<id>"]`, `urn:…:enterprise:2.0:User:department`;
 * - remove on a multi-valued attribute with a `value` list removes those values (Entra's member removal).
 * Values are not type-checked here (booleans as strings "False" are the validator's business). Read-only
 * attributes (id, meta, schemas, a user's groups) in a value are ignored, as RFC 7644 §3.5.1 allows.
 */
export interface PatchOperation {
  op: string;
  path?: string | undefined;
  value?: unknown;
}

export const MAX_PATCH_OPERATIONS = 1000;
const READ_ONLY = new Set(['id', 'meta', 'schemas', 'groups']);

export function applyPatch(resource: Json, operations: PatchOperation[], names: NameBook): Json {
  const next = structuredClone(resource);
  for (const [i, operation] of operations.entries()) {
    const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw scimFail.invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    const path = operation.path;
    if (path === undefined || path === null || path === '') {
      if (op === 'remove') throw scimFail.noTarget(`Operations[${i}]: remove needs a path`);
      if (!isObject(operation.value))
        throw scimFail.invalidValue(`Operations[${i}]: without a path, value must be an object`);
      applyObject(next, op, operation.value, names);
    } else {
      if (typeof path !== 'string') throw scimFail.invalidPath(`Operations[${i}].path must be a string`);
      if (op !== 'remove' && operation.value === undefined)
        throw scimFail.invalidValue(`Operations[${i}]: ${op} needs a value`);
      applyAt(next, op, parsePatchPath(path), operation.value, names);
    }
  }
  return next;
}

function applyObject(resource: Json, op: 'add' | 'replace', value: Json, names: NameBook): void {
  for (const [key, v] of Object.entries(value)) {
    const extension = names.extensions.get(key.toLowerCase());
    if (extension !== undefined) {
      if (!isObject(v)) throw scimFail.invalidValue(`${key} must be an object`);
      const target = ensureObject(resource, extension);
      for (const [name, inner] of Object.entries(v)) setAttribute(target, op, name, inner, names);
    } else if (key.includes('.') || key.includes(':')) {
      applyAt(resource, op, parsePatchPath(key), v, names);
    } else {
      setAttribute(resource, op, key, v, names);
    }
  }
}

/** add/replace of one attribute of `target` (a resource or an extension object). */
function setAttribute(
  target: Json,
  op: 'add' | 'replace',
  name: string,
  value: unknown,
  names: NameBook,
): void {
  const key = canonicalName(names.top, name);
  if (READ_ONLY.has(key)) return;
  const current = target[key];
  const subNames = names.sub.get(key.toLowerCase());
  if (op === 'add' && Array.isArray(current)) {
    const existing = current as unknown[];
    const added: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
    const fresh = added.filter((v) => !existing.some((c) => sameValue(c, v)));
    target[key] = [...existing, ...fresh].map((v) => canonicalObject(v, subNames));
  } else if (isObject(current) && isObject(value) && !Array.isArray(value)) {
    target[key] = { ...current, ...(canonicalObject(value, subNames) as Json) };
  } else {
    target[key] = Array.isArray(value)
      ? value.map((v) => canonicalObject(v, subNames))
      : canonicalObject(value, subNames);
  }
}

function applyAt(resource: Json, op: string, path: PatchPath, value: unknown, names: NameBook): void {
  let container = resource;
  const uri = path.path.uri;
  if (uri !== null && uri !== SCHEMAS.user.toLowerCase() && uri !== SCHEMAS.group.toLowerCase()) {
    const extension = names.extensions.get(uri);
    if (extension === undefined) throw scimFail.invalidPath(`Unknown schema ${uri}`);
    container = ensureObject(resource, extension);
  }
  const key = canonicalName(names.top, path.path.attr);
  if (READ_ONLY.has(key)) throw scimFail.mutability(`${key} is read-only`);
  const subNames = names.sub.get(key.toLowerCase());
  if (path.filter !== null) {
    applyFiltered(
      container,
      op,
      key,
      path.filter,
      path.sub && canonicalName(subNames, path.sub),
      value,
      subNames,
    );
    return;
  }
  if (path.path.sub !== null) {
    const sub = canonicalName(subNames, path.path.sub);
    if (op === 'remove') {
      const parent = container[key];
      if (isObject(parent)) delete parent[sub];
      else if (Array.isArray(parent)) for (const el of parent) if (isObject(el)) delete el[sub];
      return;
    }
    const parent = container[key];
    if (Array.isArray(parent)) {
      for (const el of parent) if (isObject(el)) el[sub] = value;
    } else {
      ensureObject(container, key)[sub] = value;
    }
    return;
  }
  if (op === 'remove') {
    const current = container[key];
    if (value !== undefined && Array.isArray(current)) {
      const removed = Array.isArray(value) ? value : [value];
      container[key] = current.filter((c) => !removed.some((r) => sameValue(c, r)));
    } else {
      delete container[key];
    }
    return;
  }
  setAttribute(container, op as 'add' | 'replace', key, value, names);
}

/** `emails[type eq "work"]` and `emails[type eq "work"].value`, `members[value eq "x"]`. */
function applyFiltered(
  container: Json,
  op: string,
  key: string,
  filter: Filter,
  sub: string | null,
  value: unknown,
  subNames: ReadonlyMap<string, string> | undefined,
): void {
  const current = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
  const hit = (el: unknown): boolean => isObject(el) && matches(filter, el);
  if (op === 'remove') {
    container[key] =
      sub === null
        ? current.filter((el) => !hit(el))
        : current.map((el) => (hit(el) ? without(el as Json, sub) : el));
    return;
  }
  if (!current.some(hit)) {
    // Entra sets emails[type eq "work"].value on a user with no work email: the filter's equalities
    // describe the element to create.
    const seed = equalities(filter);
    if (seed === undefined) throw scimFail.noTarget(`No value of ${key} matches the filter`);
    const element = sub === null ? { ...seed, ...(isObject(value) ? value : {}) } : { ...seed, [sub]: value };
    container[key] = [...current, canonicalObject(element, subNames)];
    return;
  }
  container[key] = current.map((el) => {
    if (!hit(el)) return el;
    if (sub !== null) return { ...(el as Json), [sub]: value };
    return isObject(value) ? { ...(el as Json), ...(canonicalObject(value, subNames) as Json) } : el;
  });
}

/** The attribute = value pairs a filter of `eq`s joined by `and` requires, or undefined. */
function equalities(filter: Filter): Json | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.sub === null)
    return { [filter.path.attr]: filter.value };
  if (filter.kind === 'and') {
    const left = equalities(filter.left);
    const right = equalities(filter.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  return undefined;
}

function canonicalObject(value: unknown, names: ReadonlyMap<string, string> | undefined): unknown {
  if (!isObject(value) || names === undefined) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [canonicalName(names, k), v]));
}

/** Two values of a multi-valued attribute are the same when their `value`s are (or they are equal). */
function sameValue(a: unknown, b: unknown): boolean {
  const av = isObject(a) ? (a.value ?? a.Value) : a;
  const bv = isObject(b) ? (b.value ?? b.Value) : b;
  return av !== undefined && av === bv;
}

function without(el: Json, sub: string): Json {
  const copy = { ...el };
  delete copy[sub];
  return copy;
}

function ensureObject(target: Json, key: string): Json {
  const current = target[key];
  if (isObject(current)) return current;
  const created: Json = {};
  target[key] = created;
  return created;
}

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
