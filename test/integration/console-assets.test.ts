import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/raw-http.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The console's static files as HTTP: content types, caching (immutable hashed assets, revalidated
 * index.html), ETag / 304, the security headers, and no way out of the build directory. A fixture
 * directory stands in for the build, so this file does not depend on `npm run build`.
 */
const INDEX =
  '<!doctype html><title>console</title><script type="module" src="/ui/assets/app-Ab12Cd34.js"></script>';
const SCRIPT = 'console.log("console");';

let dir: string;
let server: TestServer;
let missing: TestServer;
let off: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-console-'));
  const build = path.join(dir, 'build');
  await mkdir(path.join(build, 'assets'), { recursive: true });
  await writeFile(path.join(build, 'index.html'), INDEX);
  await writeFile(path.join(build, 'assets', 'app-Ab12Cd34.js'), SCRIPT);
  await writeFile(path.join(build, 'assets', 'style-Zz99Yy88.css'), 'body{}');
  await writeFile(path.join(build, 'notes.exe'), 'MZ');
  await writeFile(path.join(dir, 'secret.txt'), 'outside the build');
  await symlink(path.join(dir, 'secret.txt'), path.join(build, 'linked.txt'));
  [server, missing, off] = await Promise.all([
    startServer({ consoleDir: build }),
    startServer({ consoleDir: path.join(dir, 'nothing-here') }),
    startServer({ consoleDir: 'off' }),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.close(), missing?.close(), off?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('the console at /ui/', () => {
  it('serves index.html with no-cache, an ETag and a strict Content-Security-Policy', async () => {
    const res = await fetch(`${server.url}/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy') ?? '';
    const host = new URL(server.url).host;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(await res.text()).toBe(INDEX);
  });

  it('serves hashed assets as immutable with their content type', async () => {
    const js = await fetch(`${server.url}/ui/assets/app-Ab12Cd34.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe(SCRIPT);
    const css = await fetch(`${server.url}/ui/assets/style-Zz99Yy88.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 304 to a matching If-None-Match, and the whole file to a stale one', async () => {
    const first = await fetch(`${server.url}/ui/assets/app-Ab12Cd34.js`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${server.url}/ui/assets/app-Ab12Cd34.js`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const stale = await fetch(`${server.url}/ui/assets/app-Ab12Cd34.js`, {
      headers: { 'if-none-match': '"something-else"' },
    });
    expect(stale.status).toBe(200);
  });

  it('redirects /ui to /ui/ and answers HEAD without a body', async () => {
    const res = await fetch(`${server.url}/ui`, { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/ui/');
    const head = await fetch(`${server.url}/ui/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(INDEX)));
  });

  it('never serves a file outside the build, a symlink, or a file of an unknown type', async () => {
    const attempts = [
      '/ui/../package.json',
      '/ui/%2e%2e/secret.txt',
      '/ui/..%2fsecret.txt',
      '/ui/assets/../../secret.txt',
      '/ui/linked.txt',
      '/ui/notes.exe',
      '/ui/missing.js',
      '/ui//etc/passwd',
    ];
    for (const target of attempts) {
      const res = await rawRequest(
        server.port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status, target).toBe(404);
      expect(res.body, target).not.toContain('outside the build');
      expect(res.body, target).not.toContain('"name": "mnemo"');
    }
  });

  it('answers 405 to other methods, and does not echo a hostile Host into the policy', async () => {
    const post = await fetch(`${server.url}/ui/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const res = await rawRequest(
      server.port,
      'GET /ui/ HTTP/1.1\r\nHost: evil.example; script-src *\r\nConnection: close\r\n\r\n',
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain("connect-src 'self';");
    expect(res.headers['content-security-policy']).not.toContain('evil');
  });

  it('says how to build it when the build is missing, and is absent with MNEMO_CONSOLE_DIR=off', async () => {
    const res = await fetch(`${missing.url}/ui/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('npm run build');
    const gone = await fetch(`${off.url}/ui/`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toContain('json');
  });
});
