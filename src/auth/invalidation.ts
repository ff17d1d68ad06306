import type { Keys } from '../redis/keys.js';
import type { PubSub } from '../redis/pubsub.js';

/** Anything that caches credentials and can drop entries by tag. */
export interface Invalidatable {
  invalidate(tag: string): void;
  clear(): void;
}

/**
 * Applies credential invalidations published on one channel to every registered cache of this instance.
 * Messages are tags such as `layer:<hash>` (one layer key) or `user:<org>:<user id>` (all keys of a user).
 * Publishers are Lua scripts (atomic with the change) or services after their write.
 */
export class CredentialInvalidation {
  private readonly caches = new Set<Invalidatable>();

  constructor(
    private readonly pubsub: PubSub,
    private readonly keys: Keys,
  ) {}

  async start(): Promise<void> {
    await this.pubsub.subscribe(this.keys.credentialInvalidationChannel(), (tag) => {
      for (const cache of this.caches) cache.invalidate(tag);
    });
    this.pubsub.onResubscribed(() => {
      for (const cache of this.caches) cache.clear();
    });
  }

  register(cache: Invalidatable): void {
    this.caches.add(cache);
  }
}
