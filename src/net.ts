import net from 'node:net';
import { StartupRefused } from './startup-refused.js';

/** A TCP port on 127.0.0.1 that was free a moment ago (the embedded Redis and the tools start servers on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Why `host:port` cannot be listened on right now (EADDRINUSE, EACCES, EADDRNOTAVAIL, ...), or undefined
 * if it can. It binds without SO_REUSEPORT, so a port that other processes share with SO_REUSEPORT (as a
 * running mnemo's server processes do) counts as in use too.
 */
export function listenProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** The operator's message for a port mnemo cannot listen on. */
export function portRefused(host: string, port: number, problem: string): StartupRefused {
  const why = problem === 'EADDRINUSE' ? `port ${port} is in use` : `cannot listen on ${host}:${port}`;
  return new StartupRefused(
    `${why} (${problem}${problem === 'EADDRINUSE' ? `, ${host}:${port}` : ''}): stop what listens there or set MNEMO_PORT to another port.`,
  );
}

/** Refuses to start when `host:port` is taken: checked before anything else starts (e.g. the embedded Redis). */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const problem = await listenProblem(host, port);
  if (problem !== undefined) throw portRefused(host, port, problem);
}
