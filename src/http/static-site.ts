import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A directory of built front-end files (the admin console), read into memory once at start. Requests are
 * answered by looking their path up in this map, so nothing outside the directory can be served whatever
 * the path holds (`..`, encoded slashes, symlinks are never followed at request time): traversal is
 * impossible by construction, not by a check someone may forget.
 */
export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** Strong validator: a hash of the bytes. */
  etag: string;
  /** Hashed build output (Vite's `assets/name-<hash>.ext`) never changes under its name: cached for a year. */
  immutable: boolean;
}

export interface StaticSite {
  /** Mount point without a trailing slash, e.g. `/ui`. */
  prefix: string;
  /** Keyed by the path below the prefix, with a leading slash (`/index.html`, `/assets/app-1a2b.js`). */
  files: ReadonlyMap<string, StaticFile>;
  /** Set when the directory was missing, so the server can say why there is nothing to show. */
  missing?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Files of another type are not served: the console's build produces none, and guessing a type invites sniffing. */
export function contentTypeOf(file: string): string | undefined {
  return CONTENT_TYPES[path.extname(file).toLowerCase()];
}

/** Vite names hashed chunks `<name>-<8+ base64url chars>.<ext>` under assets/. */
const HASHED = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export async function loadStaticSite(dir: string, prefix: string): Promise<StaticSite> {
  if (!existsSync(path.join(dir, 'index.html'))) {
    return { prefix, files: new Map(), missing: dir };
  }
  const files = new Map<string, StaticFile>();
  for (const relative of await listFiles(dir)) {
    const contentType = contentTypeOf(relative);
    if (!contentType) continue;
    const body = await readFile(path.join(dir, relative));
    const urlPath = '/' + relative.split(path.sep).join('/');
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(urlPath, { body, contentType, etag, immutable: HASHED.test(urlPath) });
  }
  return { prefix, files };
}

async function listFiles(dir: string, below = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, below), { withFileTypes: true })) {
    const relative = path.join(below, entry.name);
    // Regular files and directories only: a symlink in the build directory could point anywhere.
    if (entry.isDirectory()) out.push(...(await listFiles(dir, relative)));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

/** A host as a browser sends it (`name[:port]`, `[v6][:port]`); anything else is not echoed into a header. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The console's Content-Security-Policy: everything from this origin only, no inline script or style, no
 * framing. `connect-src` names the WebSocket origins of this host explicitly (older browsers do not let
 * 'self' cover ws:/wss:).
 */
export function consolePolicy(host: string | undefined): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The headers every answer of a static site carries, besides Content-Type. */
export function securityHeaders(host: string | undefined): [string, string][] {
  return [
    ['Content-Security-Policy', consolePolicy(host)],
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
  ];
}

export function cacheControlOf(file: StaticFile): string {
  // index.html (and other unhashed files) revalidate every time, so a new build is picked up at once.
  return file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** True when an If-None-Match header names this ETag (or `*`). */
export function notModified(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch === '') return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}
