import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer } from '../helpers/engram.js';
import { spawnService, type ServiceProcess } from '../helpers/process.js';
import { createLayerKey, uniqueWorkspace, type TestServer } from '../helpers/server.js';

/**
 * `npm run -s events` (scripts/events.ts) as a user runs it against a server on another port: the key and
 * the server come from the environment, so neither is echoed on a command line, and a plur_sk_ key reads
 * the engram API's stream.
 */
let server: TestServer;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  server = await startEngramServer();
});
afterAll(async () => {
  for (const script of running) {
    if (script.child.exitCode === null && script.child.signalCode === null) {
      script.child.kill('SIGINT');
      await script.exited;
    }
  }
  await server.close();
});

function runEventsScript(env: Record<string, string>): ServiceProcess {
  const script = spawnService(env, 'scripts/events.ts');
  running.push(script);
  return script;
}

async function stop(script: ServiceProcess): Promise<void> {
  script.child.kill('SIGINT');
  expect(await script.exited).toBe(0);
}

describe('the events script', () => {
  it('takes MNEMO_KEY and an http:// MNEMO_URL, and prints the events of the layer stream', async () => {
    const key = await createLayerKey(server, uniqueWorkspace('script'));
    const script = runEventsScript({ MNEMO_KEY: key, MNEMO_URL: `${server.url}/` });
    await script.waitFor(/"op":"subscribed"/);
    await server.request('POST', '/v1/remember', { token: key, body: { content: 'I live in Lisbon' } });
    await script.waitFor(/"type":"memory\.working\.added"/);
    expect(script.output()).not.toContain(key);
    await stop(script);
  });

  it('finds the server from MNEMO_PORT and reads the engram stream with a plur_sk_ key', async () => {
    const org = new Org(server, 'script');
    const platform = await org.group('platform');
    const alice = await org.user('alice', 'editor');
    await org.member(platform.id, alice, 'editor');
    const script = runEventsScript({ MNEMO_KEY: alice.key, MNEMO_PORT: String(server.port) });
    await script.waitFor(/"op":"subscribed"/);
    await org.engram(alice, {
      statement: 'Deploys must run migrations first.',
      type: 'procedural',
      scope: platform.scope,
    });
    await script.waitFor(/"type":"engram\.created"/);
    await stop(script);
  });
});
