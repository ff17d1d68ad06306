import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import { tenantName, type Tenant } from '../tenant.js';
import { envelopeJson, type Actor, type StoredEvent } from './events.js';

/** A page of a workspace's events plus the stream counters needed to detect trimming. */
export interface EventPage {
  events: StoredEvent[];
  /** Events ever added to the stream (monotonic); compare across reads to detect trimmed entries. */
  entriesAdded: number;
  /** Events currently kept. */
  length: number;
  /** Oldest and newest kept ids ('' when the stream is empty). */
  firstId: string;
  lastId: string;
}

type RawEntry = [string, string[]];
/** A page as readEvents-1 answers it: entries added, length, first id, last id, entries. */
type RawPage = [number, number, string, string, RawEntry[]];

function toPage([added, length, firstId, lastId, entries]: RawPage): EventPage {
  return {
    events: entries.map(([id, fields]) => toStoredEvent(id, fields)),
    entriesAdded: added,
    length,
    firstId,
    lastId,
  };
}

/**
 * Reads and appends workspace events. Write scripts append their own events; this appends events that
 * belong to no other write (job failures, summaries) and reads pages for resume and index catch-up.
 */
export class EventLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly maxLen: number,
  ) {}

  /** ARGV[1..5] of every event-emitting script (see lua/includes/appendEvent.lua). */
  contextArgs(workspace: Tenant, actor: Actor, at: Date = new Date()): string[] {
    return [
      this.keys.eventChannel(workspace),
      String(this.maxLen),
      // Envelopes name the workspace or organisation as its face knows it, not the tenant tag.
      tenantName(workspace),
      at.toISOString(),
      JSON.stringify({ type: actor.type, id: actor.id }),
    ];
  }

  streamKey(workspace: Tenant): string {
    return this.keys.eventStream(workspace);
  }

  channel(workspace: Tenant): string {
    return this.keys.eventChannel(workspace);
  }

  async append(
    workspace: Tenant,
    actor: Actor,
    events: { type: string; data: unknown }[],
  ): Promise<string[]> {
    if (events.length === 0) return [];
    const args = [...this.contextArgs(workspace, actor), String(events.length)];
    for (const event of events) args.push(event.type, JSON.stringify(event.data));
    return this.scripts.run<string[]>('appendEvents', [this.streamKey(workspace)], args);
  }

  /** Events strictly after `afterId` ('0-0' = from the start), at most `count`, with stream counters. */
  async read(workspace: Tenant, afterId: string, count: number): Promise<EventPage> {
    const reply = await this.scripts.run<RawPage>(
      'readEvents',
      [this.streamKey(workspace)],
      [afterId, count],
    );
    return toPage(reply);
  }

  /**
   * Like `read`, for a reader that is usually up to date: undefined when nothing follows `afterId` (one
   * XRANGE, without reading the stream's counters).
   */
  async readNew(workspace: Tenant, afterId: string, count: number): Promise<EventPage | undefined> {
    const reply = await this.scripts.run<[0] | [1, ...RawPage]>(
      'readNewEvents',
      [this.streamKey(workspace)],
      [afterId, count],
    );
    if (reply[0] === 0) return undefined;
    const [, ...page] = reply;
    return toPage(page);
  }

  /** The newest event id of a workspace, or '0-0' when it has none. */
  async lastId(workspace: Tenant): Promise<string> {
    const newest = (await this.redis.xrevrange(
      this.streamKey(workspace),
      '+',
      '-',
      'COUNT',
      1,
    )) as RawEntry[];
    return newest[0]?.[0] ?? '0-0';
  }
}

function toStoredEvent(id: string, fields: string[]): StoredEvent {
  let type = '';
  let body = '{}';
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 't') type = fields[i + 1] ?? '';
    else if (fields[i] === 'e') body = fields[i + 1] ?? '{}';
  }
  return { id, type, json: envelopeJson(id, body) };
}
