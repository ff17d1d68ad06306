import type * as uWS from 'uWebSockets.js';
import type { Logger } from '../log.js';
import { cacheControlOf, notModified, securityHeaders, type StaticSite } from './static-site.js';
import { statusLine } from './status.js';

/**
 * Serves a static site (the admin console) on `<prefix>/` of the uWS app. Files are in memory, so every
 * answer is written synchronously inside the callback: no await, hence no onAborted and no cork needed.
 * These are not API routes and stay out of the OpenAPI document; they take no credential (the console
 * itself asks for one and sends it only to the API).
 */
export function mountStaticSite(app: uWS.TemplatedApp, site: StaticSite, log: Logger): void {
  const { prefix } = site;
  app.any(prefix, (res, req) => {
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const host = req.getHeader('host') || undefined;
    guarded(res, log, () => {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, host);
      answer(res, 308, host, [['Location', `${prefix}/`]], '', method === 'HEAD');
    });
  });
  app.any(`${prefix}/*`, (res, req) => {
    // Copy what is needed out of the request first: it is gone after this callback.
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const url = req.getUrl();
    const host = req.getHeader('host') || undefined;
    const ifNoneMatch = req.getHeader('if-none-match');
    guarded(res, log, () => {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, host);
      const headOnly = method === 'HEAD';
      if (site.missing) {
        const text = `The console is not built (no ${site.missing}/index.html): run npm run build.\n`;
        return answer(res, 404, host, [['Content-Type', 'text/plain; charset=utf-8']], text, headOnly);
      }
      const below = url.slice(prefix.length);
      const file = site.files.get(below === '/' ? '/index.html' : below);
      if (!file) {
        const headers: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8']];
        return answer(res, 404, host, headers, 'Not found\n', headOnly);
      }
      const headers: [string, string][] = [
        ['ETag', file.etag],
        ['Cache-Control', cacheControlOf(file)],
      ];
      if (notModified(ifNoneMatch, file.etag)) return answer(res, 304, host, headers, '', true);
      headers.unshift(['Content-Type', file.contentType]);
      answer(res, 200, host, headers, file.body, headOnly);
    });
  });
}

function methodNotAllowed(res: uWS.HttpResponse, host: string | undefined): void {
  const headers: [string, string][] = [
    ['Allow', 'GET, HEAD'],
    ['Content-Type', 'text/plain; charset=utf-8'],
  ];
  answer(res, 405, host, headers, 'Method not allowed\n', false);
}

function answer(
  res: uWS.HttpResponse,
  status: number,
  host: string | undefined,
  headers: [string, string][],
  body: string | Buffer,
  headOnly: boolean,
): void {
  res.writeStatus(statusLine(status));
  for (const [name, value] of headers) res.writeHeader(name, value);
  for (const [name, value] of securityHeaders(host)) res.writeHeader(name, value);
  if (status === 304) res.endWithoutBody(0);
  else if (headOnly) res.endWithoutBody(Buffer.byteLength(body));
  else res.end(body);
}

/**
 * No exception may escape a uWS callback; a failure here is a bug, answered 500. onAborted is attached
 * although every answer is synchronous: uWS does not count `endWithoutBody` (HEAD, 304) as having
 * responded and would abort the process otherwise.
 */
function guarded(res: uWS.HttpResponse, log: Logger, handle: () => void): void {
  res.onAborted(() => undefined);
  try {
    handle();
  } catch (err) {
    log.error({ err }, 'static file answer failed');
    try {
      res.writeStatus(statusLine(500)).end('Internal server error\n');
    } catch {
      // Already answered: nothing more to say.
    }
  }
}
