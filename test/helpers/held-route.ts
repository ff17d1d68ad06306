import { Type } from '@sinclair/typebox';
import { defineRoute } from '../../src/http/route.js';
import { startServer, type TestServer } from './server.js';

export interface HeldServer {
  server: TestServer;
  /** The path whose handler holds its request until `release` is called. */
  path: string;
  /** Resolves once a request has entered the held handler. */
  entered: Promise<void>;
  /** Lets the held request finish with `{finished: true}`; harmless to call twice. */
  release: () => void;
}

/**
 * A server with one extra route that holds its request in flight until the test releases it: what the
 * shutdown and readiness tests need to observe a draining instance without depending on timing.
 */
export async function startServerWithHeldRoute(): Promise<HeldServer> {
  let release: () => void = () => undefined;
  let enter: () => void = () => undefined;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const path = '/v1/test/hold';
  const server = await startServer(
    {},
    {
      extraRoutes: () => [
        defineRoute({
          method: 'GET',
          path,
          face: 'layer',
          auth: 'none',
          summary: 'holds until released',
          schema: { response: { 200: Type.Object({ finished: Type.Boolean() }) } },
          handler: () =>
            new Promise<{ finished: boolean }>((resolve) => {
              enter();
              release = () => resolve({ finished: true });
            }),
        }),
      ],
    },
  );
  return { server, path, entered, release: () => release() };
}
