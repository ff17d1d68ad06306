import { describe, expect, it } from 'vitest';
import { createLayerKey, startServer, uniqueWorkspace } from '../helpers/server.js';
import { connectEvents } from '../helpers/ws.js';

describe('shutdown', () => {
  it('closes every event socket with 1001, telling clients to resume', async () => {
    const server = await startServer();
    const workspace = uniqueWorkspace('bye');
    const key = await createLayerKey(server, workspace);
    const idle = await connectEvents(server, key);
    const subscribed = await connectEvents(server, key);
    await subscribed.subscribe({});
    await server.close();
    for (const c of [idle, subscribed]) {
      expect(await c.closed).toEqual({
        code: 1001,
        reason: 'server shutting down: resume from your last event id',
      });
    }
  });
});
