import { randomUUID } from 'node:crypto';
import { fail } from '../../errors.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import { ScriptError } from '../../redis/script-errors.js';
import type { ScriptArg, Scripts } from '../../redis/scripts.js';
import { auditContextOf, type AuditLog, type RequestRef } from '../audit/audit-log.js';
import type { BackgroundWork } from '../background.js';
import type { Embedder } from '../embedders/embedder.js';
import type { EventLog } from '../event-log.js';
import { vectorToBuffer } from '../search/vector-store.js';
import type { EngramCaller } from './access.js';
import { dedupField, newEngramDoc } from './engram-doc.js';
import type { EngramInject, InjectOutcome } from './engram-inject.js';
import { defaultScope, refuseSecrets, requireScope } from './engram-input.js';
import { newEpisode, type EngramEpisodes } from './episodes.js';
import { dayOf, type EngramType } from './model.js';

/**
 * Sessions (plur.md §1.4 session_start / session_end): a start injects the engrams for the task; an end
 * turns the learnings into candidate engrams of the session's scope, captures the summary as an episode
 * and closes the session, all in one script (lua/endSession-11.lua). Candidates become active through
 * promote. A session is visible to whoever started it and to organisation admins.
 */
export interface SessionRecord {
  id: string;
  task: string;
  scope: string;
  tags: string[];
  status: 'active' | 'ended';
  started_by: string;
  started_at: string;
  ended_at: string | null;
  summary: string | null;
  injected_ids: string[];
  candidate_ids: string[];
  /** Engrams that learnings repeated (same statement already live in the scope). */
  repeated_ids: string[];
  episode_id: string | null;
}

export type Learning = string | { statement: string; type?: EngramType | undefined };

export interface SessionSettings {
  injectBudget: number;
  injectMaxEngrams: number;
}

export class Sessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly events: EventLog,
    private readonly inject: EngramInject,
    private readonly episodes: EngramEpisodes,
    private readonly embedder: Embedder,
    private readonly background: BackgroundWork,
    private readonly settings: SessionSettings,
    private readonly audit: AuditLog,
  ) {}

  async start(
    caller: EngramCaller,
    input: { task: string; scope?: string | undefined; tags: string[] },
    request?: RequestRef,
  ): Promise<{ session: SessionRecord; injection: InjectOutcome }> {
    const { access, org, tenant } = caller;
    const scope = input.scope === undefined ? defaultScope(access) : requireScope(input.scope, org);
    if (!access.canRead(scope)) throw fail.forbidden(`User does not have read access to scope ${scope}.`);
    const injection = await this.inject.inject(caller, {
      task: input.task,
      ...(input.scope === undefined ? {} : { scope }),
      budget: this.settings.injectBudget,
      maxEngrams: this.settings.injectMaxEngrams,
    });
    const now = new Date();
    const session: SessionRecord = {
      id: randomUUID(),
      task: input.task,
      scope,
      tags: input.tags,
      status: 'active',
      started_by: starter(caller),
      started_at: now.toISOString(),
      ended_at: null,
      summary: null,
      injected_ids: injection.injectedIds,
      candidate_ids: [],
      repeated_ids: [],
      episode_id: null,
    };
    const entry = this.audit.entry(
      auditContextOf(caller, request),
      'session.start',
      { type: 'session', id: session.id },
      'success',
      now,
      { scope, injected: injection.injectedIds.length },
    );
    await this.scripts.run(
      'startSession',
      [this.keys.sessions(tenant), this.keys.eventStream(tenant), this.keys.audit(tenant)],
      [
        ...this.events.contextArgs(tenant, caller.actor, now),
        session.id,
        JSON.stringify(session),
        JSON.stringify(entry),
        this.audit.maxLen,
      ],
    );
    return { session, injection };
  }

  async get(caller: EngramCaller, id: string): Promise<SessionRecord> {
    const raw = await this.redis.hget(this.keys.sessions(caller.tenant), id);
    const session = raw === null ? undefined : normalize(JSON.parse(raw) as SessionRecord);
    if (!session || (session.started_by !== starter(caller) && !caller.isOrgAdmin))
      throw fail.notFound(`Session ${id} not found`);
    return session;
  }

  async end(
    caller: EngramCaller,
    id: string,
    input: { summary: string; learnings: Learning[] },
    request?: RequestRef,
  ): Promise<SessionRecord> {
    const { access, tenant } = caller;
    const session = await this.get(caller, id);
    if (session.status !== 'active') throw fail.conflict(`Session ${id} has already ended`);
    if (input.learnings.length > 0 && !access.canWrite(session.scope))
      throw fail.forbidden(`User does not have write access to scope ${session.scope}.`);
    const now = new Date();
    const learnings: ScriptArg[] = [];
    for (const learning of input.learnings) {
      const { statement, type } =
        typeof learning === 'string' ? { statement: learning, type: undefined } : learning;
      refuseSecrets(
        session.scope,
        access,
        { statement, rationale: null, source: null, locked_reason: null, domain: null, tags: session.tags },
        {},
      );
      const doc = newEngramDoc({
        statement,
        type: type ?? 'behavioral',
        scope: session.scope,
        status: 'candidate',
        domain: null,
        tags: session.tags,
        rationale: null,
        pinned: false,
        commitment: 'exploring',
        locked_reason: null,
        valid_from: null,
        valid_until: null,
        supersedes: [],
        source: `session:${id}`,
        session_id: id,
        ext: {},
        createdBy: caller.userId ?? 'admin',
        now,
      });
      const vector = this.embedder.inline ? (await this.embedder.embed([statement]))[0] : undefined;
      learnings.push(
        JSON.stringify(doc),
        dedupField(session.scope, doc.content_hash),
        vector ? vectorToBuffer(vector) : '',
      );
    }
    const episode = newEpisode(
      caller,
      { summary: input.summary, agent: null, channel: 'session', sessionId: id, tags: session.tags },
      'summary',
      now,
    );
    const episodeVector = await this.episodes.vectorOf(episode);
    const entry = this.audit.entry(
      auditContextOf(caller, request),
      'session.end',
      { type: 'session', id },
      'success',
      now,
      { scope: session.scope, learnings: input.learnings.length },
    );
    let created: string[];
    try {
      [, created] = await this.scripts.run<[string, string[], string[]]>(
        'endSession',
        [
          this.keys.docs(tenant),
          this.keys.vectors(tenant),
          this.keys.engramHashes(tenant),
          this.keys.engramIdCounter(tenant, dayOf(now)),
          this.keys.eventStream(tenant),
          this.keys.sessions(tenant),
          this.keys.episodes(tenant),
          this.keys.stats(tenant),
          this.keys.agents(tenant),
          this.keys.userDocs(tenant, episode.user_id ?? ''),
          this.keys.audit(tenant),
        ],
        [
          ...this.events.contextArgs(tenant, caller.actor, now),
          id,
          input.summary,
          dayOf(now),
          episode.id,
          JSON.stringify(episode),
          episodeVector ? vectorToBuffer(episodeVector) : '',
          episode.ts,
          episode.user_id ?? '',
          input.learnings.length,
          ...learnings,
          JSON.stringify(entry),
          this.audit.maxLen,
        ],
      );
    } catch (err) {
      if (err instanceof ScriptError && err.kind === 'invalid_state')
        throw fail.conflict(`Session ${id} has already ended`);
      if (err instanceof ScriptError && err.kind === 'not_found')
        throw fail.notFound(`Session ${id} not found`);
      throw err;
    }
    await this.episodes.embedLater(tenant, episode);
    if (!this.embedder.inline && created.length > 0) {
      const docs = await this.redis.hmget(this.keys.docs(tenant), ...created);
      const items = created.map((engramId, i) => ({ id: engramId, text: textOf(docs[i] ?? null) }));
      await this.background.embed(
        tenant,
        items.filter((item) => item.text !== ''),
      );
    }
    return this.get(caller, id);
  }
}

/** Who started a session: the user id, or "admin" for the admin key. */
const starter = (caller: EngramCaller): string => caller.userId ?? 'admin';

/** Lua writes empty arrays of a stored session as [] already; older records may lack the newer fields. */
function normalize(session: SessionRecord): SessionRecord {
  for (const field of ['tags', 'injected_ids', 'candidate_ids', 'repeated_ids'] as const)
    if (!Array.isArray(session[field])) session[field] = [];
  return session;
}

function textOf(json: string | null): string {
  if (json === null) return '';
  const doc = JSON.parse(json) as { statement?: unknown };
  return typeof doc.statement === 'string' ? doc.statement : '';
}
