import { Cluster } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdminKeyVerifier, resolveAdminKey } from './auth/admin-key.js';
import { AuditAdmin } from './auth/audit-admin.js';
import { AuthFailureLimiter } from './auth/auth-failure-limiter.js';
import { EngramAuthenticator, INVALID_TOKEN } from './auth/engram-auth.js';
import { GroupService } from './auth/groups.js';
import { ScopeMetadataService } from './auth/scope-metadata.js';
import { CredentialInvalidation } from './auth/invalidation.js';
import { LayerKeyService } from './auth/layer-keys.js';
import { OwnKeyService } from './auth/own-keys.js';
import { PlurKeyService } from './auth/plur-keys.js';
import { ScimTokenService } from './auth/scim-tokens.js';
import { UserService } from './auth/users.js';
import { IdentityProviders } from './auth/oidc/identity-providers.js';
import { JwtCredentials } from './auth/oidc/jwt-credentials.js';
import { OidcLogin } from './auth/oidc/oidc-login.js';
import { oidcIssuers } from './auth/oidc/oidc-settings.js';
import { OidcUsers } from './auth/oidc/oidc-users.js';
import { SessionService } from './auth/oidc/session-service.js';
import { SessionTokens } from './auth/oidc/session-tokens.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { describeRedisTarget, type Config } from './config.js';
import { buildAuthenticators } from './http/authenticators.js';
import type { AnyRoute } from './http/route.js';
import { buildRoutes } from './http/routes/index.js';
import { HttpServer } from './http/server.js';
import { McpEndpoint } from './http/mcp/endpoint.js';
import { RequestLog } from './http/request-log.js';
import { QueueDepth } from './jobs/queue-depth.js';
import { MetricsAccess } from './auth/metrics-access.js';
import { Metrics } from './metrics/metrics.js';
import { groupMetrics } from './metrics/process-group.js';
import { watchSources } from './metrics/scrape-sources.js';
import { Readiness } from './readiness.js';
import { loadConsole } from './http/console-site.js';
import { ReembedJobs } from './jobs/reembed-jobs.js';
import { PackJobs } from './jobs/pack-jobs.js';
import type { Logger } from './log.js';
import { AuditLog } from './memory/audit/audit-log.js';
import { AuditQuery } from './memory/audit/audit-query.js';
import { createEngramEngine } from './memory/engrams/engine.js';
import { PackExporter } from './memory/packs/pack-export.js';
import { PackService } from './memory/packs/pack-service.js';
import { PackStore } from './memory/packs/pack-store.js';
import { RedisFactory, requireRedisVersion, waitUntilReady } from './redis/clients.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.js';
import { RedisHealth } from './redis/health.js';
import { ScimGroupService } from './scim/scim-groups.js';
import { ScimUserService } from './scim/scim-users.js';
import { PubSub } from './redis/pubsub.js';
import { openMemoryRuntime } from './runtime.js';
import type { Services } from './services.js';
import { StartupRefused } from './startup-refused.js';
import { eventEndpoints } from './ws/endpoints.js';
import { EventServer } from './ws/event-server.js';
import { Fanout } from './ws/fanout.js';
import { WebhookDispatcher } from './jobs/webhook-dispatcher.js';
import { webhookOwnerPrincipal } from './auth/webhook-owner.js';
import { openWebhooks } from './webhook-runtime.js';
import { AccessAudit } from './auth/access-audit.js';
import { ActivityCounters } from './memory/insights/activity-counters.js';
import { Insights } from './memory/insights/insights-report.js';

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
  const metrics = new Metrics();
  const factory = new RedisFactory(target, log, {
    commandTimeoutMs: config.redisCommandTimeoutMs,
    onConnectionError: (role) => metrics.redisConnectionError(role),
  });
  const closers: (() => Promise<void>)[] = [];
  try {
    const command = factory.create('command');
    await waitUntilReady(command, options.redisReadyTimeoutMs ?? 30_000).catch((err: Error) => {
      throw new StartupRefused(`Cannot reach Redis at ${redisAddress}: ${err.message}`);
    });
    const redisVersion = await requireRedisVersion(command).catch((err: Error) => {
      throw new StartupRefused(`Redis at ${redisAddress}: ${err.message}`);
    });
    if (!redisVersion)
      log.warn('may not run INFO on Redis: its version (7.0 or newer needed) is not checked');
    const runtime = await openMemoryRuntime(config, log, factory, command, {
      workers: config.jobs === 'inline',
      observer: { indexes: metrics.indexes, jobs: metrics.jobs },
    });
    closers.push(() => runtime.close());
    const { keys, scripts, events, embedder, queues, engine } = runtime;
    const subscriber = factory.create('subscriber');
    // A standalone Redis gets a second subscriber connection for shard channels (see PubSub).
    const pubsub = new PubSub(
      subscriber,
      log,
      subscriber instanceof Cluster ? undefined : factory.create('subscriber'),
    );
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
    const adminKeyValue = await resolveAdminKey(config.adminKey, config.dataDir, log);
    const adminKey = new AdminKeyVerifier(adminKeyValue);
    const audit = new AuditLog(
      command,
      keys,
      {
        maxLen: config.auditMaxLen,
        maxAgeMs: config.auditMaxAgeDays * 86_400_000,
        ipHashKey: config.auditHashIps ? adminKey.derive('audit-ip') : null,
      },
      log,
    );
    // Called only after engramAuth exists (by writes, never during construction).
    const invalidateLocal = (tag: string): void => engramAuth.invalidation.invalidate(tag);
    const identityDeps = { redis: command, scripts, keys, events, audit, invalidateLocal };
    const users = new UserService(identityDeps);
    const groups = new GroupService(identityDeps);
    const plurKeys = new PlurKeyService(command, scripts, keys, users, events, audit, invalidateLocal, log);
    // Single sign-on: sessions minted here (HS256) and access tokens of the trusted IdPs (JWKS).
    const sessionTokens = new SessionTokens(
      config.sessionSecrets,
      config.sessionTtlSeconds,
      config.oidcClockSkewSeconds,
    );
    const identityProviders = new IdentityProviders(oidcIssuers(config), {
      jwksCooldownMs: config.oidcJwksCooldownMs,
      skewSeconds: config.oidcClockSkewSeconds,
    });
    const oidcUsers = new OidcUsers(identityDeps, users, groups);
    const jwtCredentials = new JwtCredentials(
      sessionTokens,
      identityProviders,
      oidcUsers,
      command,
      keys,
      log,
      INVALID_TOKEN,
    );
    const engramAuth = new EngramAuthenticator(
      adminKey,
      plurKeys,
      users,
      groups,
      {
        defaultOrg: config.defaultOrg,
        rpm: config.engramRateLimitRpm,
        writeRpm: config.engramWriteRateLimitRpm,
        cacheTtlMs: config.credentialCacheTtlMs,
      },
      jwtCredentials,
    );
    invalidation.register(engramAuth.invalidation);
    const scimTokens = new ScimTokenService(
      command,
      scripts,
      keys,
      events,
      audit,
      { rpm: config.engramRateLimitRpm, cacheTtlMs: config.credentialCacheTtlMs },
      log,
    );
    invalidation.register(scimTokens.invalidation);

    const reembed = new ReembedJobs({
      connection: factory.create('producer'),
      prefix: keys.bullPrefix(),
      log,
      attempts: config.jobAttempts,
      backoffMs: config.jobBackoffMs,
    });
    closers.push(() => reembed.close());

    // Packs: large installs run as jobs on a worker in every server process (they need the engram domain).
    const packJobs = new PackJobs({ connection: factory.create('producer'), prefix: keys.bullPrefix(), log });
    closers.push(() => packJobs.close());
    const packStore = new PackStore(command, scripts, keys, events, config.auditMaxLen);
    const packs = new PackService(packStore, embedder, queues, audit, packJobs, {
      maxBytes: config.packMaxBytes,
      inlineMaxEngrams: config.packInlineMaxEngrams,
    });
    packJobs.startWorker(packs, factory.create('bullmq'), log);
    // Webhooks: every server dispatches (one per tenant at a time, by lease); workers deliver where jobs run.
    const webhooks = openWebhooks({
      config,
      log,
      factory,
      command,
      scripts,
      keys,
      events,
      audit,
      adminKey: adminKeyValue,
    });
    closers.push(() => webhooks.close());
    if (config.jobs === 'inline') {
      const webhookWorker = webhooks.startWorker();
      closers.push(() => webhookWorker.close());
    }
    const dispatcher = new WebhookDispatcher(
      {
        store: webhooks.store,
        events,
        queue: webhooks.jobs,
        pubsub,
        log,
        ownerPrincipal: (org, owner) => webhookOwnerPrincipal(users, groups, org, owner),
      },
      { pollMs: config.webhookPollMs, leaseMs: config.webhookLeaseMs, pageSize: 200 },
    );
    dispatcher.start();
    closers.push(() => dispatcher.close());
    const queueDepth = new QueueDepth({
      connection: factory.create('producer'),
      prefix: keys.bullPrefix(),
      log,
    });
    closers.push(() => queueDepth.close());
    // Insights: per-day counters written as things happen; denials and 429s audited on the engram face.
    const activity = new ActivityCounters(command, scripts, keys, log, config.auditMaxLen);
    closers.push(() => activity.flush());
    const accessAudit = new AccessAudit(audit, activity);
    const redisHealth = new RedisHealth(command);
    const readiness = new Readiness(redisHealth, scripts);

    const services: Services = {
      config,
      log,
      startedAt,
      redisHealth,
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
        activity,
      }),
      scimTokens,
      scimUsers: new ScimUserService(users, groups),
      scimGroups: new ScimGroupService(groups, users),
      auditAdmin: new AuditAdmin(audit, new AuditQuery(command, audit)),
      packs,
      packExport: new PackExporter(packStore, audit),
      packJobs,
      webhooks: webhooks.service,
      metrics,
      metricsAccess: new MetricsAccess(adminKey, config.metricsToken, config.metricsPublic),
      // A process of a MNEMO_PROCESSES group answers for the whole group.
      metricsText: options.sharedPort ? groupMetrics(metrics.registry) : () => metrics.registry.metrics(),
      readiness,
      oidcLogin: new OidcLogin(identityProviders, sessionTokens, oidcUsers, audit, config.oidcScopes),
      sessions: new SessionService(identityDeps, config.oidcClockSkewSeconds),
      insights: new Insights(engine.indexes, activity, webhooks.store, config.webhookDeliveryLogSize),
    };

    const routes = buildRoutes(services, options.extraRoutes?.(services) ?? []);
    const authFailures = new AuthFailureLimiter(scripts, keys, {
      burst: config.authFailureBurst,
      refillMs: config.authFailureRefillMs,
    });
    const authenticators = buildAuthenticators(services);
    const rateLimiter = new RateLimiter(scripts, keys);
    const http = new HttpServer(routes, {
      host: config.host,
      port: config.port,
      bodyLimitBytes: config.bodyLimitBytes,
      corsOrigins: config.corsOrigins,
      log,
      authenticators,
      rateLimiter,
      sharedPort: options.sharedPort ?? false,
      authFailures,
      metrics,
      requestLog: new RequestLog(log, config.logRequests, config.slowRequestMs),
      staticSites: await loadConsole(config.consoleDir, log),
      access: accessAudit,
      tracing: runtime.tracing,
    });
    // MCP (Streamable HTTP, stateless): the tools call the same route handlers, as the caller.
    const mcp = new McpEndpoint({
      services,
      compiled: http.compiled,
      authenticators,
      rateLimiter,
      authFailures,
      access: accessAudit,
    });
    http.mountFetch('/mcp', 'engram', mcp.handle);
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
    watchSources(metrics.registry, {
      indexes: () => {
        const usage = engine.indexes.usage();
        let docs = 0;
        let vectors = 0;
        for (const index of engine.indexes.details()) {
          docs += index.docs;
          vectors += index.vectors;
        }
        return { ...usage, docs, vectors };
      },
      eventStream: () => ({
        socketsOpen: eventServer.socketCount,
        workspacesFollowed: eventServer.workspaceCount,
        ...eventServer.stats,
      }),
      credentialCaches: { layer: layerKeys.cache, engram: engramAuth.cache },
      queueDepth: () => queueDepth.counts(),
      redisRoundTrip: () => redisHealth.roundTrip(),
    });
    const port = await http.listen();

    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      // First: /readyz answers 503 from now on, so a load balancer stops sending traffic.
      readiness.markShuttingDown();
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
