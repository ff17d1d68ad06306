import type { CopiedHeaders } from './request-headers.js';

/**
 * What a Fetch-style transport mounted on the HTTP server (HttpServer.mountFetch) receives: a web-standard
 * `Request` without a body, plus what the server already read. The server reads the body itself (with its
 * byte limit, before anything else looks at it), so the transport gets the bytes, never the stream.
 */
export interface FetchContext {
  /** The peer address of the socket (behind a proxy, the proxy's). */
  ip: string;
  headers: CopiedHeaders;
  /** The request body (POST only), at most the server's body limit. */
  body: Buffer | undefined;
}

export type FetchHandler = (request: Request, context: FetchContext) => Promise<Response>;

/** The copied request as a Fetch `Request`. The host is a placeholder: only path and query are meaningful. */
export function fetchRequest(method: string, target: string, headers: CopiedHeaders): Request {
  const init = new Headers();
  for (const [name, value] of Object.entries(headers.values)) init.set(name, value);
  return new Request(new URL(target, 'http://mnemo.invalid'), { method, headers: init });
}
