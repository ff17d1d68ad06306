import type { Config } from '../../config.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { Scripts } from '../../redis/scripts.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BackgroundWork } from '../background.js';
import type { Embedder } from '../embedders/embedder.js';
import { QueryEmbedder } from '../embedders/query-embedder.js';
import type { EventLog } from '../event-log.js';
import type { ReadCounter } from '../insights/activity-counters.js';
import type { IndexManager } from '../search/index-manager.js';
import { EngramActions } from './engram-actions.js';
import { EngramHistory } from './engram-history.js';
import { EngramInject } from './engram-inject.js';
import { EngramList } from './engram-list.js';
import { EngramRecall } from './engram-recall.js';
import { EngramStore } from './engram-store.js';
import { EngramWriter } from './engram-writes.js';
import { EngramEpisodes } from './episodes.js';
import { Sessions } from './sessions.js';

/** The engram API's domain services, assembled once by the composition root on top of the memory engine. */
export interface EngramEngine {
  writer: EngramWriter;
  actions: EngramActions;
  list: EngramList;
  recall: EngramRecall;
  inject: EngramInject;
  episodes: EngramEpisodes;
  sessions: Sessions;
  /** An engram's change history from the event stream (MCP plur_history). */
  history: EngramHistory;
}

export interface EngramEngineDeps {
  config: Readonly<Config>;
  redis: RedisClient;
  scripts: Scripts;
  keys: Keys;
  events: EventLog;
  embedder: Embedder;
  background: BackgroundWork;
  /** The memory engine's index manager: engrams are documents of the same workspace index. */
  indexes: IndexManager;
  audit: AuditLog;
  /** The organisation's insight counters (recall and inject volume); absent: not counted. */
  activity?: ReadCounter;
}

/** Inject defaults (plur.md §1.7): 2000 tokens; sessions inject with the same. */
export const INJECT_DEFAULT_BUDGET = 2000;
export const INJECT_DEFAULT_MAX_ENGRAMS = 20;

export function createEngramEngine(deps: EngramEngineDeps): EngramEngine {
  const { config, redis, scripts, keys, events, embedder, background, indexes, audit, activity } = deps;
  const store = new EngramStore(redis, scripts, keys, events, audit.maxLen);
  const queries = new QueryEmbedder(embedder);
  const inject = new EngramInject(indexes, queries, store, config.embedTimeoutMs, activity);
  const episodes = new EngramEpisodes(redis, scripts, keys, events, embedder, background);
  const actions = new EngramActions(store, audit);
  return {
    writer: new EngramWriter(store, embedder, background, audit, { extMaxBytes: config.metadataMaxBytes }),
    actions,
    list: new EngramList(indexes, store),
    recall: new EngramRecall(indexes, queries, store, { relevanceFloor: config.relevanceFloor }, activity),
    inject,
    episodes,
    sessions: new Sessions(
      redis,
      scripts,
      keys,
      events,
      inject,
      episodes,
      embedder,
      background,
      {
        injectBudget: INJECT_DEFAULT_BUDGET,
        injectMaxEngrams: INJECT_DEFAULT_MAX_ENGRAMS,
      },
      audit,
    ),
    history: new EngramHistory(events, actions),
  };
}
