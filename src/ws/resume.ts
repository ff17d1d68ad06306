import type { EventPage } from '../memory/event-log.js';
import { compareStreamIds as compare, type StoredEvent } from '../memory/events.js';
import { storedView, type EventView } from '../memory/event-view.js';
import { NEW_EVENTS_ONLY, type Subscription } from './subscription.js';

/**
 * What one socket is sent, and when. The rule that makes replay and live meet without a gap or a duplicate:
 *
 * - A socket sends events in strictly increasing id order, each at most once, so the id of the last event
 *   a client received is a complete resume position for all its subscriptions.
 * - `position` is the newest id this socket has dealt with: every event up to it has been sent if a
 *   subscription wanted it. An event at or below `position` is never looked at again.
 * - Catching up: live events of the workspace are buffered from the moment the socket leaves live mode (or
 *   joins the workspace's channel, which is confirmed before the first read). Pages are then read from
 *   `position` until a page comes back short, which means the stream's end at that read was reached; the
 *   buffer is then flushed (skipping what the reads already covered) and the socket is live. Any event not
 *   in the reads was published after the channel was confirmed, so it is in the buffer or still to come.
 * - A subscription that joins while another catches up, or a pub/sub reconnect, bumps `generation`: a read
 *   that was in flight is discarded and the next one starts from the (possibly rewound) position.
 */
export interface ReplaySource {
  /** Resolves once the workspace's live events reach `onLive` (the channel subscription is confirmed). */
  ready(): Promise<void>;
  read(afterId: string, count: number): Promise<EventPage>;
  lastId(): Promise<string>;
}

/** The socket side: frames out, flow control, and closing when something goes wrong. */
export interface Outlet {
  readonly closed: boolean;
  event(event: EventView): void;
  subscribed(sub: Subscription): void;
  rejected(sub: Subscription, message: string): void;
  replayGap(sub: Subscription, firstId: string): void;
  replayDone(sub: Subscription, lastId: string): void;
  /** Runs `fn` with writes batched into one syscall. */
  cork(fn: () => void): void;
  /** True while the send buffer is too full to add replayed events. */
  congested(): boolean;
  /** Resolves once the buffer has room again, or the socket closed. */
  drained(): Promise<void>;
  /** Live events piled up beyond the limit while catching up: the consumer is too slow. */
  overflow(): void;
  /** Catching up failed (Redis unreachable, or a bug). */
  failed(err: unknown): void;
}

export interface DeliveryOptions {
  pageSize: number;
  /** Live events buffered while catching up, in bytes, before the socket counts as too slow. */
  maxBufferedBytes: number;
  /** Permission filter of the socket's credential, when it sees only part of the workspace. */
  permits?: ((event: EventView) => boolean) | undefined;
}

export type SubscribeResult = { ok: true } | { ok: false; code: 'since_behind'; message: string };

type Mode = 'idle' | 'catching-up' | 'live';

export class Delivery {
  private readonly subs = new Map<string, Subscription>();
  private mode: Mode = 'idle';
  private lastSent: string | undefined;
  private position: string | undefined;
  /** Live events at or below this id were dealt with while catching up; set until one passes it. */
  private liveFloor: string | undefined;
  private generation = 0;
  private running = false;
  private suspended = false;
  private resumeWaiters: (() => void)[] = [];
  private buffer: EventView[] = [];
  private bufferedBytes = 0;

  constructor(
    private readonly source: ReplaySource,
    private readonly outlet: Outlet,
    private readonly options: DeliveryOptions,
  ) {}

  get size(): number {
    return this.subs.size;
  }

  has(id: string): boolean {
    return this.subs.has(id);
  }

  subscribe(sub: Subscription): SubscribeResult {
    if (sub.since !== NEW_EVENTS_ONLY) {
      // Events between `since` and what this socket already sent cannot be sent without breaking id order.
      if (this.lastSent !== undefined && compare(sub.since, this.lastSent) < 0) {
        return {
          ok: false,
          code: 'since_behind',
          message: `since is older than the last event this socket delivered (${this.lastSent}); use a new socket to replay older events`,
        };
      }
      sub.from = sub.since;
      if (this.position === undefined || compare(sub.since, this.position) < 0) this.position = sub.since;
      this.subs.set(sub.id, sub);
      this.catchUp();
    } else if (this.mode === 'live' && this.position !== undefined) {
      // Live already: everything up to `position` has been dealt with, so "new" starts right there.
      sub.from = this.position;
      sub.announced = true;
      this.subs.set(sub.id, sub);
      this.outlet.subscribed(sub);
    } else {
      this.subs.set(sub.id, sub);
      this.catchUp();
    }
    return { ok: true };
  }

  unsubscribe(id: string): boolean {
    return this.subs.delete(id);
  }

  /**
   * Live events of the workspace, in stream order: those that arrived together, so one socket write can
   * carry them all. Hot path: no JSON work, and no id parsing once live.
   */
  onLive(events: readonly EventView[]): void {
    if (this.mode === 'catching-up') {
      for (const event of events) {
        this.buffer.push(event);
        this.bufferedBytes += event.bytes?.length ?? event.json.length;
      }
      if (this.bufferedBytes > this.options.maxBufferedBytes) this.outlet.overflow();
      return;
    }
    if (this.mode !== 'live') return;
    let wanted: EventView[] | undefined;
    for (const event of events) {
      if (this.liveFloor !== undefined) {
        // Right after catching up, pub/sub may still bring events the reads already covered (a read's reply
        // can overtake the message published by the same write). Past the floor, order makes this moot.
        if (compare(event.id, this.liveFloor) <= 0) continue;
        this.liveFloor = undefined;
      }
      this.position = event.id;
      // Live, every subscription's start is at or before `position`, and live events come after it.
      if (this.wants(event, false)) (wanted ??= []).push(event);
    }
    if (!wanted) return;
    if (wanted.length === 1) this.send(wanted[0] as EventView);
    else this.outlet.cork(() => wanted.forEach((event) => this.send(event)));
  }

  /** The pub/sub connection dropped: live events may be missing from now on, so stop sending them. */
  suspend(): void {
    this.suspended = true;
    if (this.mode === 'live') this.leaveLive();
  }

  /** The channel is subscribed again: read what was missed, then go live. */
  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.generation++;
    for (const wake of this.resumeWaiters.splice(0)) wake();
    if (this.mode === 'catching-up') this.start();
  }

  /** The socket closed: release anything waiting. */
  dispose(): void {
    for (const wake of this.resumeWaiters.splice(0)) wake();
    this.buffer = [];
  }

  private catchUp(): void {
    // A read in flight started before this subscription existed: its page must not be used.
    this.generation++;
    if (this.mode !== 'catching-up') this.leaveLive();
    this.start();
  }

  private leaveLive(): void {
    this.mode = 'catching-up';
    this.buffer = [];
    this.bufferedBytes = 0;
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    this.run()
      .catch((err: unknown) => this.outlet.failed(err))
      .finally(() => (this.running = false));
  }

  private async run(): Promise<void> {
    await this.source.ready();
    for (;;) {
      if (this.outlet.closed) return;
      if (this.suspended) {
        await new Promise<void>((wake) => this.resumeWaiters.push(wake));
        continue;
      }
      await this.resolveNewOnly();
      if (this.outlet.closed) return;
      if (this.position === undefined) {
        // No subscription left and nothing dealt with yet: there is nothing to catch up on.
        this.goLive();
        return;
      }
      const generation = this.generation;
      const page = await this.source.read(this.position, this.options.pageSize);
      if (this.outlet.closed) return;
      if (generation !== this.generation || this.suspended) continue;
      this.announce(page);
      if (!(await this.replay(page.events, generation))) continue;
      // Suspended meanwhile: the pub/sub buffer may have missed events, so read again after `resume`.
      if (page.events.length < this.options.pageSize && !this.suspended) {
        this.goLive();
        return;
      }
    }
  }

  /** Gives `$` subscriptions their start: the newest id in the stream now. */
  private async resolveNewOnly(): Promise<void> {
    const pending = [...this.subs.values()].filter((sub) => sub.from === undefined);
    if (pending.length === 0) return;
    const newest = await this.source.lastId();
    for (const sub of pending) sub.from = newest;
    if (this.position === undefined) this.position = newest;
  }

  /** Validates and acknowledges subscriptions against the stream counters of a read made after they came. */
  private announce(page: EventPage): void {
    const newest = page.lastId === '' ? '0-0' : page.lastId;
    const trimmed = page.entriesAdded > page.length && page.firstId !== '';
    for (const sub of this.subs.values()) {
      if (sub.announced) continue;
      if (sub.replaying && compare(sub.since, newest) > 0) {
        this.subs.delete(sub.id);
        this.outlet.rejected(
          sub,
          `since ${sub.since} is newer than the newest event of this workspace (${newest})`,
        );
        // Its start may have moved `position` past the stream's end; nothing beyond it has been dealt with.
        if (this.position !== undefined && compare(this.position, newest) > 0) this.position = newest;
        continue;
      }
      sub.announced = true;
      this.outlet.subscribed(sub);
      if (sub.replaying && trimmed && compare(sub.since, page.firstId) < 0) {
        this.outlet.replayGap(sub, page.firstId);
      }
    }
  }

  /** Offers a page, pausing for `drain` when the socket's buffer fills; false when it was overtaken. */
  private async replay(events: StoredEvent[], generation: number): Promise<boolean> {
    let next = 0;
    while (next < events.length) {
      this.outlet.cork(() => {
        while (next < events.length) {
          this.offer(storedView(events[next++] as StoredEvent));
          if (this.outlet.closed || this.outlet.congested()) break;
        }
      });
      if (this.outlet.closed) return false;
      if (this.outlet.congested()) {
        await this.outlet.drained();
        if (this.outlet.closed || generation !== this.generation) return false;
      }
    }
    return true;
  }

  private goLive(): void {
    const buffered = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.mode = 'live';
    this.outlet.cork(() => {
      for (const event of buffered) this.offer(event);
      this.liveFloor = this.position;
      for (const sub of this.subs.values()) {
        if (!sub.replaying || !sub.announced) continue;
        sub.replaying = false;
        this.outlet.replayDone(sub, this.position ?? '0-0');
      }
    });
  }

  private offer(event: EventView): void {
    if (this.position !== undefined && compare(event.id, this.position) <= 0) return;
    this.position = event.id;
    if (this.wants(event, true)) this.send(event);
  }

  private wants(event: EventView, checkStart: boolean): boolean {
    if (this.options.permits && !this.options.permits(event)) return false;
    for (const sub of this.subs.values()) {
      if (!sub.announced || sub.from === undefined) continue;
      if (checkStart && compare(event.id, sub.from) <= 0) continue;
      if (sub.filter.matches(event)) return true;
    }
    return false;
  }

  private send(event: EventView): void {
    this.lastSent = event.id;
    this.outlet.event(event);
  }
}
