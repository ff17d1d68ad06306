import type { Logger } from '../log.js';
import type { RedisClient } from './clients.js';

export type MessageHandler = (message: string, channel: string) => void;

/**
 * One subscriber connection per instance, shared by every consumer (credential invalidation, event fan-out).
 * Channels are subscribed while at least one handler wants them. After the connection comes back from an
 * outage, messages sent meanwhile are lost, so `onResubscribed` listeners are told to resynchronise
 * (credential caches clear themselves; event consumers catch up from the stream).
 */
export class PubSub {
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly resubscribedListeners = new Set<() => void>();
  private lostConnection = false;

  constructor(
    private readonly client: RedisClient,
    private readonly log: Logger,
  ) {
    client.on('message', (channel: string, message: string) => {
      const set = this.handlers.get(channel);
      if (!set) return;
      for (const handler of set) {
        try {
          handler(message, channel);
        } catch (err) {
          this.log.error({ err, channel }, 'pub/sub handler failed');
        }
      }
    });
    client.on('close', () => {
      this.lostConnection = true;
    });
    client.on('ready', () => {
      if (!this.lostConnection) return;
      this.lostConnection = false;
      for (const listener of this.resubscribedListeners) listener();
    });
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      set.add(handler);
      await this.client.subscribe(channel);
      return;
    }
    set.add(handler);
  }

  async unsubscribe(channel: string, handler: MessageHandler): Promise<void> {
    const set = this.handlers.get(channel);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) {
      this.handlers.delete(channel);
      await this.client.unsubscribe(channel);
    }
  }

  /** Called after the subscriber reconnects (ioredis re-subscribes by itself; messages in between are lost). */
  onResubscribed(listener: () => void): () => void {
    this.resubscribedListeners.add(listener);
    return () => this.resubscribedListeners.delete(listener);
  }
}
