import os from 'node:os';
import path from 'node:path';
import { ConfigProblem, type Env, type VarDoc, bool, int, list, num, oneOf, str } from './config-spec.js';
import { isWorkspaceId } from './workspace.js';
import { oidcConfigProblems } from './auth/oidc/oidc-settings.js';

/**
 * The one place that reads process.env. Every variable is declared once below with its default, parser and
 * description; `loadConfig` validates all of them, reports every problem in one message, and returns a
 * frozen, typed object. The README's configuration table is generated from the same declarations
 * (`npm run config:docs`) and a test keeps the two in step.
 */
interface VarSpec<T> extends VarDoc {
  parse: (value: string) => T;
  fallback: T;
}

function declare<T>(
  name: string,
  fallback: T,
  parse: (value: string) => T,
  description: string,
  aliases: string[] = [],
): VarSpec<T> {
  const shown =
    fallback === undefined ? '(unset)' : Array.isArray(fallback) ? fallback.join(',') : String(fallback);
  return { name, fallback, parse, description, aliases, default: shown };
}

const optional = (value: string): string | undefined => (value.trim() === '' ? undefined : value.trim());

export const VARS = {
  host: declare('MNEMO_HOST', '127.0.0.1', str, 'Interface the HTTP and WebSocket server binds to.'),
  port: declare('MNEMO_PORT', 7700, int(0, 65535), 'Port of the server (0 picks a free one).'),
  env: declare(
    'MNEMO_ENV',
    'development',
    oneOf('development', 'local', 'test', 'staging', 'production'),
    'Deployment environment, reported by /health.',
  ),
  logLevel: declare(
    'MNEMO_LOG_LEVEL',
    'info',
    oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    'Log level (JSON lines on stdout).',
  ),
  dataDir: declare(
    'MNEMO_DATA_DIR',
    './data',
    str,
    'Directory for the generated admin key (admin.key) and the embedded Redis: AOF files and its password (redis/password, mode 0600).',
  ),
  redisUrl: declare(
    'REDIS_URL',
    undefined as string | undefined,
    optional,
    'External Redis: redis://, rediss://, unix:///path, or redis-cluster://host:port,host:port. Unset: start an embedded redis-server.',
  ),
  processes: declare(
    'MNEMO_PROCESSES',
    1,
    (value: string) => {
      if (value.trim().toLowerCase() === 'auto') return os.availableParallelism();
      return int(1, 256)(value);
    },
    'Server processes sharing the port (SO_REUSEPORT), each with its own search indexes; "auto" = one per CPU. Throughput scales with cores; memory for indexes multiplies.',
  ),
  keyPrefix: declare(
    'MNEMO_KEY_PREFIX',
    'mnemo',
    (value: string) => {
      if (!/^[A-Za-z0-9_.-]{1,32}$/.test(value))
        throw new ConfigProblem('expected 1-32 characters of [A-Za-z0-9_.-]');
      return value;
    },
    'Prefix of every Redis key and channel, so several deployments can share one Redis.',
  ),
  redisServerBin: declare(
    'MNEMO_REDIS_SERVER',
    'redis-server',
    str,
    'redis-server executable used for the embedded Redis (>= 7.0).',
  ),
  redisCommandTimeoutMs: declare(
    'MNEMO_REDIS_COMMAND_TIMEOUT_MS',
    2000,
    int(100, 600_000),
    'Longest a request waits for one Redis command; past it (or while Redis is unreachable) the request gets 503 with Retry-After, and a write may or may not have been applied.',
  ),
  redisWaitReplicas: declare(
    'MNEMO_REDIS_WAIT_REPLICAS',
    0,
    int(0, 16),
    'Replicas that must confirm each write script (Redis WAIT) before the request succeeds; 0 = asynchronous replication. A write not confirmed in time answers 503 (it may still persist).',
  ),
  redisWaitTimeoutMs: declare(
    'MNEMO_REDIS_WAIT_TIMEOUT_MS',
    1000,
    int(10, 60_000),
    'Longest a write waits for MNEMO_REDIS_WAIT_REPLICAS confirmations.',
  ),
  adminKey: declare(
    'MNEMO_ADMIN_KEY',
    undefined as string | undefined,
    optional,
    'Admin key for /admin/keys and the engram admin bootstrap. Unset: generated once and kept in <data dir>/admin.key (mode 0600).',
    ['PLYRA_ADMIN_API_KEY'],
  ),
  corsOrigins: declare(
    'MNEMO_CORS_ORIGINS',
    ['*'],
    list,
    'Comma-separated origins allowed by CORS, or * for any.',
    ['PLYRA_CORS_ORIGINS'],
  ),
  bodyLimitBytes: declare(
    'MNEMO_BODY_LIMIT_BYTES',
    1_048_576,
    int(1024, 512 * 1024 * 1024),
    'Largest accepted request body; larger bodies get 413.',
  ),
  shutdownTimeoutMs: declare(
    'MNEMO_SHUTDOWN_TIMEOUT_MS',
    10_000,
    int(0, 600_000),
    'How long shutdown waits for in-flight requests before closing connections.',
  ),
  layerRateLimitRpm: declare(
    'MNEMO_RATE_LIMIT_RPM',
    600,
    int(1, 10_000_000),
    'Default requests per minute of a layer-API key (a key may set its own rate_limit_rpm).',
    ['PLYRA_RATE_LIMIT_RPM'],
  ),
  engramRateLimitRpm: declare(
    'MNEMO_ENGRAM_RATE_LIMIT_RPM',
    600,
    int(1, 10_000_000),
    'Requests per minute per engram-API credential.',
  ),
  engramWriteRateLimitRpm: declare(
    'MNEMO_ENGRAM_WRITE_RATE_LIMIT_RPM',
    60,
    int(1, 10_000_000),
    'POST/PATCH requests per minute per engram-API credential.',
  ),
  defaultOrg: declare(
    'MNEMO_DEFAULT_ORG',
    'default',
    (value: string) => {
      if (!isWorkspaceId(value.trim())) throw new ConfigProblem('expected 1-64 characters of [A-Za-z0-9._-]');
      return value.trim();
    },
    'Organisation the admin key acts on in the engram API when a request names none (X-Mnemo-Org header).',
  ),
  auditMaxLen: declare(
    'MNEMO_AUDIT_MAXLEN',
    100_000,
    int(1_000, 100_000_000),
    'Audit entries kept per organisation (engram API admin actions, pins, key issue/revoke; approximate trim).',
  ),
  auditMaxAgeDays: declare(
    'MNEMO_AUDIT_MAX_AGE_DAYS',
    365,
    int(1, 36_500),
    'Audit entries older than this many days are trimmed (XTRIM MINID, on write), besides MNEMO_AUDIT_MAXLEN.',
  ),
  auditHashIps: declare(
    'MNEMO_AUDIT_HASH_IPS',
    false,
    bool,
    'Store client addresses in audit entries as a keyed hash (HMAC-SHA256 keyed from the admin key) instead of in clear.',
  ),
  authFailureBurst: declare(
    'MNEMO_AUTH_FAILURE_BURST',
    20,
    int(0, 1_000_000),
    'Failed authentications one client address may make back to back (HTTP and event-stream upgrades, shared by every instance); then 429 with Retry-After. 0 turns the limit off.',
  ),
  authFailureRefillMs: declare(
    'MNEMO_AUTH_FAILURE_REFILL_MS',
    6_000,
    int(1, 3_600_000),
    'After the burst, one more failed authentication per address is allowed every this many milliseconds (default: 10 a minute).',
  ),
  credentialCacheTtlMs: declare(
    'MNEMO_CREDENTIAL_CACHE_TTL_MS',
    60_000,
    int(0, 3_600_000),
    'How long an instance caches a verified credential; revocation drops it everywhere at once regardless.',
  ),
  eventStreamMaxLen: declare(
    'MNEMO_EVENT_STREAM_MAXLEN',
    100_000,
    int(1_000, 100_000_000),
    'Events kept per workspace stream (approximate trim); older ids cannot be resumed from.',
  ),
  workingCapacity: declare(
    'MNEMO_WORKING_CAPACITY',
    50,
    int(1, 100_000),
    'Working-memory entries per namespace; when full the lowest-importance (then oldest) entry is evicted.',
  ),
  workingTtlSeconds: declare(
    'MNEMO_WORKING_TTL_SECONDS',
    0,
    int(0, 10 * 365 * 86_400),
    'Default lifetime of a working-memory entry in seconds; 0 keeps entries until evicted or deleted.',
  ),
  embedder: declare(
    'MNEMO_EMBEDDER',
    'builtin',
    oneOf('builtin', 'offline', 'openai'),
    'Embeddings: builtin (deterministic, lexical, no model), offline (USE-lite shipped in an optional npm package, semantic), openai (any OpenAI-compatible /embeddings endpoint).',
  ),
  embeddingUrl: declare(
    'MNEMO_EMBEDDING_URL',
    undefined as string | undefined,
    optional,
    'Base URL of the OpenAI-compatible embeddings API (the part before /embeddings), e.g. https://api.openai.com/v1.',
  ),
  embeddingModel: declare(
    'MNEMO_EMBEDDING_MODEL',
    'text-embedding-3-small',
    str,
    'Model name sent to the embeddings API.',
  ),
  embeddingApiKey: declare(
    'MNEMO_EMBEDDING_API_KEY',
    undefined as string | undefined,
    optional,
    'Bearer key for the embeddings API (also read from OPENAI_API_KEY).',
    ['OPENAI_API_KEY'],
  ),
  embeddingDim: declare(
    'MNEMO_EMBEDDING_DIM',
    1536,
    int(8, 8192),
    'Dimension of the embeddings API vectors.',
  ),
  embedTimeoutMs: declare(
    'MNEMO_EMBED_TIMEOUT_MS',
    250,
    int(1, 60_000),
    'Time budget for embedding a recall query; past it recall answers from BM25 and says so (mode "hybrid-degraded").',
  ),
  extractorUrl: declare(
    'MNEMO_EXTRACTOR_URL',
    undefined as string | undefined,
    optional,
    'Base URL of an OpenAI-compatible chat API for LLM fact extraction (background job). Unset: the built-in rules only.',
  ),
  extractorModel: declare(
    'MNEMO_EXTRACTOR_MODEL',
    'gpt-4o-mini',
    str,
    'Chat model used for LLM fact extraction.',
  ),
  extractorApiKey: declare(
    'MNEMO_EXTRACTOR_API_KEY',
    undefined as string | undefined,
    optional,
    'Bearer key for the fact-extraction chat API.',
  ),
  scoreWeights: declare(
    'MNEMO_SCORE_WEIGHTS',
    [0.5, 0.3, 0.2],
    (value: string) => {
      const parts = value.split(',').map((p) => Number(p.trim()));
      if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
        throw new ConfigProblem('expected three non-negative numbers: similarity,recency,importance');
      }
      if (Math.abs(parts[0]! + parts[1]! + parts[2]! - 1) > 0.01)
        throw new ConfigProblem('the three weights must sum to 1');
      return parts;
    },
    'Layer-API recall score weights: similarity,recency,importance (sum 1).',
  ),
  vectorPrecision: declare(
    'MNEMO_VECTOR_PRECISION',
    'int8',
    oneOf('int8', 'float32'),
    'How each instance holds vectors in memory: int8 (quantized per vector, a quarter of the memory, cosine within ~0.001) or float32.',
  ),
  vectorPartitionMin: declare(
    'MNEMO_VECTOR_PARTITION_MIN',
    200_000,
    int(0, 1_000_000_000),
    "Vectors from which a workspace's vectors are partitioned (k-means, in the background) so a recall scans only the nearest partitions: approximate, ~10x faster at 1M (0 = always scan every vector). int8 precision only.",
  ),
  vectorPartitionScan: declare(
    'MNEMO_VECTOR_PARTITION_SCAN',
    0.1,
    num(0.001, 1),
    "Share of a partitioned workspace's vectors one recall scans (the partitions nearest to the query): higher finds more of the exact nearest neighbours, slower.",
  ),
  relevanceFloor: declare(
    'MNEMO_RELEVANCE_FLOOR',
    0.12,
    num(0, 1),
    'Minimum similarity (0-1) for a memory to be recalled at all, so nonsense queries return nothing.',
  ),
  recencyLambda: declare(
    'MNEMO_RECENCY_LAMBDA',
    0.05,
    num(0, 10),
    'Recency decay per hour: recency = exp(-lambda * hours since the memory was written).',
  ),
  indexMaxBytes: declare(
    'MNEMO_INDEX_MAX_BYTES',
    1_073_741_824,
    int(1_048_576, 1_099_511_627_776),
    'Memory budget of the per-workspace search indexes of one instance (least recently used are dropped).',
  ),
  indexSnapshotMinDocs: declare(
    'MNEMO_INDEX_SNAPSHOT_MIN_DOCS',
    50_000,
    int(0, 1_000_000_000),
    'Indexes of at least this many documents are saved to Redis as a snapshot (after a build, then after ~10% of their documents in new events), which a fresh instance loads instead of re-indexing. 0: off.',
  ),
  recallCacheTtlMs: declare(
    'MNEMO_RECALL_CACHE_TTL_MS',
    300_000,
    int(0, 86_400_000),
    'How long a repeated recall/context with no write in between is answered from the cache (0 disables).',
  ),
  metadataMaxBytes: declare(
    'MNEMO_METADATA_MAX_BYTES',
    16_384,
    int(2, 1_048_576),
    'Largest metadata object of a memory, as JSON.',
  ),
  jobs: declare(
    'MNEMO_JOBS',
    'inline',
    oneOf('inline', 'off'),
    'inline: this process also runs the background workers (embedding, extraction, expiry); off: run them with `npm run worker`.',
  ),
  jobAttempts: declare(
    'MNEMO_JOB_ATTEMPTS',
    3,
    int(1, 100),
    'Attempts of a background job (embedding, extraction) before its failure is recorded as an event.',
  ),
  jobBackoffMs: declare(
    'MNEMO_JOB_BACKOFF_MS',
    1000,
    int(1, 3_600_000),
    'First retry delay of a failed background job (doubles on each attempt).',
  ),
  sweepIntervalMs: declare(
    'MNEMO_SWEEP_INTERVAL_MS',
    15_000,
    int(100, 86_400_000),
    'How often expired working entries are swept (reads never return expired entries regardless).',
  ),
  wsMaxPayloadBytes: declare(
    'MNEMO_WS_MAX_PAYLOAD_BYTES',
    16_384,
    int(256, 16 * 1024 * 1024),
    'Largest message a client may send on an event socket: a larger one gets an error frame; one over four times this drops the connection.',
  ),
  wsIdleTimeoutSeconds: declare(
    'MNEMO_WS_IDLE_TIMEOUT_SECONDS',
    60,
    int(8, 960),
    'An event socket silent for this long is closed; the server pings quiet sockets before that.',
  ),
  wsMaxBackpressureBytes: declare(
    'MNEMO_WS_MAX_BACKPRESSURE_BYTES',
    1_048_576,
    int(4096, 1024 * 1024 * 1024),
    'Bytes an event socket may have queued; a consumer further behind is closed with 4008 and resumes from its last event id.',
  ),
  wsMaxSocketsPerCredential: declare(
    'MNEMO_WS_MAX_SOCKETS_PER_CREDENTIAL',
    1000,
    int(1, 1_000_000),
    'Event sockets one credential may hold open on one instance; further upgrades get 429.',
  ),
  wsMaxSubscriptionsPerSocket: declare(
    'MNEMO_WS_MAX_SUBSCRIPTIONS_PER_SOCKET',
    20,
    int(1, 1000),
    'Subscriptions one event socket may hold at a time.',
  ),
  packMaxBytes: declare(
    'MNEMO_PACK_MAX_BYTES',
    10_485_760,
    int(1024, 1024 * 1024 * 1024),
    'Largest pack archive (.tar.gz) POST /api/v1/packs accepts, uploaded or fetched; larger ones get 413.',
  ),
  packInlineMaxEngrams: declare(
    'MNEMO_PACK_INLINE_MAX_ENGRAMS',
    1000,
    int(1, 10_000),
    'Packs with more engrams than this install as a background job (202 with a job id); smaller ones inline.',
  ),
  packFetchTimeoutMs: declare(
    'MNEMO_PACK_FETCH_TIMEOUT_MS',
    30_000,
    int(100, 600_000),
    'Deadline for downloading a pack installed by URL (redirects included, at most 3).',
  ),
  // --- webhooks ---------------------------------------------------------------------------------------
  allowPrivateUrls: declare(
    'MNEMO_ALLOW_PRIVATE_URLS',
    false,
    bool,
    'Let fetched URLs (pack installs, webhook deliveries) use http and reach loopback, private, link-local, multicast or metadata addresses (tests, closed networks only). Off: https only, every resolved address checked before connecting.',
  ),
  webhookSecretKey: declare(
    'MNEMO_WEBHOOK_SECRET_KEY',
    undefined as string | undefined,
    optional,
    'Key from which the encryption key of stored webhook secrets is derived (HKDF-SHA256). Unset: derived from the admin key. Every instance and worker needs the same.',
  ),
  webhookTimeoutMs: declare(
    'MNEMO_WEBHOOK_TIMEOUT_MS',
    10_000,
    int(100, 120_000),
    'A webhook delivery that has not answered within this time counts as failed.',
  ),
  webhookAttempts: declare(
    'MNEMO_WEBHOOK_ATTEMPTS',
    16,
    int(1, 100),
    'Attempts of one webhook delivery (the first included) before it is given up; retries also stop after MNEMO_WEBHOOK_RETRY_WINDOW_MS.',
  ),
  webhookRetryBaseMs: declare(
    'MNEMO_WEBHOOK_RETRY_BASE_MS',
    30_000,
    int(1, 3_600_000),
    'First retry delay of a failed webhook delivery; it doubles on each attempt (capped by MNEMO_WEBHOOK_RETRY_MAX_DELAY_MS), with +-50% jitter.',
  ),
  webhookRetryMaxDelayMs: declare(
    'MNEMO_WEBHOOK_RETRY_MAX_DELAY_MS',
    6 * 3_600_000,
    int(1, 86_400_000),
    'Longest delay between two attempts of a webhook delivery.',
  ),
  webhookRetryWindowMs: declare(
    'MNEMO_WEBHOOK_RETRY_WINDOW_MS',
    86_400_000,
    int(1, 7 * 86_400_000),
    'No retry of a webhook delivery is scheduled later than this after its first attempt.',
  ),
  webhookDisableAfterMs: declare(
    'MNEMO_WEBHOOK_DISABLE_AFTER_MS',
    86_400_000,
    int(1, 30 * 86_400_000),
    'A webhook whose every delivery failed for this long (no success in between) is disabled, with the reason.',
  ),
  webhookResponseLimitBytes: declare(
    'MNEMO_WEBHOOK_RESPONSE_LIMIT_BYTES',
    4096,
    int(0, 1_048_576),
    "Bytes of a receiver's response body read (and kept in the deliveries log as an excerpt of 256); the rest is discarded.",
  ),
  webhookConcurrency: declare(
    'MNEMO_WEBHOOK_CONCURRENCY',
    1,
    int(1, 64),
    'Deliveries of one webhook in flight at a time, across instances (1 keeps first attempts in event order).',
  ),
  webhookWorkerConcurrency: declare(
    'MNEMO_WEBHOOK_WORKER_CONCURRENCY',
    32,
    int(1, 1024),
    'Webhook deliveries one worker process sends at a time (all webhooks together).',
  ),
  webhookPollMs: declare(
    'MNEMO_WEBHOOK_POLL_MS',
    200,
    int(5, 60_000),
    'How often the webhook dispatcher looks for new events when no notification woke it.',
  ),
  webhookLeaseMs: declare(
    'MNEMO_WEBHOOK_LEASE_MS',
    10_000,
    int(200, 600_000),
    "Lease of one instance on dispatching one tenant's stream; another instance takes over this long after it stops renewing.",
  ),
  webhookSecretGraceMs: declare(
    'MNEMO_WEBHOOK_SECRET_GRACE_MS',
    86_400_000,
    int(0, 30 * 86_400_000),
    'After a secret rotation, how long the previous secret still signs deliveries (both signatures are sent).',
  ),
  webhookDeliveryLogSize: declare(
    'MNEMO_WEBHOOK_DELIVERY_LOG_SIZE',
    200,
    int(1, 100_000),
    'Deliveries kept in the log of each webhook (newest).',
  ),
  webhookMaxPerTenant: declare(
    'MNEMO_WEBHOOK_MAX_PER_TENANT',
    200,
    int(1, 10_000),
    'Webhooks one workspace or organisation may register.',
  ),
  webhookDnsServers: declare(
    'MNEMO_WEBHOOK_DNS_SERVERS',
    [] as string[],
    list,
    'DNS servers (host or host:port, comma-separated) used to resolve webhook hosts; empty: the system resolver.',
  ),
  otelEndpoint: declare(
    'MNEMO_OTEL_ENDPOINT',
    undefined as string | undefined,
    (value: string) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ConfigProblem('expected an http(s) URL such as http://collector:4318');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new ConfigProblem('expected an http(s) URL such as http://collector:4318');
      return value;
    },
    'OpenTelemetry collector (OTLP/HTTP, JSON): request traces are POSTed to <it>/v1/traces. Unset: no tracing.',
  ),
  otelServiceName: declare(
    'MNEMO_OTEL_SERVICE_NAME',
    'mnemo',
    str,
    'The service.name resource attribute of the traces.',
  ),
  otelSampleRatio: declare(
    'MNEMO_OTEL_SAMPLE_RATIO',
    1,
    num(0, 1),
    "Share of new traces recorded (0..1); a request's traceparent sampled flag decides for traces it continues.",
  ),
  metricsToken: declare(
    'MNEMO_METRICS_TOKEN',
    undefined as string | undefined,
    optional,
    'Bearer token that may read GET /metrics (besides the admin key), for a Prometheus scraper. At least 16 characters.',
  ),
  metricsPublic: declare(
    'MNEMO_METRICS_PUBLIC',
    false,
    bool,
    'true: GET /metrics answers without a credential (only on a private scrape network).',
  ),
  logRequests: declare(
    'MNEMO_LOG_REQUESTS',
    'errors',
    oneOf('all', 'errors', 'off'),
    'Request log (one JSON line per request): all, errors (4xx/5xx and requests slower than MNEMO_SLOW_REQUEST_MS), or off.',
  ),
  slowRequestMs: declare(
    'MNEMO_SLOW_REQUEST_MS',
    1000,
    int(1, 3_600_000),
    'With MNEMO_LOG_REQUESTS=errors, requests taking longer than this are logged too.',
  ),
  // --- OIDC single sign-on and sessions (src/auth/oidc/) -----------------------------------------------
  oidcIssuer: declare(
    'MNEMO_OIDC_ISSUER',
    undefined as string | undefined,
    optional,
    'OpenID Connect issuer URL (discovery at <issuer>/.well-known/openid-configuration); https, except loopback issuers. Unset: no single sign-on.',
  ),
  oidcClientId: declare(
    'MNEMO_OIDC_CLIENT_ID',
    undefined as string | undefined,
    optional,
    'Client id mnemo signs users in with at the issuer (authorization code flow with PKCE).',
  ),
  oidcClientSecret: declare(
    'MNEMO_OIDC_CLIENT_SECRET',
    undefined as string | undefined,
    optional,
    'Client secret for the code exchange (client_secret_basic); unset for a public client.',
  ),
  oidcAudience: declare(
    'MNEMO_OIDC_AUDIENCE',
    undefined as string | undefined,
    optional,
    'Audience an IdP-issued access token must carry to be accepted on /api/v1 (default: the client id).',
  ),
  oidcOrg: declare(
    'MNEMO_OIDC_ORG',
    undefined as string | undefined,
    optional,
    "Organisation the issuer's users belong to (default: MNEMO_DEFAULT_ORG).",
  ),
  oidcUsernameClaim: declare(
    'MNEMO_OIDC_USERNAME_CLAIM',
    'preferred_username',
    str,
    'Claim that names a signed-in user (falls back to sub when absent).',
  ),
  oidcEmailClaim: declare('MNEMO_OIDC_EMAIL_CLAIM', 'email', str, "Claim holding the user's email."),
  oidcGroupsClaim: declare(
    'MNEMO_OIDC_GROUPS_CLAIM',
    undefined as string | undefined,
    optional,
    "Claim listing the user's groups (paths of existing mnemo groups); set, it syncs memberships at each sign-in.",
  ),
  oidcRoleClaim: declare(
    'MNEMO_OIDC_ROLE_CLAIM',
    undefined as string | undefined,
    optional,
    'Claim holding the organisation role (viewer, editor or admin; a list gives the strongest); unset: MNEMO_OIDC_DEFAULT_ROLE.',
  ),
  oidcDefaultRole: declare(
    'MNEMO_OIDC_DEFAULT_ROLE',
    'viewer',
    oneOf('viewer', 'editor', 'admin'),
    'Role of a just-in-time user whose token names no role.',
  ),
  oidcScopes: declare(
    'MNEMO_OIDC_SCOPES',
    'openid profile email',
    str,
    'Scopes requested at sign-in (space separated; openid is always included).',
  ),
  oidcIssuers: declare(
    'MNEMO_OIDC_ISSUERS',
    undefined as string | undefined,
    optional,
    'Several issuers (one per organisation) as a JSON array of {issuer, client_id, client_secret, audience, org, username_claim, email_claim, groups_claim, role_claim, default_role}; used with or instead of MNEMO_OIDC_ISSUER.',
  ),
  oidcJwksCooldownMs: declare(
    'MNEMO_OIDC_JWKS_COOLDOWN_MS',
    30_000,
    int(0, 3_600_000),
    "After fetching an issuer's JWKS, a token with an unknown key id does not refetch it for this long (rate limit).",
  ),
  oidcClockSkewSeconds: declare(
    'MNEMO_OIDC_CLOCK_SKEW_SECONDS',
    30,
    int(0, 600),
    'Clock skew tolerated on exp, nbf and iat of ID tokens, access tokens and sessions.',
  ),
  publicUrl: declare(
    'MNEMO_PUBLIC_URL',
    undefined as string | undefined,
    optional,
    "The server's public base URL (https://mnemo.example.com): the OIDC redirect URI is <it>/auth/callback and cookies are Secure when it is https. Unset: taken from the request's Host (development).",
  ),
  sessionSecrets: declare(
    'MNEMO_SESSION_SECRETS',
    [] as string[],
    list,
    'Secrets (at least 32 characters each) signing session tokens, HS256: current,previous. New sessions use the first; tokens of any listed one verify, so a secret rotates without logging anyone out. Needed with OIDC.',
  ),
  sessionTtlSeconds: declare(
    'MNEMO_SESSION_TTL_SECONDS',
    3600,
    int(60, 86_400 * 30),
    'Lifetime of a session token minted at sign-in.',
  ),
  consoleDir: declare(
    'MNEMO_CONSOLE_DIR',
    '',
    str,
    'Directory of the built admin console served at /ui/ (empty: dist/ui of the package, built by npm run build; off: no console).',
  ),
} as const;

type VarKey = keyof typeof VARS;
type VarValues = { -readonly [K in VarKey]: (typeof VARS)[K]['fallback'] };

export type RedisTarget =
  | { kind: 'embedded' }
  | { kind: 'url'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[]; password?: string; tls: boolean };

export interface Config extends Omit<VarValues, 'redisUrl' | 'dataDir'> {
  dataDir: string;
  redis: RedisTarget;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parseRedisTarget(url: string | undefined): RedisTarget {
  if (url === undefined) return { kind: 'embedded' };
  const cluster = /^rediss?-cluster:\/\//i.exec(url);
  if (cluster) {
    const tls = url.toLowerCase().startsWith('rediss');
    const rest = url.slice(cluster[0].length);
    const at = rest.lastIndexOf('@');
    const auth = at >= 0 ? rest.slice(0, at) : '';
    const hosts = (at >= 0 ? rest.slice(at + 1) : rest).replace(/\/.*$/, '');
    const nodes = hosts.split(',').map((h) => {
      const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(h.trim());
      if (!m) throw new ConfigProblem(`cluster node "${h}" is not host:port`);
      return { host: m[1] as string, port: Number(m[2]) };
    });
    const password = auth.includes(':') ? decodeURIComponent(auth.slice(auth.indexOf(':') + 1)) : auth;
    return { kind: 'cluster', nodes, tls, ...(password ? { password } : {}) };
  }
  if (!/^(rediss?|unix):\/\//i.test(url)) {
    throw new ConfigProblem('expected redis://, rediss://, unix:// or redis-cluster:// URL');
  }
  return { kind: 'url', url };
}

/** Where a Redis target is, for logs and error messages: never its credentials. */
export function describeRedisTarget(target: RedisTarget): string {
  switch (target.kind) {
    case 'embedded':
      return 'embedded redis-server';
    case 'cluster':
      return `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
    case 'url':
      return target.url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1');
  }
}

/** Shortest admin key accepted with MNEMO_ENV=production (a generated key has 58 characters). */
export const MIN_PRODUCTION_ADMIN_KEY = 32;

/** Shortest metrics token accepted: it guards figures about every tenant. */
export const MIN_METRICS_TOKEN = 16;

/** Reads, validates and freezes the configuration. Throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env, overrides: Partial<VarValues> = {}): Readonly<Config> {
  const problems: string[] = [];
  const values: Partial<Record<VarKey, unknown>> = {};
  for (const [key, spec] of Object.entries(VARS) as [VarKey, VarSpec<unknown>][]) {
    if (key in overrides) {
      values[key] = overrides[key];
      continue;
    }
    const source = [spec.name, ...(spec.aliases ?? [])].find((n) => env[n] !== undefined && env[n] !== '');
    if (source === undefined) {
      values[key] = spec.fallback;
      continue;
    }
    try {
      values[key] = spec.parse(env[source] as string);
    } catch (err) {
      problems.push(`${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let redis: RedisTarget = { kind: 'embedded' };
  try {
    redis = parseRedisTarget(values.redisUrl as string | undefined);
  } catch (err) {
    problems.push(`REDIS_URL: ${(err as Error).message}`);
  }
  if (values.embedder === 'openai' && values.embeddingUrl === undefined) {
    problems.push('MNEMO_EMBEDDER=openai needs MNEMO_EMBEDDING_URL (the base URL before /embeddings)');
  }
  const adminKey = values.adminKey as string | undefined;
  if (values.env === 'production' && adminKey !== undefined && adminKey.length < MIN_PRODUCTION_ADMIN_KEY) {
    problems.push(
      `MNEMO_ADMIN_KEY: in production the admin key must be at least ${MIN_PRODUCTION_ADMIN_KEY} characters (got ${adminKey.length}); unset it to have one generated`,
    );
  }
  const metricsToken = values.metricsToken as string | undefined;
  if (metricsToken !== undefined && metricsToken.length < MIN_METRICS_TOKEN) {
    problems.push(
      `MNEMO_METRICS_TOKEN: expected at least ${MIN_METRICS_TOKEN} characters (got ${metricsToken.length})`,
    );
  }
  problems.push(...oidcConfigProblems(values as VarValues));
  if (problems.length > 0) throw new ConfigError(problems);
  const { redisUrl: _ignored, ...rest } = values as VarValues;
  return Object.freeze({ ...rest, dataDir: path.resolve(rest.dataDir), redis });
}

/** Markdown table of every variable, for the README. */
export function configTable(): string {
  const rows = Object.values(VARS).map((v) => {
    const names = [v.name, ...(v.aliases ?? [])].map((n) => `\`${n}\``).join(' / ');
    return `| ${names} | \`${v.default}\` | ${v.description} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** For process entry points: the configuration, or its problems on stderr and exit code 2. */
export function loadConfigOrExit(): Readonly<Config> {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
