import { loadConfigOrExit } from './config.js';
import { createLogger } from './log.js';
import { RedisFactory, waitUntilReady } from './redis/clients.js';
import { openMemoryRuntime } from './runtime.js';
import { resolveAdminKey } from './auth/admin-key.js';
import { AuditLog } from './memory/audit/audit-log.js';
import { openWebhooks } from './webhook-runtime.js';

/**
 * `npm run worker`: the background workers only (embedding with slow embedders, LLM fact extraction, the
 * expiry sweep, webhook deliveries), for deployments that run servers with MNEMO_JOBS=off and scale workers on their own.
 * It needs REDIS_URL: the embedded Redis belongs to a server process.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.redis.kind === 'embedded') {
    process.stderr.write(
      'mnemo worker: set REDIS_URL to the Redis your servers use (a worker starts no Redis of its own).\n',
    );
    process.exit(2);
  }
  const log = createLogger(config.logLevel, 'mnemo-worker');
  const factory = new RedisFactory(config.redis, log, { commandTimeoutMs: config.redisCommandTimeoutMs });
  const command = factory.create('command');
  try {
    await waitUntilReady(command, 30_000);
  } catch (err) {
    log.fatal({ err }, 'cannot reach Redis');
    process.exit(1);
  }
  const runtime = await openMemoryRuntime(config, log, factory, command, { workers: true });
  // Webhook deliveries too; their secrets' key comes from MNEMO_WEBHOOK_SECRET_KEY or the admin key, as on
  // the servers (a generated admin key is read from MNEMO_DATA_DIR).
  const webhooks = openWebhooks({
    config,
    log,
    factory,
    command,
    scripts: runtime.scripts,
    keys: runtime.keys,
    events: runtime.events,
    // The worker's entries (a webhook disabled by its deliveries) carry no client address to hash.
    audit: new AuditLog(
      command,
      runtime.keys,
      { maxLen: config.auditMaxLen, maxAgeMs: config.auditMaxAgeDays * 86_400_000, ipHashKey: null },
      log,
    ),
    adminKey: config.webhookSecretKey ?? (await resolveAdminKey(config.adminKey, config.dataDir, log)),
  });
  const webhookWorker = webhooks.startWorker();
  log.info({ embedder: runtime.embedder.name }, 'mnemo worker is running');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void webhookWorker
      .close()
      .then(() => webhooks.close())
      .then(() => runtime.close())
      .then(() => factory.closeAll())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
