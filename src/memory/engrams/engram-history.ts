import type { EventLog } from '../event-log.js';
import type { EventEnvelope } from '../events.js';
import type { EngramCaller } from './access.js';
import type { EngramActions } from './engram-actions.js';

/** One change of an engram as the organisation's event stream recorded it. */
export interface EngramChange {
  event_id: string;
  type: string;
  ts: string;
  actor: EventEnvelope['actor'];
  status: string | null;
  statement: string | null;
}

/** Events read per round trip while scanning the stream. */
const PAGE = 1000;

/**
 * An engram's change history (plur_history), read from the organisation's event stream: the stream is the
 * record of every change, so there is no second history to keep in step. It reaches back as far as the
 * stream keeps events (MNEMO_EVENT_STREAM_MAXLEN, approximately trimmed); `engram.accessed` bookkeeping
 * is left out. The caller must read the engram now (404 like GET /engrams/{id} otherwise).
 */
export class EngramHistory {
  constructor(
    private readonly events: EventLog,
    private readonly actions: EngramActions,
  ) {}

  /** The newest `limit` changes, oldest first, and whether older kept ones were left out. */
  async history(
    caller: EngramCaller,
    id: string,
    limit: number,
  ): Promise<{ changes: EngramChange[]; truncated: boolean }> {
    await this.actions.get(caller, id);
    const changes: EngramChange[] = [];
    let after = '0-0';
    for (;;) {
      const page = await this.events.read(caller.tenant, after, PAGE);
      for (const event of page.events) {
        if (!event.type.startsWith('engram.') || event.type === 'engram.accessed') continue;
        // Cheap pre-filter before parsing: the id appears verbatim in the envelope of its events.
        if (!event.json.includes(`"${id}"`)) continue;
        const envelope = JSON.parse(event.json) as EventEnvelope;
        const change = changeOf(envelope, id);
        if (change) changes.push(change);
      }
      const last = page.events.at(-1);
      if (!last || page.events.length < PAGE) break;
      after = last.id;
    }
    const truncated = changes.length > limit;
    return { changes: truncated ? changes.slice(-limit) : changes, truncated };
  }
}

function changeOf(envelope: EventEnvelope, id: string): EngramChange | undefined {
  const data = envelope.data;
  const doc = (typeof data.engram === 'object' && data.engram !== null ? data.engram : data) as Record<
    string,
    unknown
  >;
  if (doc.id !== id) return undefined;
  return {
    event_id: envelope.id,
    type: envelope.type,
    ts: envelope.ts,
    actor: envelope.actor,
    status: typeof doc.status === 'string' ? doc.status : null,
    statement: typeof doc.statement === 'string' ? doc.statement : null,
  };
}
