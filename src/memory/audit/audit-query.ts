import { fail } from '../../errors.js';
import type { RedisClient } from '../../redis/clients.js';
import type { AuditChannel, AuditEntry, AuditLog, AuditOutcome } from './audit-log.js';

/**
 * Reading an organisation's audit stream (GET /api/v1/admin/audit): newest first, filtered, in pages with
 * an opaque cursor, or the whole filtered range in chunks for an ndjson export. The stream belongs to the
 * organisation's tenant, so another organisation's entries are never read, whatever the filter or cursor.
 *
 * The time filters are stream-id bounds (ids are the append time in ms), so `from`/`to` cost nothing; the
 * other filters are applied while reading. A page reads at most MAX_SCANNED entries: a sparse filter over a
 * long trail answers fewer rows with a cursor to go on, instead of reading the whole stream in one request.
 */
export interface AuditFilter {
  /** Actor id or username. */
  actor?: string | undefined;
  /** An action, or a prefix ending in `*` (`engram.*`). */
  action?: string | undefined;
  /** A target id, or `type:id`. */
  target?: string | undefined;
  outcome?: AuditOutcome | undefined;
  channel?: AuditChannel | undefined;
  /** Inclusive bounds, ms since the epoch. */
  fromMs?: number | undefined;
  toMs?: number | undefined;
}

export interface AuditPage {
  rows: AuditEntry[];
  nextCursor: string | null;
}

const CHUNK = 500;
const MAX_SCANNED = 10_000;
const CURSOR_PREFIX = 'a1:';
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export class AuditQuery {
  constructor(
    private readonly redis: RedisClient,
    private readonly audit: AuditLog,
  ) {}

  async page(
    org: string,
    filter: AuditFilter,
    cursor: string | undefined,
    limit: number,
  ): Promise<AuditPage> {
    await this.audit.trimByAge(org);
    const matches = matcher(filter);
    const rows: AuditEntry[] = [];
    let end = cursor === undefined ? upperBound(filter) : `(${decodeCursor(cursor)}`;
    let scanned = 0;
    for (;;) {
      const chunk = await this.read(org, end, filter, CHUNK);
      for (const [streamId, entry] of chunk) {
        scanned++;
        if (entry && matches(entry)) {
          rows.push(entry);
          if (rows.length === limit) return { rows, nextCursor: encodeCursor(streamId) };
        }
        end = `(${streamId}`;
      }
      if (chunk.length < CHUNK) return { rows, nextCursor: null };
      if (scanned >= MAX_SCANNED) return { rows, nextCursor: encodeCursor(end.slice(1)) };
    }
  }

  /** Every matching entry, newest first, in chunks (for a streamed export). */
  async *all(org: string, filter: AuditFilter): AsyncGenerator<AuditEntry[]> {
    await this.audit.trimByAge(org);
    const matches = matcher(filter);
    let end = upperBound(filter);
    for (;;) {
      const chunk = await this.read(org, end, filter, CHUNK);
      const rows = chunk.flatMap(([, entry]) => (entry && matches(entry) ? [entry] : []));
      if (rows.length > 0) yield rows;
      if (chunk.length < CHUNK) return;
      end = `(${(chunk[chunk.length - 1] as [string, unknown])[0]}`;
    }
  }

  private async read(
    org: string,
    end: string,
    filter: AuditFilter,
    count: number,
  ): Promise<[string, AuditEntry | undefined][]> {
    const start = filter.fromMs === undefined ? '-' : String(filter.fromMs);
    const replies = (await this.redis.xrevrange(this.audit.streamKey(org), end, start, 'COUNT', count)) as [
      string,
      string[],
    ][];
    return replies.map(([id, fields]) => [id, parseEntry(fields)]);
  }
}

function upperBound(filter: AuditFilter): string {
  return filter.toMs === undefined ? '+' : String(filter.toMs);
}

function parseEntry(fields: string[]): AuditEntry | undefined {
  const at = fields.indexOf('e');
  if (at < 0) return undefined;
  try {
    return JSON.parse(fields[at + 1] as string) as AuditEntry;
  } catch {
    return undefined;
  }
}

function matcher(filter: AuditFilter): (entry: AuditEntry) => boolean {
  const { actor, action, target, outcome, channel } = filter;
  const actionPrefix = action?.endsWith('*') ? action.slice(0, -1) : undefined;
  const colon = target?.indexOf(':') ?? -1;
  const targetType = target !== undefined && colon > 0 ? target.slice(0, colon) : undefined;
  const targetId = target !== undefined && colon > 0 ? target.slice(colon + 1) : target;
  return (entry) =>
    (actor === undefined || entry.actor?.id === actor || entry.actor?.username === actor) &&
    (action === undefined ||
      (actionPrefix === undefined ? entry.action === action : entry.action.startsWith(actionPrefix))) &&
    (targetId === undefined ||
      (entry.target?.id === targetId && (targetType === undefined || entry.target.type === targetType))) &&
    (outcome === undefined || entry.outcome === outcome) &&
    (channel === undefined || (entry.channel ?? 'rest') === channel);
}

/** An opaque position: the stream id of the last entry a page returned (the next page starts below it). */
function encodeCursor(streamId: string): string {
  return Buffer.from(CURSOR_PREFIX + streamId).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!STREAM_ID.test(id)) throw fail.validation('query.cursor is not a cursor this endpoint returned');
  return id;
}
