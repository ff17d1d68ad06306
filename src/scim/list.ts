import { matches, type Json } from './filter-eval.js';
import { parseAttrPath, parseFilter } from './filter-parser.js';
import { SCHEMAS } from './schema-names.js';
import { scimFail } from './scim-errors.js';

/**
 * List queries (RFC 7644 §3.4.2): filter, 1-based startIndex, count (0 = totals only, capped at
 * MAX_RESULTS, which ServiceProviderConfig announces), and attribute projection (§3.4.2.5). Lists are
 * filtered in memory over the organisation's resources: identity lists are small next to memory.
 */
export const MAX_RESULTS = 200;

export interface ListQuery {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

export interface Page {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: Json[];
}

export function listPage(resources: Json[], query: ListQuery): Page {
  const filter = query.filter !== undefined && query.filter.trim() !== '' ? parseFilter(query.filter) : null;
  const selected = filter ? resources.filter((r) => matches(filter, r)) : resources;
  const startIndex = Math.max(1, Math.floor(query.startIndex ?? 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, Math.floor(query.count ?? MAX_RESULTS)));
  const page = selected.slice(startIndex - 1, startIndex - 1 + count);
  return {
    totalResults: selected.length,
    startIndex,
    itemsPerPage: page.length,
    Resources: page.map((r) => project(r, query)),
  };
}

export const listResponse = (page: Page): Json => ({ schemas: [SCHEMAS.listResponse], ...page });

/** The resource with only the requested attributes (id, schemas and meta.resourceType always stay). */
export function project(resource: Json, query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>): Json {
  const wanted = paths(query.attributes);
  const excluded = paths(query.excludedAttributes);
  let out: Json = resource;
  if (wanted.length > 0) {
    out = { schemas: resource.schemas, id: resource.id };
    for (const path of wanted) copyPath(resource, out, path);
  }
  if (excluded.length > 0) {
    out = structuredClone(out);
    for (const path of excluded) removePath(out, path);
  }
  return out;
}

interface Path {
  container: string | null;
  attr: string;
  sub: string | null;
}

function paths(list: string | undefined): Path[] {
  if (list === undefined || list.trim() === '') return [];
  return list.split(',').map((raw) => {
    const text = raw.trim();
    const lower = text.toLowerCase();
    if (lower === SCHEMAS.enterpriseUser.toLowerCase())
      return { container: null, attr: SCHEMAS.enterpriseUser, sub: null };
    try {
      const path = parseAttrPath(text);
      const core = path.uri === null || path.uri.startsWith('urn:ietf:params:scim:schemas:core:');
      return { container: core ? null : path.uri, attr: path.attr, sub: path.sub };
    } catch {
      throw scimFail.invalidValue(`"${text}" is not an attribute path`);
    }
  });
}

function locate(node: Json, container: string | null): { key: string; value: Json } | undefined {
  if (container === null) return { key: '', value: node };
  const key = Object.keys(node).find((k) => k.toLowerCase() === container);
  const value = key === undefined ? undefined : node[key];
  return key !== undefined && typeof value === 'object' && value !== null
    ? { key, value: value as Json }
    : undefined;
}

function copyPath(from: Json, to: Json, path: Path): void {
  const source = locate(from, path.container);
  if (!source) return;
  let target = to;
  if (path.container !== null) {
    target = (to[source.key] as Json | undefined) ?? {};
    to[source.key] = target;
  }
  const key = Object.keys(source.value).find((k) => k.toLowerCase() === path.attr.toLowerCase());
  if (key === undefined) return;
  const value = source.value[key];
  if (path.sub === null) {
    target[key] = value;
    return;
  }
  const sub = path.sub;
  const subKeyOf = (v: unknown): string | undefined =>
    typeof v === 'object' && v !== null ? Object.keys(v).find((k) => k.toLowerCase() === sub) : undefined;
  const pick = (v: unknown): unknown => {
    const subKey = subKeyOf(v);
    return subKey === undefined ? undefined : { ...(target[key] ?? {}), [subKey]: (v as Json)[subKey] };
  };
  if (Array.isArray(value)) {
    target[key] = (value as unknown[]).map((v) => {
      const subKey = subKeyOf(v);
      return subKey === undefined ? {} : { [subKey]: (v as Json)[subKey] };
    });
  } else {
    const picked = pick(value);
    if (picked !== undefined) target[key] = picked;
  }
}

function removePath(node: Json, path: Path): void {
  const source = locate(node, path.container);
  if (!source) return;
  const key = Object.keys(source.value).find((k) => k.toLowerCase() === path.attr.toLowerCase());
  if (key === undefined || key === 'id' || key === 'schemas') return;
  if (path.sub === null) {
    delete source.value[key];
    return;
  }
  const sub = path.sub;
  const strip = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    for (const k of Object.keys(v)) if (k.toLowerCase() === sub) delete (v as Json)[k];
  };
  const value = source.value[key];
  if (Array.isArray(value)) value.forEach(strip);
  else strip(value);
}
