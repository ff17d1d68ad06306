import type { Logger } from '../log.js';
import type { RedisClient } from './clients.js';

export type MessageHandler = (message: string, channel: string) => void;

/**
 * One subscriber connection per instance, shared by every consumer (credential invalidation, event fan-out).
 * Channels are subscribed while at least one handler wants them. Messages published while the connection is
 * down are lost: `onConnectionLost` listeners hear about it as soon as the connection closes, and
 * `onResubscribed` listeners once every channel is subscribed again, so they can resynchronise (credential
 * caches clear themselves; event consumers catch up from the stream).
 */
export class PubSub {
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  /** SUBSCRIBE commands not yet confirmed, so later handlers of the same channel wait for them too. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly lostListeners = new Set<() => void>();
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
      if (this.lostConnection) return;
      this.lostConnection = true;
      this.notify(this.lostListeners);
    });
    client.on('ready', () => {
      if (!this.lostConnection) return;
      this.lostConnection = false;
      // ioredis has re-sent SUBSCRIBE for every channel but not awaited it; a PING on the same connection
      // is answered after those, so once it returns every channel is live again.
      this.client.ping().then(
        () => this.notify(this.resubscribedListeners),
        (err: unknown) => this.log.warn({ err }, 'pub/sub connection lost again while resubscribing'),
      );
    });
  }

  /** Resolves once Redis has confirmed the subscription, so no message published afterwards is missed. */
  async subscribe(channel: string, handler: MessageHandler): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      set.add(handler);
      const confirmed = this.client.subscribe(channel).then(() => undefined);
      this.pending.set(channel, confirmed);
      try {
        await confirmed;
      } finally {
        if (this.pending.get(channel) === confirmed) this.pending.delete(channel);
      }
      return;
    }
    set.add(handler);
    await this.pending.get(channel);
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

  /** Called when the subscriber connection drops: from now until `onResubscribed`, messages may be lost. */
  onConnectionLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Called after the subscriber reconnected and every channel is subscribed again. */
  onResubscribed(listener: () => void): () => void {
    this.resubscribedListeners.add(listener);
    return () => this.resubscribedListeners.delete(listener);
  }

  private notify(listeners: Set<() => void>): void {
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err }, 'pub/sub listener failed');
      }
    }
  }
}
