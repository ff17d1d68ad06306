import { performance } from 'node:perf_hooks';
import type { RedisClient } from './clients.js';

/** PINGs Redis with a deadline: the health endpoint must answer quickly even when Redis hangs. */
export class RedisHealth {
  constructor(
    private readonly client: RedisClient,
    private readonly timeoutMs = 1000,
  ) {}

  async ok(): Promise<boolean> {
    return (await this.roundTrip()) !== undefined;
  }

  /** Seconds one PING took, or undefined when Redis did not answer PONG within the deadline. */
  async roundTrip(): Promise<number | undefined> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.timeoutMs);
    });
    const ping = this.client.ping().then(
      (reply) => (reply === 'PONG' ? (performance.now() - started) / 1000 : undefined),
      () => undefined,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
