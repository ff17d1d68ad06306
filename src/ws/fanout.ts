import type { Logger } from '../log.js';
import type { EventLog } from '../memory/event-log.js';
import { isConnectionError } from '../redis/clients.js';
import type { PubSub } from '../redis/pubsub.js';
import { liveView, type EventView } from '../memory/event-view.js';
import type { ReplaySource } from './resume.js';
import type { Tenant } from '../tenant.js';

/** A socket's delivery as the fan-out sees it. */
export interface FeedMember {
  /** Events that arrived together, in stream order. */
  onLive(events: readonly EventView[]): void;
  suspend(): void;
  resume(): void;
}

/**
 * Cross-instance fan-out. Every write publishes its event envelope on the workspace's channel; this
 * instance subscribes to a workspace's channel while at least one of its own sockets has joined it, parses
 * each envelope once, and hands the view to each member (which sends the original bytes if it wants them).
 * Events of a workspace only ever reach members of that workspace's feed.
 *
 * When the subscriber connection drops, members are suspended (live events may be missing) and resumed once
 * every channel is subscribed again, so they catch up from the stream.
 */
export class Fanout {
  private readonly feeds = new Map<string, Feed>();
  private suspended = false;

  constructor(
    private readonly events: EventLog,
    private readonly pubsub: PubSub,
    private readonly log: Logger,
  ) {
    pubsub.onConnectionLost(() => {
      this.suspended = true;
      this.forEachMember((member) => member.suspend());
    });
    pubsub.onResubscribed(() => {
      this.suspended = false;
      this.forEachMember((member) => member.resume());
    });
  }

  /** Adds the member built by `create` to the workspace's feed; `create` receives its replay source. */
  join<M extends FeedMember>(workspace: Tenant, create: (source: ReplaySource) => M): M {
    let feed = this.feeds.get(workspace);
    if (!feed) {
      feed = new Feed(workspace, this.events.channel(workspace), this.pubsub, this.log);
      this.feeds.set(workspace, feed);
    }
    const joined = feed;
    const member = create({
      ready: () => joined.ready,
      read: (afterId, count) => patiently(() => this.events.read(workspace, afterId, count)),
      lastId: () => patiently(() => this.events.lastId(workspace)),
    });
    feed.members.add(member);
    if (this.suspended) member.suspend();
    return member;
  }

  leave(workspace: Tenant, member: FeedMember): void {
    const feed = this.feeds.get(workspace);
    if (!feed || !feed.members.delete(member) || feed.members.size > 0) return;
    this.feeds.delete(workspace);
    feed.close();
  }

  /** Workspaces this instance currently listens to. */
  get workspaces(): number {
    return this.feeds.size;
  }

  private forEachMember(fn: (member: FeedMember) => void): void {
    for (const feed of this.feeds.values()) {
      for (const member of feed.members) {
        try {
          fn(member);
        } catch (err) {
          this.log.error({ err, workspace: feed.workspace }, 'event socket failed to resynchronise');
        }
      }
    }
  }
}

/** Waits between attempts of a read that found Redis unreachable: about five seconds in all. */
const RETRY_DELAYS_MS = [100, 200, 400, 800, 1600, 2000];

/**
 * Retries a read while Redis is unreachable for a moment (the command connection often comes back a little
 * after the subscriber that triggered a catch-up); a longer outage fails and the socket closes with 1013.
 */
async function patiently<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !isConnectionError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

class Feed {
  readonly members = new Set<FeedMember>();
  readonly ready: Promise<void>;
  private pending: EventView[] = [];
  private readonly handler: (message: string) => void;

  constructor(
    readonly workspace: Tenant,
    private readonly channel: string,
    private readonly pubsub: PubSub,
    private readonly log: Logger,
  ) {
    this.handler = (message) => this.dispatch(message);
    this.ready = pubsub.ssubscribe(channel, this.handler);
    // Members await `ready` and handle its failure; this only keeps an unobserved rejection quiet.
    this.ready.catch(() => undefined);
  }

  close(): void {
    this.pubsub
      .unsubscribe(this.channel, this.handler)
      .catch((err: unknown) => this.log.debug({ err, workspace: this.workspace }, 'unsubscribe failed'));
  }

  private dispatch(message: string): void {
    const event = liveView(message);
    if (!event) {
      this.log.warn({ workspace: this.workspace }, 'ignored a malformed event envelope');
      return;
    }
    // Messages that arrive in one read (a write publishing several events, a burst of writes) are handed
    // over together once the read is processed, so each socket gets them in one write.
    this.pending.push(event);
    if (this.pending.length === 1) queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    const events = this.pending;
    this.pending = [];
    for (const member of this.members) {
      try {
        member.onLive(events);
      } catch (err) {
        this.log.error({ err, workspace: this.workspace }, 'event delivery failed');
      }
    }
  };
}
