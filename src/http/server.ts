import { performance } from 'node:perf_hooks';
import * as uWS from 'uWebSockets.js';
import type { Authenticated, PrincipalByAuth, RatePolicy } from '../auth/principal.js';
import type { AccessObserver, ObservedRequest } from '../auth/access-audit.js';
import type { AuthFailureGate } from '../auth/auth-failure-limiter.js';
import type { RateDecision } from '../auth/rate-limiter.js';
import { MnemoError, isMnemoError } from '../errors.js';
import type { Logger } from '../log.js';
import { isConnectionError } from '../redis/clients.js';
import { listenOn } from './listen.js';
import { parseJsonBody, readBody, type ResponseState } from './body.js';
import { isMultipart, MULTIPART_OVERHEAD_BYTES, parseMultipart } from './multipart.js';
import { compileRoute, validate, type CompiledRoute } from './compile.js';
import { CorsPolicy } from './cors.js';
import { IGNORED_FIELDS_HEADER, ignoredFieldsHeader } from './ignored-fields.js';
import { SCIM_MEDIA_TYPE, WARNINGS_FIELD } from './schemas.js';
import { faceOfUrl, renderError } from './error-dialects.js';
import { authorizationToken, copyHeaders, type CopiedHeaders } from './request-headers.js';
import { requestIdFrom } from './request-id.js';
import type { RequestLog } from './request-log.js';
import {
  methodLabel,
  NO_HTTP_METRICS,
  UNMATCHED_ROUTE,
  type HttpMetricsSink,
  type RequestMeter,
} from './request-metrics.js';
import {
  isRawReply,
  isReply,
  isStreamReply,
  type AnyRoute,
  type AuthKind,
  type Face,
  type StreamReply,
  type UploadedFile,
} from './route.js';
import { statusLine } from './status.js';
import { fetchRequest, type FetchHandler } from './fetch-exchange.js';
import type { StaticSite } from './static-site.js';
import { mountStaticSite } from './static-route.js';
import type { Span } from '../tracing/span.js';
import { TRACING_OFF, type Tracing } from '../tracing/tracing.js';

/**
 * The HTTP core on uWebSockets.js. uWS discipline lives here and nowhere else: everything needed from the
 * request is copied synchronously, onAborted is registered before any await, every later write is corked,
 * and no exception escapes a uWS callback (a failing handler answers 500 in its face's dialect).
 */
export interface AuthRequest {
  token: string | undefined;
  header(name: string): string | undefined;
}

export type Authenticators = {
  [K in AuthKind]: (request: AuthRequest) => Promise<Authenticated<PrincipalByAuth[K]>>;
};

export interface RateLimitCheck {
  check(policy: RatePolicy, writeHeavy: boolean): Promise<RateDecision>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
  corsOrigins: readonly string[];
  log: Logger;
  authenticators: Authenticators;
  rateLimiter: RateLimitCheck;
  /** Share the port with the other processes of one MNEMO_PROCESSES group (see listen.ts). */
  sharedPort?: boolean;
  /** Failed authentications per client address (429 once over budget). */
  authFailures: AuthFailureGate;
  /** Request counters and latencies by route template (default: none). */
  metrics?: HttpMetricsSink;
  /** One JSON line per request, as MNEMO_LOG_REQUESTS says (default: none). */
  requestLog?: RequestLog;
  /** Static front-ends served beside the API (the admin console at /ui/). */
  staticSites?: readonly StaticSite[];
  /** Told about access on the engram face: authenticated users, 401/403 denials, 429s (audit, insights). */
  access?: AccessObserver;
  /** Request traces (MNEMO_OTEL_ENDPOINT): a server span per request, auth as a child span. */
  tracing?: Tracing;
}

interface PathGroup {
  pattern: string;
  byMethod: Map<string, CompiledRoute>;
  methods: string[];
  /** Meters by method label, made on first use (the method set is bounded by methodLabel). */
  meters: Map<string, RequestMeter>;
}

interface Exchange {
  res: uWS.HttpResponse;
  state: ResponseState;
  started: number;
  face: Face;
  url: string;
  requestId: string;
  origin: string | undefined;
  headOnly: boolean;
  rateHeaders: [string, string][];
  /** Headers telling the client about its request (X-Mnemo-Ignored-Fields), sent with any answer. */
  notices: [string, string][];
  /** Called once when the client goes away (a streamed body waiting for drain stops waiting). */
  abortWaiters: (() => void)[];
  group: PathGroup;
  method: string;
  /** Who made the request, once authenticated (for the request log). */
  principal: unknown;
  bytesIn: number;
  /** The request's trace span, when tracing is on and the trace is sampled. */
  span: Span | undefined;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export class HttpServer {
  readonly app: uWS.TemplatedApp = uWS.App();
  readonly compiled: CompiledRoute[];
  private listenSocket: uWS.us_listen_socket | undefined;
  private inFlight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly cors: CorsPolicy;
  private readonly metrics: HttpMetricsSink;
  private readonly requestLog: RequestLog | undefined;
  private readonly tracing: Tracing;
  /** Requests that matched no route share one label: raw paths are never label values. */
  private readonly unmatched: PathGroup = {
    pattern: UNMATCHED_ROUTE,
    byMethod: new Map(),
    methods: [],
    meters: new Map(),
  };

  constructor(
    routes: AnyRoute[],
    private readonly options: HttpServerOptions,
  ) {
    this.cors = new CorsPolicy(options.corsOrigins);
    this.metrics = options.metrics ?? NO_HTTP_METRICS;
    this.requestLog = options.requestLog?.mode === 'off' ? undefined : options.requestLog;
    this.tracing = options.tracing ?? TRACING_OFF;
    this.compiled = routes.map(compileRoute);
    for (const group of groupByPath(this.compiled)) {
      this.app.any(group.pattern, (res, req) => this.guarded(res, req, () => this.dispatch(res, req, group)));
    }
    for (const site of options.staticSites ?? []) mountStaticSite(this.app, site, options.log);
    this.app.any('/*', (res, req) =>
      this.guarded(res, req, () => {
        const exchange = this.exchange(res, req, faceOfUrl(req.getUrl()), false, this.unmatched);
        this.sendError(exchange, new MnemoError('not_found', `No route for ${req.getUrl()}`));
      }),
    );
  }

  /**
   * Mounts a transport that speaks Fetch `Request`/`Response` (the MCP SDK's web-standard transport) at one
   * exact path, under the same discipline as the route table: headers copied at once, the body read with
   * the byte limit, shutdown and in-flight counting, every write corked. Errors it throws are answered in
   * `face`'s dialect (a 401 with its WWW-Authenticate challenge). Must be called before `listen`.
   */
  mountFetch(path: string, face: Face, handle: FetchHandler): void {
    // Its own metrics label: the mount path is the template.
    const group: PathGroup = { pattern: path, byMethod: new Map(), methods: [], meters: new Map() };
    this.app.any(path, (res, req) =>
      this.guarded(res, req, () => this.serveFetch(res, req, face, handle, group)),
    );
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    const { host, port, sharedPort } = this.options;
    return listenOn(this.app, host, port, sharedPort ?? false).then((socket) => {
      this.listenSocket = socket;
      return uWS.us_socket_local_port(socket);
    });
  }

  /** Stops accepting connections; requests on open keep-alive connections get 503 from now on. */
  stopAccepting(): void {
    this.draining = true;
    if (this.listenSocket) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; true when drained. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Closes every remaining connection (keep-alive and WebSocket). */
  closeConnections(): void {
    this.app.close();
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Rule: no exception escapes a uWS callback (uWS would take the process down). Handlers run async and
   * answer their own failures; this catches what throws synchronously before that and answers 500.
   */
  private guarded(res: uWS.HttpResponse, req: uWS.HttpRequest, handle: () => void): void {
    try {
      handle();
    } catch (err) {
      this.options.log.error({ err, url: req.getUrl() }, 'request dispatch failed');
      try {
        const exchange = this.exchange(res, req, faceOfUrl(req.getUrl()), false, this.unmatched);
        this.sendError(exchange, new MnemoError('internal', 'Internal server error'));
      } catch {
        // The response was already answered or aborted: nothing more to say on it.
      }
    }
  }

  private dispatch(res: uWS.HttpResponse, req: uWS.HttpRequest, group: PathGroup): void {
    const method = req.getCaseSensitiveMethod().toUpperCase();
    if (method === 'OPTIONS') {
      const origin = req.getHeader('origin') || undefined;
      const requested = req.getHeader('access-control-request-headers') || undefined;
      const exchange = this.exchange(res, req, faceOfUrl(req.getUrl()), false, group);
      this.write(exchange, 204, undefined, '', this.cors.preflightHeaders(origin, group.methods, requested));
      return;
    }
    const compiled =
      group.byMethod.get(method) ?? (method === 'HEAD' ? group.byMethod.get('GET') : undefined);
    if (!compiled) {
      const exchange = this.exchange(res, req, faceOfUrl(req.getUrl()), false, group);
      const error = new MnemoError(
        'method_not_allowed',
        `Method ${method} is not allowed on ${req.getUrl()}`,
        {
          headers: { Allow: group.methods.join(', ') },
        },
      );
      this.sendError(exchange, error);
      return;
    }
    this.serve(res, req, compiled, method === 'HEAD', group);
  }

  private exchange(
    res: uWS.HttpResponse,
    req: uWS.HttpRequest,
    face: Face,
    headOnly: boolean,
    group: PathGroup,
  ): Exchange {
    const state: ResponseState = { aborted: false, finished: false };
    const abortWaiters: (() => void)[] = [];
    res.onAborted(() => {
      state.aborted = true;
      for (const wake of abortWaiters.splice(0)) wake();
    });
    const given = req.getHeader('x-request-id');
    return {
      res,
      state,
      started: performance.now(),
      face,
      url: req.getUrl(),
      requestId: requestIdFrom(given),
      origin: req.getHeader('origin') || undefined,
      headOnly,
      rateHeaders: [],
      notices: [],
      abortWaiters,
      group,
      method: req.getCaseSensitiveMethod().toUpperCase(),
      principal: undefined,
      bytesIn: 0,
      span: undefined,
    };
  }

  private serve(
    res: uWS.HttpResponse,
    req: uWS.HttpRequest,
    compiled: CompiledRoute,
    headOnly: boolean,
    group: PathGroup,
  ): void {
    const exchange = this.exchange(res, req, compiled.route.face, headOnly, group);
    if (this.draining && !compiled.route.duringShutdown) {
      this.sendError(exchange, new MnemoError('unavailable', 'The server is shutting down'), true);
      return;
    }
    // Copy everything out of the request now: it is stack-allocated and gone after this tick.
    const headers = copyHeaders(req);
    const rawQuery = req.getQuery() ?? '';
    const rawParams = compiled.paramNames.map((_, i) => req.getParameter(i) ?? '');
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    let body: Promise<Buffer> | undefined;
    if (compiled.validateBody) {
      const length = headers.values['content-length'];
      const declared = length === undefined ? undefined : Number(length);
      if (declared !== undefined && Number.isFinite(declared)) exchange.bytesIn = declared;
      // An upload route reads a multipart body up to its own limit; JSON bodies keep the server's.
      const { upload } = compiled.route;
      const limit =
        upload && isMultipart(headers.values['content-type'])
          ? upload.maxBytes + MULTIPART_OVERHEAD_BYTES
          : this.options.bodyLimitBytes;
      body = readBody(res, limit, declared, exchange.state);
      body.catch(() => undefined); // handled where awaited; avoid an unhandled rejection if we fail earlier
    }
    this.inFlight++;
    const span = this.tracing.startRequest(`${exchange.method} ${group.pattern}`, headers.values.traceparent);
    if (span) {
      exchange.span = span;
      span.set('http.request.method', exchange.method);
      span.set('http.route', group.pattern);
      span.set('mnemo.request_id', exchange.requestId);
      span.set('mnemo.face', compiled.route.face);
    }
    this.tracing
      .within(span, () => this.run(exchange, compiled, headers, rawQuery, rawParams, ip, body))
      .catch((err: unknown) => this.options.log.error({ err }, 'unexpected failure while answering'))
      .finally(() => {
        span?.end();
        this.requestDone();
      });
  }

  private async run(
    exchange: Exchange,
    compiled: CompiledRoute,
    headers: CopiedHeaders,
    rawQuery: string,
    rawParams: string[],
    ip: string,
    bodyPromise: Promise<Buffer> | undefined,
  ): Promise<void> {
    const { route } = compiled;
    const header = (name: string): string | undefined => headers.values[name.toLowerCase()];
    // Only the engram face's access is audited and counted (its principals belong to an organisation).
    const access = route.face === 'engram' ? this.options.access : undefined;
    const observed = (): ObservedRequest => ({
      requestId: exchange.requestId,
      ip,
      userAgent: header('user-agent'),
      via: 'rest',
      target: `${route.method} ${exchange.url}`,
    });
    try {
      let principal: PrincipalByAuth[AuthKind] = undefined;
      if (route.auth !== 'none') {
        const authenticate = this.options.authenticators[route.auth as AuthKind] as (
          r: AuthRequest,
        ) => Promise<Authenticated<unknown>>;
        const { authFailures } = this.options;
        authFailures.refuseIfBlocked(ip);
        let authenticated: Authenticated<unknown>;
        try {
          authenticated = await this.tracing.child('auth', 'internal', { 'mnemo.auth': route.auth }, () =>
            authenticate({ token: authorizationToken(headers), header }),
          );
        } catch (err) {
          throw await authFailures.answerFailure(ip, err);
        }
        principal = authenticated.principal as PrincipalByAuth[AuthKind];
        exchange.principal = principal;
        access?.authenticated(principal);
        if (authenticated.rate)
          await this.applyRateLimit(exchange, authenticated.rate, route, access && observed);
      }
      let body: unknown;
      let ignored: string[] = [];
      let files: Record<string, UploadedFile> = {};
      if (bodyPromise) {
        const contentType = header('content-type');
        const raw = await bodyPromise;
        exchange.bytesIn = raw.byteLength;
        let parsed: unknown;
        if (route.upload && isMultipart(contentType)) {
          const multipart = parseMultipart(raw, contentType as string, route.upload);
          parsed = multipart.fields;
          files = multipart.files;
        } else {
          parsed = parseJsonBody(raw);
        }
        // An empty body is {} (routes whose fields are all optional take it); a JSON `null` is not.
        body = parsed === undefined ? {} : parsed;
        ignored = compiled.findIgnoredFields?.(body) ?? [];
        if (ignored.length > 0) exchange.notices.push([IGNORED_FIELDS_HEADER, ignoredFieldsHeader(ignored)]);
        validate(compiled.validateBody, body, 'body');
      }
      const params = decodeParams(compiled.paramNames, rawParams);
      validate(compiled.validateParams, params, 'path');
      const query = parseQuery(rawQuery, compiled.arrayQueryParams);
      validate(compiled.validateQuery, query, 'query');

      const result = await route.handler({
        params,
        query,
        body,
        principal,
        requestId: exchange.requestId,
        header,
        ip,
        files,
      });
      if (isStreamReply(result)) {
        await this.stream(exchange, result);
        return;
      }
      if (isRawReply(result)) {
        const extra = result.headers ? Object.entries(result.headers) : [];
        this.write(exchange, result.status, result.contentType, result.text, extra);
        return;
      }
      const {
        status,
        body: payload,
        headers: extra,
      } = isReply(result) ? result : { status: route.status ?? 200, body: result, headers: undefined };
      const serialize = compiled.serializers.get(status);
      const shown =
        ignored.length > 0 && compiled.warnsIn.has(status) ? withWarnings(payload, ignored) : payload;
      if (!serialize)
        throw new Error(`${route.method} ${route.path} declares no response schema for ${status}`);
      const contentType = route.face === 'scim' ? SCIM_MEDIA_TYPE : 'application/json';
      this.write(exchange, status, contentType, serialize(shown), extra ? headerList(extra) : []);
    } catch (err) {
      access?.denied(err, exchange.principal, observed());
      this.sendError(exchange, this.toMnemoError(err, exchange, route));
    }
  }

  private serveFetch(
    res: uWS.HttpResponse,
    req: uWS.HttpRequest,
    face: Face,
    handle: FetchHandler,
    group: PathGroup,
  ): void {
    const exchange = this.exchange(res, req, face, false, group);
    if (this.draining) {
      this.sendError(exchange, new MnemoError('unavailable', 'The server is shutting down'), true);
      return;
    }
    const method = req.getCaseSensitiveMethod().toUpperCase();
    if (method === 'OPTIONS') {
      const requested = req.getHeader('access-control-request-headers') || undefined;
      this.write(
        exchange,
        204,
        undefined,
        '',
        this.cors.preflightHeaders(exchange.origin, ['POST'], requested),
      );
      return;
    }
    // The MCP specification asks servers to refuse foreign origins (DNS rebinding); CORS settings decide.
    if (exchange.origin !== undefined && !this.cors.allows(exchange.origin)) {
      this.sendError(exchange, new MnemoError('forbidden', `Origin ${exchange.origin} is not allowed`));
      return;
    }
    const headers = copyHeaders(req);
    const target = exchange.url + (req.getQuery() ? `?${req.getQuery()}` : '');
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    let body: Promise<Buffer> | undefined;
    if (method === 'POST') {
      const length = headers.values['content-length'];
      body = readBody(
        res,
        this.options.bodyLimitBytes,
        length === undefined ? undefined : Number(length),
        exchange.state,
      );
      body.catch(() => undefined); // handled where awaited
    }
    this.inFlight++;
    const answer = async (): Promise<void> => {
      try {
        const raw = body ? await body : undefined;
        const response = await handle(fetchRequest(method, target, headers), { ip, headers, body: raw });
        // The MCP endpoint answers JSON (never a long-lived stream), so the body is read whole.
        const text = response.body === null ? '' : await response.text();
        const extra: [string, string][] = [];
        response.headers.forEach((value, name) => {
          if (name !== 'content-type' && name !== 'content-length') extra.push([name, value]);
        });
        this.write(exchange, response.status, response.headers.get('content-type') ?? undefined, text, extra);
      } catch (err) {
        this.sendError(exchange, this.toFetchError(err, exchange));
      }
    };
    answer()
      .catch((err: unknown) => this.options.log.error({ err }, 'unexpected failure while answering'))
      .finally(() => this.requestDone());
  }

  private toFetchError(err: unknown, exchange: Exchange): MnemoError {
    if (isMnemoError(err)) return err;
    if (isConnectionError(err))
      return new MnemoError('unavailable', 'Storage is temporarily unavailable; retry shortly', {
        headers: { 'Retry-After': '1' },
      });
    this.options.log.error({ err, requestId: exchange.requestId, url: exchange.url }, 'transport failed');
    return new MnemoError('internal', 'Internal server error');
  }

  private async applyRateLimit(
    exchange: Exchange,
    policy: RatePolicy,
    route: AnyRoute,
    observed?: () => ObservedRequest,
  ): Promise<void> {
    const writeHeavy = route.writeHeavy ?? WRITE_METHODS.has(route.method);
    const decision = await this.options.rateLimiter.check(policy, writeHeavy);
    exchange.rateHeaders = [
      ['RateLimit-Limit', String(decision.limit)],
      ['RateLimit-Remaining', String(decision.remaining)],
      ['RateLimit-Reset', String(decision.resetSeconds)],
    ];
    if (!decision.allowed) {
      this.metrics.rateLimitRejected(route.face);
      if (observed) this.options.access?.rateLimited(exchange.principal, decision.limit, observed());
      throw new MnemoError('rate_limited', `Rate limit of ${decision.limit} requests per minute exceeded`, {
        headers: { 'Retry-After': String(decision.retryAfterSeconds) },
      });
    }
  }

  private toMnemoError(err: unknown, exchange: Exchange, route: AnyRoute): MnemoError {
    if (isMnemoError(err)) return err;
    if (isConnectionError(err)) {
      this.metrics.redisUnavailableAnswered();
      this.options.log.warn(
        { requestId: exchange.requestId, err: (err as Error).message },
        'redis unavailable',
      );
      return new MnemoError('unavailable', 'Storage is temporarily unavailable; retry shortly', {
        headers: { 'Retry-After': '1' },
      });
    }
    this.options.log.error(
      { err, requestId: exchange.requestId, route: `${route.method} ${route.path}` },
      'request handler failed',
    );
    return new MnemoError('internal', 'Internal server error');
  }

  private sendError(exchange: Exchange, error: MnemoError, closeConnection = false): void {
    const rendered = renderError(exchange.face, error, exchange.url);
    const close = closeConnection || error.code === 'payload_too_large';
    this.write(
      exchange,
      rendered.status,
      rendered.contentType,
      rendered.body,
      Object.entries(rendered.headers),
      close,
    );
  }

  private write(
    exchange: Exchange,
    status: number,
    contentType: string | undefined,
    body: string | Buffer,
    extra: [string, string][],
    closeConnection = false,
  ): void {
    const { res, state } = exchange;
    if (state.aborted || state.finished) return;
    state.finished = true;
    const elapsedMs = performance.now() - exchange.started;
    const latency = elapsedMs.toFixed(3);
    const cors = this.cors.responseHeaders(exchange.origin);
    res.cork(() => {
      res.writeStatus(statusLine(status));
      if (contentType) res.writeHeader('Content-Type', contentType);
      res.writeHeader('X-Request-Id', exchange.requestId);
      res.writeHeader('X-Latency-Ms', latency);
      for (const [name, value] of cors) res.writeHeader(name, value);
      for (const [name, value] of exchange.rateHeaders) res.writeHeader(name, value);
      for (const [name, value] of exchange.notices) res.writeHeader(name, value);
      for (const [name, value] of extra) res.writeHeader(name, value);
      if (exchange.headOnly) res.endWithoutBody(Buffer.byteLength(body), closeConnection);
      else res.end(body, closeConnection);
    });
    this.meterOf(exchange).observe(status, elapsedMs / 1000);
    if (exchange.span) {
      exchange.span.set('http.response.status_code', status);
      if (status >= 500) exchange.span.fail(`HTTP ${status}`);
    }
    if (this.requestLog?.wants(status, elapsedMs)) {
      this.requestLog.write({
        requestId: exchange.requestId,
        route: exchange.group.pattern,
        method: exchange.method,
        status,
        latencyMs: elapsedMs,
        principal: exchange.principal,
        bytesIn: exchange.bytesIn,
        bytesOut: exchange.headOnly ? 0 : Buffer.byteLength(body),
      });
    }
  }

  private meterOf(exchange: Exchange): RequestMeter {
    const label = methodLabel(exchange.method);
    const { meters } = exchange.group;
    let meter = meters.get(label);
    if (!meter) {
      meter = this.metrics.routeMeter(exchange.group.pattern, label);
      meters.set(label, meter);
    }
    return meter;
  }

  /**
   * Writes a chunked body. The first chunk is read before the status line, so a handler that fails early
   * still answers an error; later chunks are written as they come, pausing while uWS holds unsent bytes
   * (res.write returned false) until onWritable, and stopping when the client aborts.
   */
  private async stream(exchange: Exchange, reply: StreamReply): Promise<void> {
    const { res, state } = exchange;
    const iterator = reply.chunks[Symbol.asyncIterator]();
    let next = await iterator.next();
    if (state.aborted || state.finished) {
      await iterator.return?.();
      return;
    }
    state.finished = true;
    const cors = this.cors.responseHeaders(exchange.origin);
    res.cork(() => {
      exchange.span?.set('http.response.status_code', reply.status);
      res.writeStatus(statusLine(reply.status));
      res.writeHeader('Content-Type', reply.contentType);
      res.writeHeader('X-Request-Id', exchange.requestId);
      for (const [name, value] of cors) res.writeHeader(name, value);
      for (const [name, value] of exchange.rateHeaders) res.writeHeader(name, value);
      for (const [name, value] of exchange.notices) res.writeHeader(name, value);
    });
    try {
      if (exchange.headOnly) {
        await iterator.return?.();
        res.cork(() => res.endWithoutBody());
        return;
      }
      while (!next.done) {
        const chunk = next.value;
        let drained = true;
        res.cork(() => {
          drained = res.write(chunk);
        });
        if (!drained) await this.writable(exchange);
        if (state.aborted) {
          await iterator.return?.();
          return;
        }
        next = await iterator.next();
      }
      if (!state.aborted) res.cork(() => res.end());
    } catch (err) {
      this.options.log.error({ err, requestId: exchange.requestId }, 'streamed response failed mid-body');
      if (!state.aborted) res.cork(() => res.close());
    }
  }

  /** Resolves when uWS can take more bytes for this response, or when the client has gone away. */
  private writable(exchange: Exchange): Promise<void> {
    return new Promise((resolve) => {
      if (exchange.state.aborted) {
        resolve();
        return;
      }
      exchange.abortWaiters.push(resolve);
      exchange.res.onWritable(() => {
        resolve();
        return true;
      });
    });
  }

  private requestDone(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

function groupByPath(routes: CompiledRoute[]): PathGroup[] {
  const groups = new Map<string, PathGroup>();
  for (const compiled of routes) {
    // Routes differing only in parameter names share one uWS pattern; parameters are read by position.
    const shape = compiled.route.path.replace(/:[A-Za-z0-9_]+/g, ':p');
    let group = groups.get(shape);
    if (!group) {
      group = { pattern: compiled.route.path, byMethod: new Map(), methods: [], meters: new Map() };
      groups.set(shape, group);
    }
    if (group.byMethod.has(compiled.route.method)) {
      throw new Error(`duplicate route ${compiled.route.method} ${compiled.route.path}`);
    }
    group.byMethod.set(compiled.route.method, compiled);
    group.methods.push(compiled.route.method);
    if (compiled.route.method === 'GET') group.methods.push('HEAD');
  }
  return [...groups.values()];
}

function decodeParams(names: string[], raw: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    try {
      params[name] = decodeURIComponent(raw[i] ?? '');
    } catch {
      throw new MnemoError('validation', `path.${name} is not valid percent-encoding`);
    }
  });
  return params;
}

/**
 * Query parameters, decoded strictly: a value that is not percent-encoded UTF-8 is a 400 naming it (a
 * lenient decoder would hand U+FFFD to the handler, which may store it). `+` is a space, as in forms.
 */
function parseQuery(raw: string, arrays: Set<string>): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (raw === '') return query;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq), 'A query parameter name');
    const value = decodeQueryPart(eq < 0 ? '' : pair.slice(eq + 1), `query.${name}`);
    if (arrays.has(name)) {
      const list = (query[name] as string[] | undefined) ?? [];
      list.push(...value.split(',').filter((v) => v !== ''));
      query[name] = list;
    } else if (!(name in query)) {
      query[name] = value;
    }
  }
  return query;
}

function decodeQueryPart(part: string, label: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw new MnemoError('validation', `${label} is not valid percent-encoded UTF-8`);
  }
}

/** The response body with `warnings` naming each ignored field (only routes whose schema declares it). */
function withWarnings(payload: unknown, ignored: string[]): unknown {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const warnings = ignored.map((name) => `Field ${name} is not used by this route and was ignored`);
  return { ...(payload as Record<string, unknown>), [WARNINGS_FIELD]: warnings };
}

/** Reply headers as name/value pairs; a list of values is sent as one header line each (Set-Cookie). */
function headerList(headers: Record<string, string | readonly string[]>): [string, string][] {
  return Object.entries(headers).flatMap(([name, value]) =>
    typeof value === 'string'
      ? [[name, value] as [string, string]]
      : value.map((v) => [name, v] as [string, string]),
  );
}
