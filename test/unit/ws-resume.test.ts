import { describe, expect, it } from 'vitest';
import type { EventPage } from '../../src/memory/event-log.js';
import { compareStreamIds, type StoredEvent } from '../../src/memory/events.js';
import { liveView, type EventView } from '../../src/memory/event-view.js';
import { Delivery, type Outlet, type ReplaySource } from '../../src/ws/resume.js';
import type { FilterSpec } from '../../src/memory/event-filter.js';
import { newSubscription, type Subscription } from '../../src/ws/subscription.js';

/**
 * Delivery against an in-memory stream whose reads can be held, so the interleavings that matter (a live
 * event racing a read, a subscription joining mid-replay, a pub/sub outage) happen exactly, not by chance.
 */
class FakeStream implements ReplaySource {
  entries: StoredEvent[] = [];
  trimmedBefore = 0;
  added = 0;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  reads: string[] = [];
  /** When held: does Redis run the read when it is sent ('send') or only when the answer comes ('answer')? */
  runs: 'send' | 'answer' = 'answer';

  append(type: string, data: Record<string, unknown> = {}): EventView {
    const id = `${++this.added}-0`;
    const json = JSON.stringify({
      id,
      type,
      ts: 't',
      workspace: 'w',
      actor: { type: 'system', id: 'x' },
      data,
    });
    this.entries.push({ id, type, json });
    return liveView(json)!;
  }

  trim(keep: number): void {
    this.entries = this.entries.slice(-keep);
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  ready = (): Promise<void> => Promise.resolve();

  lastId = async (): Promise<string> => this.entries.at(-1)?.id ?? '0-0';

  read = async (afterId: string, count: number): Promise<EventPage> => {
    this.reads.push(afterId);
    if (this.runs === 'answer') await this.gate;
    const events = this.entries.filter((e) => compareStreamIds(e.id, afterId) > 0).slice(0, count);
    if (this.runs === 'send') await this.gate;
    return {
      events,
      entriesAdded: this.added,
      length: this.entries.length,
      firstId: this.entries[0]?.id ?? '',
      lastId: this.entries.at(-1)?.id ?? '',
    };
  };
}

class FakeOutlet implements Outlet {
  closed = false;
  log: string[] = [];
  isCongested = false;
  overflowed = false;
  failure: unknown;
  private drainWaiters: (() => void)[] = [];

  get events(): string[] {
    return this.log.filter((l) => l.startsWith('event ')).map((l) => l.slice(6));
  }
  event(event: EventView): void {
    this.log.push(`event ${event.id}`);
  }
  subscribed(sub: Subscription): void {
    this.log.push(`subscribed ${sub.id} from ${sub.from}`);
  }
  rejected(sub: Subscription): void {
    this.log.push(`rejected ${sub.id}`);
  }
  replayGap(sub: Subscription, firstId: string): void {
    this.log.push(`gap ${sub.id} ${firstId}`);
  }
  replayDone(sub: Subscription, lastId: string): void {
    this.log.push(`done ${sub.id} ${lastId}`);
  }
  cork(fn: () => void): void {
    fn();
  }
  congested(): boolean {
    return this.isCongested;
  }
  drained(): Promise<void> {
    if (!this.isCongested) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
  drain(): void {
    this.isCongested = false;
    for (const wake of this.drainWaiters.splice(0)) wake();
  }
  overflow(): void {
    this.overflowed = true;
  }
  failed(err: unknown): void {
    this.failure = err;
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

function setup(options: { pageSize?: number; maxBufferedBytes?: number } = {}) {
  const stream = new FakeStream();
  const outlet = new FakeOutlet();
  const delivery = new Delivery(stream, outlet, {
    pageSize: options.pageSize ?? 100,
    maxBufferedBytes: options.maxBufferedBytes ?? 1_000_000,
  });
  const subscribe = (id: string, since?: string, spec: FilterSpec = {}) =>
    delivery.subscribe(newSubscription(id, spec, since));
  /** Appends to the stream and publishes, as a write script does. */
  const write = (type = 'memory.fact.added', data: Record<string, unknown> = {}) => {
    const view = stream.append(type, data);
    delivery.onLive([view]);
    return view.id;
  };
  return { stream, outlet, delivery, subscribe, write };
}

describe('Delivery', () => {
  it('with $ sends only events written after the subscription', async () => {
    const { stream, outlet, subscribe, write } = setup();
    stream.append('old');
    subscribe('s1');
    await settle();
    expect(outlet.log).toEqual(['subscribed s1 from 1-0']);
    write();
    write();
    expect(outlet.events).toEqual(['2-0', '3-0']);
  });

  it('replays from since in order, then says so, then goes live', async () => {
    const { stream, outlet, subscribe, write } = setup({ pageSize: 2 });
    for (let i = 0; i < 5; i++) stream.append('memory.fact.added');
    subscribe('s1', '2-0');
    await settle();
    write();
    expect(outlet.log).toEqual([
      'subscribed s1 from 2-0',
      'event 3-0',
      'event 4-0',
      'event 5-0',
      'done s1 5-0',
      'event 6-0',
    ]);
    expect(stream.reads).toEqual(['2-0', '4-0']);
  });

  it('meets live events that race the replay without a gap or a duplicate', async () => {
    for (const writtenBeforeTheRead of [true, false]) {
      const { stream, outlet, subscribe, write } = setup();
      stream.append('a');
      stream.append('a');
      stream.hold();
      subscribe('s1', '0-0');
      await settle();
      // The read is in flight. Either the write lands before Redis runs it (the page includes it) or after.
      if (writtenBeforeTheRead) write('a');
      stream.release();
      if (!writtenBeforeTheRead) write('a');
      await settle();
      write('a');
      expect(outlet.events).toEqual(['1-0', '2-0', '3-0', '4-0']);
    }
  });

  it('drops live messages that a read overtook', async () => {
    const { stream, outlet, delivery, subscribe, write } = setup();
    stream.append('a');
    // Written and read back before its pub/sub message reaches this instance.
    const late = stream.append('a');
    subscribe('s1', '0-0');
    await settle();
    expect(outlet.events).toEqual(['1-0', '2-0']);
    delivery.onLive([late]);
    write('a');
    expect(outlet.events).toEqual(['1-0', '2-0', '3-0']);
  });

  it('buffers live events that arrive during the replay and flushes them after it', async () => {
    const { stream, outlet, subscribe, write } = setup();
    stream.append('a');
    stream.runs = 'send';
    stream.hold();
    subscribe('s1', '0-0');
    await settle();
    // Redis ran the read before these writes, so the page misses them: they come from the buffer.
    write('a');
    write('a');
    stream.release();
    await settle();
    expect(outlet.log).toEqual([
      'subscribed s1 from 0-0',
      'event 1-0',
      'event 2-0',
      'event 3-0',
      'done s1 3-0',
    ]);
  });

  it('lets a subscription join a replay in flight: the page is read again and each event goes out once', async () => {
    const { stream, outlet, subscribe } = setup();
    stream.append('a');
    stream.append('b');
    stream.append('a');
    stream.hold();
    subscribe('A', '0-0', { types: ['a'] });
    await settle();
    subscribe('B', '0-0', { types: ['b', 'a'] });
    stream.release();
    await settle();
    expect(outlet.events).toEqual(['1-0', '2-0', '3-0']);
    expect(outlet.log.filter((l) => l.startsWith('subscribed'))).toEqual([
      'subscribed A from 0-0',
      'subscribed B from 0-0',
    ]);
    expect(outlet.log.filter((l) => l.startsWith('done'))).toEqual(['done A 3-0', 'done B 3-0']);
  });

  it('rewinds a live socket for a new subscription with an older since, keeping id order', async () => {
    const { outlet, subscribe, write } = setup();
    subscribe('A', undefined, { types: ['a'] });
    await settle();
    write('a'); // 1-0 sent
    write('b'); // 2-0 not wanted yet
    write('b'); // 3-0 not wanted yet
    expect(outlet.events).toEqual(['1-0']);
    expect(subscribe('B', '1-0', { types: ['b'] })).toEqual({ ok: true });
    await settle();
    write('a');
    expect(outlet.events).toEqual(['1-0', '2-0', '3-0', '4-0']);
  });

  it('refuses a since older than what the socket already delivered', async () => {
    const { subscribe, write } = setup();
    subscribe('A');
    await settle();
    write();
    write();
    const result = subscribe('B', '1-0');
    expect(result).toMatchObject({ ok: false, code: 'since_behind' });
    expect(subscribe('C', '2-0')).toEqual({ ok: true });
  });

  it('rejects a since newer than the stream, without losing later events', async () => {
    const { stream, outlet, subscribe, write } = setup();
    stream.append('a');
    subscribe('A', '99-0');
    subscribe('B', '$');
    await settle();
    expect(outlet.log).toEqual(['rejected A', 'subscribed B from 1-0']);
    write();
    expect(outlet.events).toEqual(['2-0']);
  });

  it('warns when the stream was trimmed past since and replays what is left', async () => {
    const { stream, outlet, subscribe } = setup();
    for (let i = 0; i < 6; i++) stream.append('a');
    stream.trim(3);
    subscribe('s1', '2-0');
    await settle();
    expect(outlet.log).toEqual([
      'subscribed s1 from 2-0',
      'gap s1 4-0',
      'event 4-0',
      'event 5-0',
      'event 6-0',
      'done s1 6-0',
    ]);
  });

  it('does not warn when since is within what is kept', async () => {
    const { stream, outlet, subscribe } = setup();
    for (let i = 0; i < 6; i++) stream.append('a');
    stream.trim(3);
    subscribe('s1', '4-0');
    await settle();
    expect(outlet.log.some((l) => l.startsWith('gap'))).toBe(false);
  });

  it('catches up on events the pub/sub lost while it was down', async () => {
    const { stream, outlet, delivery, subscribe, write } = setup();
    subscribe('s1');
    await settle();
    write(); // 1-0 live
    delivery.suspend();
    stream.append('memory.fact.added'); // 2-0: its message was lost
    write(); // 3-0: arrives, but must wait behind 2-0
    expect(outlet.events).toEqual(['1-0']);
    delivery.resume();
    await settle();
    write();
    expect(outlet.events).toEqual(['1-0', '2-0', '3-0', '4-0']);
  });

  it('does not go live while suspended even when a replay completes', async () => {
    const { stream, outlet, delivery, subscribe, write } = setup();
    stream.hold();
    subscribe('s1', '0-0');
    await settle();
    delivery.suspend();
    stream.release();
    await settle();
    stream.append('lost'); // 1-0 published while down
    expect(outlet.log).toEqual([]);
    delivery.resume();
    await settle();
    write();
    expect(outlet.events).toEqual(['1-0', '2-0']);
  });

  it('pauses the replay while the socket is congested', async () => {
    const { stream, outlet, subscribe } = setup({ pageSize: 2 });
    for (let i = 0; i < 5; i++) stream.append('a');
    outlet.isCongested = true;
    subscribe('s1', '0-0');
    await settle();
    expect(outlet.events).toEqual(['1-0']);
    outlet.drain();
    await settle();
    expect(outlet.events).toEqual(['1-0', '2-0', '3-0', '4-0', '5-0']);
  });

  it('calls a consumer too slow when live events pile up behind a replay', async () => {
    const { stream, outlet, subscribe, write } = setup({ maxBufferedBytes: 500 });
    stream.hold();
    subscribe('s1', '0-0');
    await settle();
    for (let i = 0; i < 5 && !outlet.overflowed; i++) write('a', { content: 'x'.repeat(100) });
    expect(outlet.overflowed).toBe(true);
  });

  it('stops sending what a removed subscription wanted', async () => {
    const { outlet, delivery, subscribe, write } = setup();
    subscribe('A', undefined, { types: ['a'] });
    subscribe('B', undefined, { types: ['b'] });
    await settle();
    write('a');
    write('b');
    expect(delivery.unsubscribe('B')).toBe(true);
    expect(delivery.unsubscribe('B')).toBe(false);
    write('b');
    write('a');
    expect(outlet.events).toEqual(['1-0', '2-0', '4-0']);
  });

  it('reports a failed read', async () => {
    const { stream, outlet, subscribe } = setup();
    stream.read = () => Promise.reject(new Error('Connection is closed.'));
    subscribe('s1', '0-0');
    await settle();
    expect((outlet.failure as Error).message).toBe('Connection is closed.');
  });
});
