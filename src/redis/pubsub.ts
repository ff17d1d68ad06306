import { EventEmitter } from 'node:events';
import { Cluster } from 'ioredis';
import type { Logger } from '../log.js';
import type { RedisClient } from './clients.js';

export type MessageHandler = (message: string, channel: string) => void;

/** `global`: SUBSCRIBE, reaches every node of a cluster. `shard`: SSUBSCRIBE, stays on the channel's shard. */
type ChannelKind = 'global' | 'shard';

/** Waits between attempts to resubscribe the shard channels after a topology change of the cluster. */
const RESYNC_RETRY_MS = 1000;

/**
 * One subscriber connection per instance, shared by every consumer (credential invalidation, event fan-out).
 * Channels are subscribed while at least one handler wants them. Messages published while the connection is
 * down are lost: `onConnectionLost` listeners hear about it as soon as the connection closes, and
 * `onResubscribed` listeners once every channel is subscribed again, so they can resynchronise (credential
 * caches clear themselves; event consumers catch up from the stream).
 *
 * Per-workspace channels are shard channels (`ssubscribe`, published with SPUBLISH by the write scripts):
 * on a Redis Cluster their traffic stays on the shard that owns the workspace's slot. ioredis keeps one
 * subscriber connection per master for them (`shardedSubscribers`) and moves the subscriptions when a slot
 * moves or a master fails over; it then emits `subscribersReady`, without waiting for the new SSUBSCRIBEs.
 * Messages of the moved channels may have been missed meanwhile, so every shard channel is subscribed once
 * more and confirmed, and the listeners hear "lost" and then "resubscribed" (consumers catch up).
 */
export class PubSub {
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly kinds = new Map<string, ChannelKind>();
  /** SUBSCRIBE commands not yet confirmed, so later handlers of the same channel wait for them too. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly lostListeners = new Set<() => void>();
  private readonly resubscribedListeners = new Set<() => void>();
  /** One resync at a time per kind; `again` when another topology change came in meanwhile. */
  private readonly resyncState: Record<ChannelKind, { running: boolean; again: boolean }> = {
    global: { running: false, again: false },
    shard: { running: false, again: false },
  };
  private closed = false;

  /** Where shard channels are subscribed: the cluster client itself, or a second standalone connection. */
  private readonly shardClient: RedisClient;

  /**
   * `shardClient` is required on a standalone Redis: one connection must not hold both kinds, because Redis
   * answers SUNSUBSCRIBE with the count of shard channels only, and a 0 there makes ioredis leave subscriber
   * mode while global channels are still subscribed (their messages would then go unheard). A cluster client
   * keeps shard subscriptions on connections of their own (`shardedSubscribers`).
   */
  constructor(
    private readonly client: RedisClient,
    private readonly log: Logger,
    shardClient?: RedisClient,
  ) {
    if (!(client instanceof Cluster) && shardClient === undefined)
      throw new Error('PubSub on a standalone Redis needs a second connection for shard channels');
    this.shardClient = shardClient ?? client;
    const deliver = (channel: string, message: string): void => {
      const set = this.handlers.get(channel);
      if (!set) return;
      for (const handler of set) {
        try {
          handler(message, channel);
        } catch (err) {
          this.log.error({ err, channel }, 'pub/sub handler failed');
        }
      }
    };
    client.on('message', deliver);
    this.shardClient.on('smessage', deliver);
    this.watchConnection(client);
    if (this.shardClient !== client) this.watchConnection(this.shardClient);
    if (client instanceof Cluster) {
      client.on('subscribersReady', () => void this.resyncShards());
      // A master that gives a slot away drops its shard channels (an unsolicited SUNSUBSCRIBE). ioredis
      // then refreshes its slot map, but resubscribes only if the map it gets differs from the one it had,
      // which a node that has not heard of the move yet does not: the channel would stay unsubscribed.
      // So the drop itself starts a resync, retried until the channel is confirmed on its new master.
      shardSubscriberSignals(client)?.on('moved', () => void this.resyncShards());
      // The global channels live on one subscriber connection to some node. When that node leaves or the
      // connection ends, ioredis opens one to another node and subscribes again, without telling anyone:
      // what was published in between (a revocation) was missed, so consumers must hear lost/resubscribed.
      if (!onGlobalSubscriberReplaced(client, () => void this.resync('global')))
        log.warn('ioredis internals changed: a cluster subscriber moving to another node goes unnoticed');
    }
  }

  /** Lost while a connection is closed; resubscribed once it is ready and its channels are confirmed. */
  private watchConnection(connection: RedisClient): void {
    let lost = false;
    connection.on('close', () => {
      if (lost) return;
      lost = true;
      this.notify(this.lostListeners);
    });
    connection.on('end', () => {
      this.closed = true;
    });
    connection.on('ready', () => {
      if (!lost) return;
      lost = false;
      // ioredis has re-sent SUBSCRIBE for every channel but not awaited it; a PING on the same connection
      // is answered after those, so once it returns every channel is live again.
      connection.ping().then(
        () => this.notify(this.resubscribedListeners),
        (err: unknown) => this.log.warn({ err }, 'pub/sub connection lost again while resubscribing'),
      );
    });
  }

  /** Resolves once Redis has confirmed the subscription, so no message published afterwards is missed. */
  subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return this.add('global', channel, handler);
  }

  /**
   * A shard channel (SSUBSCRIBE): for per-workspace notifications published with SPUBLISH. The channel name
   * must carry the workspace's hash tag so it lives in the slot of the workspace's keys.
   */
  ssubscribe(channel: string, handler: MessageHandler): Promise<void> {
    return this.add('shard', channel, handler);
  }

  async unsubscribe(channel: string, handler: MessageHandler): Promise<void> {
    const set = this.handlers.get(channel);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) {
      this.handlers.delete(channel);
      const kind = this.kinds.get(channel);
      this.kinds.delete(channel);
      if (kind === 'shard') await this.shardClient.sunsubscribe(channel);
      else await this.client.unsubscribe(channel);
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

  private async add(kind: ChannelKind, channel: string, handler: MessageHandler): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      this.kinds.set(channel, kind);
      set.add(handler);
      const confirmed = (
        kind === 'shard' ? this.shardClient.ssubscribe(channel) : this.client.subscribe(channel)
      ).then(() => undefined);
      this.pending.set(channel, confirmed);
      try {
        await confirmed;
      } catch (err) {
        // Not subscribed: the next caller tries again instead of waiting on a channel nobody listens to.
        if (this.handlers.get(channel) === set) {
          this.handlers.delete(channel);
          this.kinds.delete(channel);
        }
        throw err;
      } finally {
        if (this.pending.get(channel) === confirmed) this.pending.delete(channel);
      }
      return;
    }
    set.add(handler);
    await this.pending.get(channel);
  }

  /** After ioredis moved the shard subscriptions (slot migration, failover). */
  private resyncShards(): Promise<void> {
    return this.resync('shard');
  }

  /**
   * After ioredis moved subscriptions of one kind to other connections: subscribe every channel of that kind
   * again and wait for Redis to confirm it, then let consumers catch up. (S)SUBSCRIBE of a channel the
   * connection already has is a no-op for Redis. Retried while the cluster is still settling.
   */
  private async resync(kind: ChannelKind): Promise<void> {
    const state = this.resyncState[kind];
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    this.notify(this.lostListeners);
    try {
      for (;;) {
        state.again = false;
        const channels = [...this.kinds].filter(([, k]) => k === kind).map(([c]) => c);
        try {
          if (kind === 'shard')
            await Promise.all(channels.map((channel) => this.shardClient.ssubscribe(channel)));
          else if (channels.length > 0) await this.client.subscribe(...channels);
          if (!state.again) break;
        } catch (err) {
          if (this.closed) return;
          this.log.warn({ err, kind }, 'resubscribing channels failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, RESYNC_RETRY_MS));
        }
        if (this.closed) return;
      }
      this.notify(this.resubscribedListeners);
    } finally {
      state.running = false;
    }
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

/**
 * The emitter on which ioredis' sharded subscribers report "moved" (a MOVED reply to SSUBSCRIBE, or the
 * server dropping the channels of a slot it gave away). ioredis keeps it internal (ioredis 6.0, pinned in
 * package-lock.json); without it only `subscribersReady` starts a resync.
 */
function shardSubscriberSignals(cluster: Cluster): EventEmitter | undefined {
  const emitter = (cluster as unknown as { subscriberGroupEmitter?: unknown }).subscriberGroupEmitter;
  return emitter instanceof EventEmitter ? emitter : undefined;
}

/**
 * Calls `listener` each time ioredis picks a new connection for the cluster's global subscriptions (its
 * ClusterSubscriber's selectSubscriber, internal in ioredis 6.0, pinned in package-lock.json). False when
 * the internals are not there.
 */
function onGlobalSubscriberReplaced(cluster: Cluster, listener: () => void): boolean {
  const subscriber = (cluster as unknown as { subscriber?: { selectSubscriber?: unknown } }).subscriber;
  const select = subscriber?.selectSubscriber;
  if (!subscriber || typeof select !== 'function') return false;
  subscriber.selectSubscriber = function (this: unknown, ...args: unknown[]): unknown {
    const result: unknown = select.apply(this, args);
    listener();
    return result;
  };
  return true;
}
