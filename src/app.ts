import { setTimeout as sleep } from 'node:timers/promises';
import { AdminKeyVerifier, resolveAdminKey } from './auth/admin-key.js';
import { AuthFailureLimiter } from './auth/auth-failure-limiter.js';
import { EngramAuthenticator } from './auth/engram-auth.js';
import { GroupService } from './auth/groups.js';
import { ScopeMetadataService } from './auth/scope-metadata.js';
import { CredentialInvalidation } from './auth/invalidation.js';
import { LayerKeyService } from './auth/layer-keys.js';
import { OwnKeyService } from './auth/own-keys.js';
import { PlurKeyService } from './auth/plur-keys.js';
import { UserService } from './auth/users.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { describeRedisTarget, type Config } from './config.js';
import { buildAuthenticators } from './http/authenticators.js';
import type { AnyRoute } from './http/route.js';
import { buildRoutes } from './http/routes/index.js';
import { HttpServer } from './http/server.js';
import { loadConsole } from './http/console-site.js';
import { ReembedJobs } from './jobs/reembed-jobs.js';
import type { Logger } from './log.js';
import { AuditLog } from './memory/audit/audit-log.js';
import { createEngramEngine } from './memory/engrams/engine.js';
import { RedisFactory, waitUntilReady } from './redis/clients.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.js';
import { RedisHealth } from './redis/health.js';
import { PubSub } from './redis/pubsub.js';
import { openMemoryRuntime } from './runtime.js';
import type { Services } from './services.js';
import { StartupRefused } from './startup-refused.js';
import { eventEndpoints } from './ws/endpoints.js';
import { EventServer } from './ws/event-server.js';
import { Fanout } from './ws/fanout.js';

/** At shutdown, how long closing queues and Redis connections may take before they are dropped. */
const RELEASE_TIMEOUT_MS = 5000;

/**
 * Composition root: config -> redis -> scripts -> services -> http -> signals (in main.ts).
 * `startMnemo` is also what tests call to run a real instance on port 0.
 */
export interface StartOptions {
  /** Extra routes mounted beside the real ones (tests use this for a handler that throws). */
  extraRoutes?: (services: Services) => AnyRoute[];
  /** How long to wait for Redis at start before giving up. */
  redisReadyTimeoutMs?: number;
  /** A server process of a MNEMO_PROCESSES group: it shares the port with its siblings. */
  sharedPort?: boolean;
}

export interface Mnemo {
  readonly port: number;
  readonly url: string;
  /** Where its Redis is (no credentials). */
  readonly redisAddress: string;
  readonly services: Services;
  /** The route table this instance serves. */
  readonly routes: readonly AnyRoute[];
  /** The WebSocket event stream of this instance (/v1/events). */
  readonly eventServer: EventServer;
  /** Graceful stop: stop accepting, drain in-flight requests, close connections and Redis. */
  close(): Promise<void>;
}

export async function startMnemo(
  config: Readonly<Config>,
  log: Logger,
  options: StartOptions = {},
): Promise<Mnemo> {
  const startedAt = Date.now();
  let embedded: EmbeddedRedis | undefined;
  let target = config.redis;
  if (target.kind === 'embedded') {
    embedded = await startEmbeddedRedis({ bin: config.redisServerBin, dataDir: config.dataDir, log });
    target = { kind: 'url', url: embedded.url };
  }
  const redisAddress = describeRedisTarget(target);
  const factory = new RedisFactory(target, log, { commandTimeoutMs: config.redisCommandTimeoutMs });
  const closers: (() => Promise<void>)[] = [];
  try {
    const command = factory.create('command');
    await waitUntilReady(command, options.redisReadyTimeoutMs ?? 30_000).catch((err: Error) => {
      throw new StartupRefused(`Cannot reach Redis at ${redisAddress}: ${err.message}`);
    });
    const runtime = await openMemoryRuntime(config, log, factory, command, {
      workers: config.jobs === 'inline',
    });
    closers.push(() => runtime.close());
    const { keys, scripts, events, embedder, queues, engine } = runtime;
    const pubsub = new PubSub(factory.create('subscriber'), log);
    const invalidation = new CredentialInvalidation(pubsub, keys);
    await invalidation.start();

    const layerKeys = new LayerKeyService(
      command,
      scripts,
      keys,
      config.layerRateLimitRpm,
      config.credentialCacheTtlMs,
      log,
    );
    invalidation.register(layerKeys.cache);

    // Engram API: identities and keys publish invalidations; this instance applies its own at once too.
    const adminKey = new AdminKeyVerifier(await resolveAdminKey(config.adminKey, config.dataDir, log));
    const audit = new AuditLog(command, keys, config.auditMaxLen, log);
    // Called only after engramAuth exists (by writes, never during construction).
    const invalidateLocal = (tag: string): void => engramAuth.invalidation.invalidate(tag);
    const identityDeps = { redis: command, scripts, keys, events, audit, invalidateLocal };
    const users = new UserService(identityDeps);
    const groups = new GroupService(identityDeps);
    const plurKeys = new PlurKeyService(command, scripts, keys, users, events, audit, invalidateLocal, log);
    const engramAuth = new EngramAuthenticator(adminKey, plurKeys, users, groups, {
      defaultOrg: config.defaultOrg,
      rpm: config.engramRateLimitRpm,
      writeRpm: config.engramWriteRateLimitRpm,
      cacheTtlMs: config.credentialCacheTtlMs,
    });
    invalidation.register(engramAuth.invalidation);

    const reembed = new ReembedJobs({
      connection: factory.create('producer'),
      prefix: keys.bullPrefix(),
      log,
      attempts: config.jobAttempts,
      backoffMs: config.jobBackoffMs,
    });
    closers.push(() => reembed.close());

    const services: Services = {
      config,
      log,
      startedAt,
      redisHealth: new RedisHealth(command),
      adminKey,
      layerKeys,
      events,
      memory: engine.memory,
      recall: engine.recall,
      reembed,
      engramAuth,
      users,
      groups,
      scopeMetadata: new ScopeMetadataService(identityDeps),
      plurKeys,
      ownKeys: new OwnKeyService(plurKeys, audit),
      audit,
      engrams: createEngramEngine({
        config,
        redis: command,
        scripts,
        keys,
        events,
        embedder,
        background: queues,
        indexes: engine.indexes,
        audit,
      }),
    };

    const routes = buildRoutes(services, options.extraRoutes?.(services) ?? []);
    const authFailures = new AuthFailureLimiter(scripts, keys, {
      burst: config.authFailureBurst,
      refillMs: config.authFailureRefillMs,
    });
    const http = new HttpServer(routes, {
      host: config.host,
      port: config.port,
      bodyLimitBytes: config.bodyLimitBytes,
      corsOrigins: config.corsOrigins,
      log,
      authenticators: buildAuthenticators(services),
      rateLimiter: new RateLimiter(scripts, keys),
      sharedPort: options.sharedPort ?? false,
      authFailures,
      staticSites: await loadConsole(config.consoleDir, log),
    });
    const eventServer = new EventServer(http.app, eventEndpoints(services), {
      limits: {
        maxPayloadBytes: config.wsMaxPayloadBytes,
        idleTimeoutSeconds: config.wsIdleTimeoutSeconds,
        maxBackpressureBytes: config.wsMaxBackpressureBytes,
        maxSocketsPerCredential: config.wsMaxSocketsPerCredential,
        maxSubscriptionsPerSocket: config.wsMaxSubscriptionsPerSocket,
      },
      maxEventBytes: config.bodyLimitBytes,
      fanout: new Fanout(services.events, pubsub, log),
      authFailures,
      log,
    });
    invalidation.register(eventServer);
    const port = await http.listen();

    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      http.stopAccepting();
      // Event sockets never finish by themselves: tell them to resume elsewhere (1001) right away.
      eventServer.close();
      const drained = await http.drain(config.shutdownTimeoutMs);
      if (!drained)
        log.warn({ inFlight: http.requestsInFlight }, 'shutdown timeout: closing with requests in flight');
      http.closeConnections();
      // Closing queues and connections waits for Redis to answer; with Redis gone it would wait forever.
      const released = (async () => {
        for (const closer of closers.reverse()) await closer().catch(() => undefined);
        await factory.closeAll();
        return true;
      })();
      const inTime = await Promise.race([released, sleep(RELEASE_TIMEOUT_MS, false, { ref: false })]);
      if (!inTime) {
        log.warn('shutdown: Redis did not answer, connections closed without waiting');
        factory.disconnectAll();
      }
      await embedded?.stop();
    };
    return {
      port,
      url: `http://${config.host}:${port}`,
      redisAddress,
      services,
      routes,
      eventServer,
      close: () => (closing ??= close()),
    };
  } catch (err) {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    await factory.closeAll();
    await embedded?.stop();
    throw err;
  }
}
