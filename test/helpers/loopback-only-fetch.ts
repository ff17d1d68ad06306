/**
 * Preloaded (node --import) into a third-party client process a test spawns (the PLUR MCP server): its
 * fetch reaches loopback only, so the test's traffic stays on this machine whatever the client does on its
 * own (PLUR checks the npm registry for updates at start). A refused request fails like an unreachable
 * host, which the client already tolerates, and is written to stderr for the test to read.
 */
const realFetch = globalThis.fetch;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (LOOPBACK.has(url.hostname)) return realFetch(input, init);
  process.stderr.write(`[loopback-only-fetch] refused ${url.origin}\n`);
  return Promise.reject(new TypeError(`fetch failed: ${url.origin} is not loopback (test guard)`));
};
