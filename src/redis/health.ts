import type { RedisClient } from './clients.js';

/** PINGs Redis with a deadline: the health endpoint must answer quickly even when Redis hangs. */
export class RedisHealth {
  constructor(
    private readonly client: RedisClient,
    private readonly timeoutMs = 1000,
  ) {}

  async ok(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
    });
    const ping = this.client.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
