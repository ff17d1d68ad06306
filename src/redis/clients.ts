import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config.js';
import type { Logger } from '../log.js';

export type RedisClient = Redis | Cluster;

/**
 * Connection roles. Each role gets its own connection because their needs conflict:
 * - command:    request-path commands. Each waits at most the command timeout, then the request answers
 *               503. A connection that gets no byte back for that long is dropped (Redis hangs, e.g.
 *               stopped or swapping): while it reconnects every command fails at once, so requests answer
 *               503 at once and nothing piles up in memory. No offline queue, no retry, and a command that
 *               was sent but not answered is never sent again after a reconnect: a write script that timed
 *               out may still run when Redis resumes, and sending it again would apply it twice.
 * - producer:   BullMQ queues that requests add jobs to: the same bounds as `command` (only BullMQ's
 *               workers need maxRetriesPerRequest: null).
 * - subscriber: pub/sub; queues while reconnecting and re-subscribes by itself. On a cluster it also keeps
 *               one connection per master for shard channels (SSUBSCRIBE), moved along with their slots.
 * - blocking:   long-running reads (XREAD BLOCK) that must not delay request-path commands.
 * - bullmq:     BullMQ workers, which require maxRetriesPerRequest: null.
 */
export type RedisRole = 'command' | 'producer' | 'subscriber' | 'blocking' | 'bullmq';

export interface RedisFactoryOptions {
  /** The longest a request-path command may wait for Redis (MNEMO_REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs: number;
  /** Told of every connection error, by role (metrics). */
  onConnectionError?: (role: RedisRole) => void;
}

const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

function roleOptions(role: RedisRole, commandTimeoutMs: number): RedisOptions {
  switch (role) {
    case 'command':
    case 'producer':
      return {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: commandTimeoutMs,
        socketTimeout: commandTimeoutMs,
      };
    case 'subscriber':
      return { enableOfflineQueue: true, maxRetriesPerRequest: null };
    case 'blocking':
      return { enableOfflineQueue: true, maxRetriesPerRequest: null };
    case 'bullmq':
      return { enableOfflineQueue: true, maxRetriesPerRequest: null };
  }
}

/** Builds connections for one Redis deployment (standalone URL or cluster), named by role for the logs. */
export class RedisFactory {
  private readonly clients = new Set<RedisClient>();

  constructor(
    private readonly target: Exclude<RedisTarget, { kind: 'embedded' }>,
    private readonly log: Logger,
    private readonly options: RedisFactoryOptions,
  ) {}

  create(role: RedisRole): RedisClient {
    const base: RedisOptions = {
      ...roleOptions(role, this.options.commandTimeoutMs),
      connectionName: `mnemo:${role}`,
      retryStrategy,
      connectTimeout: 5000,
      lazyConnect: false,
    };
    let client: RedisClient;
    if (this.target.kind === 'cluster') {
      const options: ClusterOptions = {
        clusterRetryStrategy: retryStrategy,
        enableOfflineQueue: base.enableOfflineQueue ?? true,
        // Per-workspace channels are shard channels: each is subscribed on the master that owns its slot.
        ...(role === 'subscriber' ? { shardedSubscribers: true } : {}),
        redisOptions: {
          ...base,
          ...(this.target.password ? { password: this.target.password } : {}),
          ...(this.target.tls ? { tls: {} } : {}),
        },
      };
      client = new Cluster(this.target.nodes, options);
    } else {
      client = new Redis(this.target.url, base);
    }
    let wasReady = false;
    client.on('ready', () => {
      if (wasReady) this.log.info({ role }, 'redis connection restored');
      wasReady = true;
    });
    client.on('error', (err: Error) => {
      this.options.onConnectionError?.(role);
      this.log.debug({ role, err: err.message }, 'redis connection error');
    });
    client.on('end', () => this.clients.delete(client));
    this.clients.add(client);
    return client;
  }

  /** Closes every connection this factory made (QUIT, then disconnect if QUIT cannot be sent). */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.clients].map(async (client) => {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }),
    );
    this.clients.clear();
  }

  /** Drops every connection at once, without QUIT (when Redis does not answer). */
  disconnectAll(): void {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
  }
}

/** The oldest Redis mnemo runs on: the write scripts publish with SPUBLISH (Redis 7). */
export const MIN_REDIS_VERSION = 7;

/** The server version in an `INFO server` reply ("7.0.15"), or undefined when it names none. */
export function redisVersionOf(info: string): string | undefined {
  return /^redis_version:(\d+\.\d+\.\d+)/m.exec(info)?.[1];
}

/**
 * Refuses a Redis older than MIN_REDIS_VERSION before anything runs on it: an older server fails the
 * write scripts at their SPUBLISH, after the writes before it were applied. On a cluster, asks one node.
 * Resolves undefined when the credential may not run INFO (an ACL without it): the check is then skipped.
 */
export async function requireRedisVersion(client: RedisClient): Promise<string | undefined> {
  let info: string;
  try {
    info = await client.info('server');
  } catch (err) {
    if (err instanceof Error && /NOPERM/.test(err.message)) return undefined;
    throw err;
  }
  const version = redisVersionOf(info);
  if (!version) throw new Error('Redis did not report its version (INFO server has no redis_version)');
  if (Number(version.split('.')[0]) < MIN_REDIS_VERSION) {
    throw new Error(`Redis ${version} is too old: mnemo needs ${MIN_REDIS_VERSION}.0 or newer`);
  }
  return version;
}

/** Errors no retry can cure: a wrong or missing password, or a user without the needed rights. */
const CREDENTIAL_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username-password|NOPERM|ERR AUTH/i;

/**
 * Resolves once the client is ready; rejects after `timeoutMs`, or at once when Redis refuses the
 * credentials (ioredis would otherwise retry quietly until the timeout and only say "not ready").
 */
export function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      if (!CREDENTIAL_ERROR.test(err.message)) return;
      cleanup();
      reject(new Error(`Redis refused the credentials: ${err.message}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

const CONNECTION_ERROR =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|max retries per request|MaxRetriesPerRequest|LOADING|All nodes failed|ClusterAllFailed|Command timed out|Socket timeout|enableOfflineQueue|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|Too many Cluster redirections|Node is disconnected|Cluster is disconnected|None of startup nodes|Failed to refresh slots cache|slots allocation group|READONLY|\bMOVED \d+|\bASK \d+|WriteNotReplicated/i;

/** True for errors that mean "Redis cannot be reached right now" (answered 503), as opposed to bugs. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return CONNECTION_ERROR.test(err.name) || CONNECTION_ERROR.test(err.message);
}
