import { fail } from '../../errors.js';
import { prefixedId } from '../../ids.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Tenant } from '../../tenant.js';
import type { BackgroundWork } from '../background.js';
import type { EpisodeDoc } from '../documents.js';
import type { Embedder } from '../embedders/embedder.js';
import type { EventLog } from '../event-log.js';
import { vectorToBuffer } from '../search/vector-store.js';
import type { EngramCaller } from './access.js';
import { DAY_MS } from './decay.js';

/**
 * The engram API's episodes: the layer API's episodic documents (same docs HASH, episodes ZSET, counters,
 * events and search index), written and read with the engram API's names: summary = content,
 * agent = agent_id. Episodes are the organisation's timeline: every user of it reads them and captures its
 * own. Captured episodes have event type "custom"; a session's closing summary is a "summary".
 */
export interface CaptureInput {
  summary: string;
  agent: string | null;
  channel: string | null;
  sessionId: string | null;
  tags: string[];
}

export interface EpisodeQuery {
  /** ISO date or time bounds, inclusive (a date-only `to` covers its whole day). */
  from?: string | undefined;
  to?: string | undefined;
  agent?: string | undefined;
  channel?: string | undefined;
  session?: string | undefined;
  limit: number;
  /** Opaque position from a previous page's next_cursor. */
  cursor?: string | undefined;
}

const SCAN_BATCH = 200;

/** A new episode document of the engram API (the session's closing summary uses it too). */
export function newEpisode(
  caller: EngramCaller,
  input: CaptureInput,
  event: 'custom' | 'summary',
  now = new Date(),
): EpisodeDoc {
  return {
    id: prefixedId('ep'),
    layer: 'episodic',
    content: input.summary,
    importance: 0.5,
    created_at: now.toISOString(),
    ts: now.getTime(),
    user_id: caller.userId,
    agent_id: input.agent,
    session_id: input.sessionId,
    metadata: {},
    event,
    source: 'engram-api',
    channel: input.channel,
    tags: input.tags,
  };
}

export class EngramEpisodes {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly events: EventLog,
    private readonly embedder: Embedder,
    private readonly background: BackgroundWork,
  ) {}

  async capture(caller: EngramCaller, input: CaptureInput): Promise<EpisodeDoc> {
    const { tenant } = caller;
    const episode = newEpisode(caller, input, 'custom');
    const vector = await this.vectorOf(episode);
    await this.scripts.run(
      'captureEpisode',
      [
        this.keys.docs(tenant),
        this.keys.vectors(tenant),
        this.keys.episodes(tenant),
        this.keys.stats(tenant),
        this.keys.agents(tenant),
        this.keys.userDocs(tenant, episode.user_id ?? ''),
        this.keys.eventStream(tenant),
      ],
      [
        ...this.events.contextArgs(tenant, caller.actor, new Date(episode.ts)),
        episode.id,
        JSON.stringify(episode),
        vector ? vectorToBuffer(vector) : '',
        episode.ts,
        episode.agent_id ?? '',
        episode.user_id ?? '',
      ],
    );
    await this.embedLater(tenant, episode);
    return episode;
  }

  /** The episode's vector when the embedder runs inline (else embedLater queues it). */
  async vectorOf(episode: EpisodeDoc): Promise<Float32Array | undefined> {
    return this.embedder.inline ? (await this.embedder.embed([episode.content]))[0] : undefined;
  }

  async embedLater(tenant: Tenant, episode: EpisodeDoc): Promise<void> {
    if (!this.embedder.inline)
      await this.background.embed(tenant, [{ id: episode.id, text: episode.content }]);
  }

  async get(caller: EngramCaller, id: string): Promise<EpisodeDoc> {
    const raw = await this.redis.hget(this.keys.docs(caller.tenant), id);
    const doc = raw === null ? undefined : (JSON.parse(raw) as { layer?: string });
    if (!doc || doc.layer !== 'episodic') throw fail.notFound(`Episode ${id} not found`);
    return doc as EpisodeDoc;
  }

  /** Newest first; scans the time index in batches and filters, so a page is full whenever it can be. */
  async list(
    caller: EngramCaller,
    query: EpisodeQuery,
  ): Promise<{ episodes: EpisodeDoc[]; next: string | null }> {
    const { tenant } = caller;
    const position = query.cursor === undefined ? undefined : parseCursor(query.cursor);
    const min = query.from === undefined ? '-inf' : String(bound(query.from, false, 'from'));
    const upper = query.to === undefined ? Number.POSITIVE_INFINITY : bound(query.to, true, 'to');
    const max = position === undefined ? upper : Math.min(upper, position.ts);
    const out: EpisodeDoc[] = [];
    let offset = 0;
    for (;;) {
      const flat = await this.redis.zrevrangebyscore(
        this.keys.episodes(tenant),
        max === Number.POSITIVE_INFINITY ? '+inf' : String(max),
        min,
        'WITHSCORES',
        'LIMIT',
        offset,
        SCAN_BATCH,
      );
      if (flat.length === 0) break;
      offset += flat.length / 2;
      const ids: string[] = [];
      const scores = new Map<string, number>();
      for (let i = 0; i < flat.length; i += 2) {
        const id = flat[i] as string;
        const ts = Number(flat[i + 1]);
        // Members with the cursor's score come in descending id order; skip those already returned.
        if (position && ts === position.ts && id >= position.id) continue;
        ids.push(id);
        scores.set(id, ts);
      }
      const docs = ids.length === 0 ? [] : await this.redis.hmget(this.keys.docs(tenant), ...ids);
      for (const raw of docs) {
        if (raw === null) continue;
        const doc = JSON.parse(raw) as EpisodeDoc;
        if (doc.layer !== 'episodic' || !matches(doc, query)) continue;
        out.push(doc);
        if (out.length > query.limit) break;
      }
      if (out.length > query.limit || flat.length < SCAN_BATCH * 2) break;
    }
    const page = out.slice(0, query.limit);
    const last = page[page.length - 1];
    return { episodes: page, next: out.length > query.limit && last ? `${last.ts}:${last.id}` : null };
  }
}

function matches(doc: EpisodeDoc, query: EpisodeQuery): boolean {
  if (query.agent !== undefined && doc.agent_id !== query.agent) return false;
  if (query.channel !== undefined && doc.channel !== query.channel) return false;
  if (query.session !== undefined && doc.session_id !== query.session) return false;
  return true;
}

function bound(value: string, end: boolean, name: string): number {
  const at = Date.parse(value);
  if (!Number.isFinite(at)) throw fail.validation(`query.${name} must be an ISO 8601 date or date-time`);
  return end && /^\d{4}-\d\d-\d\d$/.test(value) ? at + DAY_MS - 1 : at;
}

function parseCursor(cursor: string): { ts: number; id: string } {
  const m = /^(\d{1,16}):([A-Za-z0-9_-]{1,128})$/.exec(cursor);
  if (!m) throw fail.validation('query.cursor is not a cursor this server returned');
  return { ts: Number(m[1]), id: m[2] as string };
}
