import os from 'node:os';
import path from 'node:path';
import { ConfigProblem, type Env, type VarDoc, int, list, num, oneOf, str } from './config-spec.js';
import { isWorkspaceId } from './workspace.js';

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
