import { AdminKeyVerifier, resolveAdminKey } from './auth/admin-key.js';
import { CredentialInvalidation } from './auth/invalidation.js';
import { LayerKeyService } from './auth/layer-keys.js';
import { RateLimiter } from './auth/rate-limiter.js';
import type { Config } from './config.js';
import { buildAuthenticators } from './http/authenticators.js';
import type { AnyRoute } from './http/route.js';
import { buildRoutes } from './http/routes/index.js';
import { HttpServer } from './http/server.js';
import type { Logger } from './log.js';
import { EventLog } from './memory/event-log.js';
import { RedisFactory, waitUntilReady } from './redis/clients.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.js';
import { RedisHealth } from './redis/health.js';
import { Keys } from './redis/keys.js';
import { PubSub } from './redis/pubsub.js';
import { Scripts } from './redis/scripts.js';
import type { Services } from './services.js';
import { eventEndpoints } from './ws/endpoints.js';
import { EventServer } from './ws/event-server.js';
import { Fanout } from './ws/fanout.js';

/**
 * Composition root: config -> redis -> scripts -> services -> http -> signals (in main.ts).
 * `startMnemo` is also what tests call to run a real instance on port 0.
 */
export interface StartOptions {
  /** Extra routes mounted beside the real ones (tests use this for a handler that throws). */
  extraRoutes?: (services: Services) => AnyRoute[];
  /** How long to wait for Redis at start before giving up. */
  redisReadyTimeoutMs?: number;
}

export interface Mnemo {
  readonly port: number;
  readonly url: string;
  readonly redisUrl: string;
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
  const redisUrl =
    target.kind === 'url' ? target.url : target.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  const factory = new RedisFactory(target, log);
  try {
    const command = factory.create('command');
    await waitUntilReady(command, options.redisReadyTimeoutMs ?? 30_000).catch((err: Error) => {
      throw new Error(`Cannot reach Redis at ${redisUrl}: ${err.message}`);
    });
    const keys = new Keys(config.keyPrefix);
    const scripts = new Scripts(command);
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

    const services: Services = {
      config,
      log,
      startedAt,
      redisHealth: new RedisHealth(command),
      adminKey: new AdminKeyVerifier(await resolveAdminKey(config.adminKey, config.dataDir, log)),
      layerKeys,
      events: new EventLog(command, scripts, keys, config.eventStreamMaxLen),
    };

    const routes = buildRoutes(services, options.extraRoutes?.(services) ?? []);
    const http = new HttpServer(routes, {
      host: config.host,
      port: config.port,
      bodyLimitBytes: config.bodyLimitBytes,
      corsOrigins: config.corsOrigins,
      log,
      authenticators: buildAuthenticators(services),
      rateLimiter: new RateLimiter(scripts, keys),
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
      await factory.closeAll();
      await embedded?.stop();
    };
    return {
      port,
      url: `http://${config.host}:${port}`,
      redisUrl,
      services,
      routes,
      eventServer,
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await factory.closeAll();
    await embedded?.stop();
    throw err;
  }
}
