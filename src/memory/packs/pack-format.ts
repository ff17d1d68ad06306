import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { fail } from '../../errors.js';
import { validPackEngram, type PackEngram } from './pack-engrams.js';

/**
 * The pack format (plur.md §1.9). Two layouts are read, at the archive's root or under one top folder:
 * - SKILL.md (YAML front matter: name, version, description, creator, license, tags, metadata{id,
 *   injection_policy, match_terms, domain, engram_count}) + engrams.yaml (`engrams:` list) + optional
 *   INTEGRITY (`sha256:<hex>` of SHA-256(bytes(SKILL.md) ‖ bytes(engrams.yaml))).
 * - manifest.yaml (name, version, description, author, license, tags, target_scope, integrity, and
 *   `engrams: ./engrams/*.yaml`, one engram per file). Its integrity covers the engram files' bytes in
 *   path order (the manifest cannot hash itself).
 * Export writes the first layout.
 */
export const PACK_MAX_ENGRAMS = 10_000;
export const PACK_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
const NAME = new RegExp(PACK_NAME_PATTERN);
const INTEGRITY = /^sha256:[0-9a-f]{64}$/;
export const INJECTION_POLICIES = ['on_match', 'on_request', 'always'] as const;

export interface PackManifest {
  name: string;
  version: string;
  description: string | null;
  creator: string | null;
  license: string | null;
  tags: string[];
  injection_policy: (typeof INJECTION_POLICIES)[number];
  match_terms: string[];
  domain: string | null;
  target_scope: string | null;
}

export interface ParsedPack {
  layout: 'skill' | 'manifest';
  manifest: PackManifest;
  engrams: PackEngram[];
  /** Recomputed from the bytes. */
  integrity: string;
  /** What the archive declares (INTEGRITY file or manifest `integrity`), if anything. */
  declaredIntegrity: string | null;
}

export const sha256Integrity = (...parts: Buffer[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return `sha256:${hash.digest('hex')}`;
};

export function checkIntegrityText(text: string, where: string): string {
  const value = text.trim();
  if (!INTEGRITY.test(value)) throw fail.validation(`${where} must be sha256:<64 lower-case hex digits>`);
  return value;
}

/** Reads a pack from the archive's files (path -> bytes); 400 naming the problem. */
export function parsePack(files: Map<string, Buffer>): ParsedPack {
  const root = withoutTopFolder(files);
  const skill = root.get('SKILL.md');
  if (skill) return parseSkillLayout(skill, root);
  const manifest = root.get('manifest.yaml') ?? root.get('manifest.yml');
  if (manifest) return parseManifestLayout(manifest, root);
  throw fail.validation(
    'Unknown pack layout: expected SKILL.md with engrams.yaml, or manifest.yaml, at the root or under one folder',
  );
}

/** Files at the root, or under the single top folder that holds every file. */
function withoutTopFolder(files: Map<string, Buffer>): Map<string, Buffer> {
  const kept = [...files].filter(
    ([path]) => !path.split('/').some((p) => p.startsWith('._') || p === '__MACOSX'),
  );
  const tops = new Set(kept.map(([path]) => (path.includes('/') ? path.split('/')[0] : '')));
  if (tops.size !== 1 || tops.has('')) return new Map(kept);
  const top = [...tops][0] as string;
  return new Map(kept.map(([path, data]) => [path.slice(top.length + 1), data]));
}

function parseSkillLayout(skill: Buffer, root: Map<string, Buffer>): ParsedPack {
  const engramsFile = root.get('engrams.yaml') ?? root.get('engrams.yml');
  if (!engramsFile) throw fail.validation('The pack has SKILL.md but no engrams.yaml');
  const match = /^---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(skill.toString('utf8'));
  if (!match) throw fail.validation('SKILL.md must start with YAML front matter between --- lines');
  const front = objectOf(yamlOf(match[1] as string, 'SKILL.md front matter'), 'SKILL.md front matter');
  const metadata = front.metadata === undefined ? {} : objectOf(front.metadata, 'SKILL.md metadata');
  const manifest = manifestOf(front, metadata, front.creator, null);
  const list = objectOf(yamlOf(engramsFile.toString('utf8'), 'engrams.yaml'), 'engrams.yaml').engrams;
  if (!Array.isArray(list)) throw fail.validation('engrams.yaml must hold a top-level engrams: list');
  const engrams = engramsOf(list);
  if (metadata.engram_count !== undefined && metadata.engram_count !== engrams.length)
    throw fail.validation(
      `SKILL.md metadata.engram_count is ${JSON.stringify(metadata.engram_count)} but engrams.yaml holds ${engrams.length}`,
    );
  const integrityFile = root.get('INTEGRITY');
  return {
    layout: 'skill',
    manifest,
    engrams,
    integrity: sha256Integrity(skill, engramsFile),
    declaredIntegrity: integrityFile ? checkIntegrityText(integrityFile.toString('utf8'), 'INTEGRITY') : null,
  };
}

function parseManifestLayout(file: Buffer, root: Map<string, Buffer>): ParsedPack {
  const doc = objectOf(yamlOf(file.toString('utf8'), 'manifest.yaml'), 'manifest.yaml');
  const targetScope = optionalString(doc.target_scope, 'manifest.yaml target_scope', 300);
  const manifest = manifestOf(doc, doc, doc.author ?? doc.creator, targetScope);
  const paths = engramPaths(doc.engrams, root);
  const list: unknown[] = [];
  for (const path of paths) {
    const value = yamlOf((root.get(path) as Buffer).toString('utf8'), path);
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'engrams' in value) {
      const inner: unknown = value.engrams;
      if (!Array.isArray(inner)) throw fail.validation(`${path}: engrams must be a list`);
      list.push(...(inner as unknown[]));
    } else list.push(value);
    if (list.length > PACK_MAX_ENGRAMS) tooMany();
  }
  return {
    layout: 'manifest',
    manifest,
    engrams: engramsOf(list),
    integrity: sha256Integrity(...paths.map((p) => root.get(p) as Buffer)),
    declaredIntegrity:
      doc.integrity === undefined || doc.integrity === null
        ? null
        : checkIntegrityText(
            typeof doc.integrity === 'string' ? doc.integrity : '',
            'manifest.yaml integrity',
          ),
  };
}

/** `engrams: ./engrams/*.yaml` (one folder and a `*<suffix>` pattern) or an explicit list of paths. */
function engramPaths(spec: unknown, root: Map<string, Buffer>): string[] {
  const patterns = Array.isArray(spec) ? spec : [spec];
  const out = new Set<string>();
  for (const raw of patterns) {
    if (typeof raw !== 'string' || raw.trim() === '')
      throw fail.validation('manifest.yaml engrams must be a path pattern such as ./engrams/*.yaml');
    const pattern = raw.trim().replace(/^\.\//, '');
    const star = pattern.indexOf('*');
    if (star < 0) {
      if (!root.has(pattern))
        throw fail.validation(`manifest.yaml names ${pattern}, which the archive lacks`);
      out.add(pattern);
      continue;
    }
    const before = pattern.slice(0, star);
    const after = pattern.slice(star + 1);
    if (after.includes('*') || after.includes('/') || (before !== '' && !before.endsWith('/')))
      throw fail.validation('manifest.yaml engrams supports one folder and one * (./engrams/*.yaml)');
    for (const path of root.keys())
      if (path.startsWith(before) && path.endsWith(after) && !path.slice(before.length).includes('/'))
        out.add(path);
  }
  if (out.size === 0) throw fail.validation('manifest.yaml engrams matches no file of the archive');
  return [...out].sort();
}

function manifestOf(
  doc: Record<string, unknown>,
  metadata: Record<string, unknown>,
  creator: unknown,
  targetScope: string | null,
): PackManifest {
  const name = doc.name;
  if (typeof name !== 'string' || !NAME.test(name))
    throw fail.validation(
      'The manifest name must be 1-100 characters of letters, digits, . _ -, starting with a letter or digit',
    );
  const version = doc.version === undefined ? '0.0.0' : doc.version;
  if ((typeof version !== 'string' && typeof version !== 'number') || String(version).length > 64)
    throw fail.validation('The manifest version must be a string of at most 64 characters');
  const policy = metadata.injection_policy ?? 'on_match';
  if (!INJECTION_POLICIES.includes(policy as never))
    throw fail.validation(`metadata.injection_policy must be one of ${INJECTION_POLICIES.join(', ')}`);
  return {
    name,
    version: String(version),
    description: optionalString(doc.description, 'description', 2000),
    creator: optionalString(creator, 'creator', 200),
    license: optionalString(doc.license, 'license', 100),
    tags: stringList(doc.tags, 'tags'),
    injection_policy: policy as PackManifest['injection_policy'],
    match_terms: stringList(metadata.match_terms, 'metadata.match_terms'),
    domain: optionalString(metadata.domain, 'metadata.domain', 200),
    target_scope: targetScope,
  };
}

function engramsOf(list: unknown[]): PackEngram[] {
  if (list.length > PACK_MAX_ENGRAMS) tooMany();
  if (list.length === 0) throw fail.validation('The pack holds no engrams');
  return list.map((value, i) => validPackEngram(value, i));
}

const tooMany = (): never => {
  throw fail.validation(`A pack may hold at most ${PACK_MAX_ENGRAMS} engrams`);
};

function yamlOf(text: string, where: string): unknown {
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100, prettyErrors: false });
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw fail.validation(`${where} is not valid YAML: ${message.slice(0, 200)}`);
  }
}

function objectOf(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw fail.validation(`${where} must be a mapping`);
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max)
    throw fail.validation(`The manifest ${field} must be a string of at most ${max} characters`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 50 || value.some((v) => typeof v !== 'string' || v.length > 64))
    throw fail.validation(
      `The manifest ${field} must be a list of at most 50 strings of at most 64 characters`,
    );
  return [...new Set(value as string[])];
}

/** The files of an exported pack under `<name>/`: SKILL.md, engrams.yaml and a matching INTEGRITY. */
export function packFiles(manifest: PackManifest, engrams: readonly PackEngram[]): [string, Buffer][] {
  const front = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description ?? '',
    creator: manifest.creator ?? '',
    license: manifest.license ?? 'cc-by-sa-4.0',
    tags: manifest.tags,
    metadata: {
      id: `${manifest.name}@${manifest.version}`,
      injection_policy: manifest.injection_policy,
      match_terms: manifest.match_terms,
      domain: manifest.domain,
      engram_count: engrams.length,
    },
  };
  const skill = Buffer.from(
    `---\n${toYaml(front)}---\n\n# ${manifest.name}\n\n${manifest.description ?? ''}\n`,
    'utf8',
  );
  const body = Buffer.from(toYaml({ engrams: engrams.map(exportedEngram) }), 'utf8');
  const dir = manifest.name;
  return [
    [`${dir}/SKILL.md`, skill],
    [`${dir}/engrams.yaml`, body],
    [`${dir}/INTEGRITY`, Buffer.from(`${sha256Integrity(skill, body)}\n`, 'utf8')],
  ];
}

/** The exported fields of an engram: its content, without relations, ids or counters. */
function exportedEngram(engram: PackEngram): Record<string, unknown> {
  const out: Record<string, unknown> = { statement: engram.statement, type: engram.type };
  if (engram.domain !== null) out.domain = engram.domain;
  if (engram.tags.length > 0) out.tags = engram.tags;
  if (engram.rationale !== null) out.rationale = engram.rationale;
  out.commitment = engram.commitment;
  if (engram.valid_from !== null) out.valid_from = engram.valid_from;
  if (engram.valid_until !== null) out.valid_until = engram.valid_until;
  return out;
}
