import { performance } from 'node:perf_hooks';
import type * as uWS from 'uWebSockets.js';
import type { AuthFailureGate } from '../auth/auth-failure-limiter.js';
import { credentialRefused } from '../auth/credential-errors.js';
import { MnemoError, isMnemoError } from '../errors.js';
import { SESSION_COOKIE, cookieValue } from '../http/cookies.js';
import { renderError } from '../http/error-dialects.js';
import { copyHeaders } from '../http/request-headers.js';
import { requestIdFrom } from '../http/request-id.js';
import { statusLine } from '../http/status.js';
import type { Logger } from '../log.js';
import { isConnectionError } from '../redis/clients.js';
import type { SocketData } from './connection.js';
import type { EventEndpoint, Grant } from './endpoints.js';
import { upgradeToken } from './upgrade-token.js';

/** What the handshake asks of the event server: whether it takes sockets, and a per-credential slot. */
export interface Admission {
  closing(): boolean;
  /** Failed authentications per client address, shared with HTTP. */
  failures(): AuthFailureGate;
  /** Changes with every credential invalidation this instance applies. */
  epoch(): number;
  /** Takes a socket slot for the credential, or returns why not (429). */
  reserve(grant: Grant): MnemoError | undefined;
  release(grant: Grant): void;
}

/** What an upgrade needs from its request, copied while the request is still valid. */
interface Handshake {
  endpoint: EventEndpoint;
  res: uWS.HttpResponse;
  url: string;
  key: string;
  subprotocol: string;
  extensions: string;
  context: uWS.us_socket_context_t;
  token: string;
  /** The client's address, for the failed-authentication budget. */
  address: string;
  /** For the X-Request-Id and X-Latency-Ms headers of a refusal, as on every HTTP answer. */
  requestId: string;
  started: number;
}

/**
 * The WebSocket handshake of an event endpoint: find the token, authenticate, take a socket slot, upgrade,
 * or refuse with the endpoint's error dialect (401 bad credential, 429 too many sockets, 503 shutting down).
 *
 * uWS discipline: the request is copied synchronously; when the credential can be decided without I/O (a
 * cached key, a token that cannot be valid) the answer is given inside the uWS callback, where the response
 * is corked; otherwise onAborted is registered before the lookup is awaited.
 */
export function handleUpgrade(
  endpoint: EventEndpoint,
  admission: Admission,
  log: Logger,
  res: uWS.HttpResponse,
  req: uWS.HttpRequest,
  context: uWS.us_socket_context_t,
): void {
  // Copied now: the request is gone after this callback returns.
  const headers = copyHeaders(req);
  const header = (name: string): string | undefined => headers.values[name.toLowerCase()] || undefined;
  const offered = upgradeToken(
    header('authorization') ?? '',
    header('sec-websocket-protocol') ?? '',
    req.getQuery() ?? '',
  );
  const { subprotocol, malformed } = offered;
  // A browser signed in by single sign-on carries its session cookie (SameSite=Lax: never cross-site).
  const token =
    offered.token ?? (endpoint.face === 'engram' ? cookieValue(header('cookie'), SESSION_COOKIE) : undefined);
  const handshake: Handshake = {
    endpoint,
    res,
    url: req.getUrl(),
    key: req.getHeader('sec-websocket-key'),
    subprotocol,
    extensions: req.getHeader('sec-websocket-extensions'),
    context,
    token: token ?? '',
    address: Buffer.from(res.getRemoteAddressAsText()).toString(),
    requestId: requestIdFrom(req.getHeader('x-request-id')),
    started: performance.now(),
  };
  const failures = admission.failures();
  let grant: Grant | undefined;
  let credentialError: unknown;
  try {
    if (admission.closing()) throw new MnemoError('unavailable', 'The server is shutting down');
    failures.refuseIfBlocked(handshake.address);
    try {
      // The same rules as HTTP: one Authorization header, and a Bearer one when it is what carries the token.
      if (headers.repeated.has('authorization')) throw credentialRefused.repeated();
      if (token === undefined && malformed) throw credentialRefused.notBearer();
      grant = endpoint.authenticateNow(token);
    } catch (err) {
      credentialError = err;
    }
  } catch (err) {
    refuse(handshake, err, log);
    return;
  }
  if (grant) {
    accept(handshake, grant, admission, log, false, false);
    return;
  }
  const state = { answered: false };
  res.onAborted(() => {
    state.answered = true;
  });
  const epoch = admission.epoch();
  // A refused credential is counted against the address's budget before it is answered (401 or 429).
  const verify = async (): Promise<Grant> => {
    try {
      if (credentialError === undefined) return await endpoint.authenticate(token, header);
    } catch (err) {
      credentialError = err;
    }
    throw await failures.answerFailure(handshake.address, credentialError);
  };
  verify()
    .then((verified) => {
      if (state.answered) return;
      if (admission.closing()) throw new MnemoError('unavailable', 'The server is shutting down');
      state.answered = true;
      accept(handshake, verified, admission, log, true, admission.epoch() !== epoch);
    })
    .catch((err: unknown) => {
      // Aborted by the client, or the upgrade itself failed: there is nobody left to answer.
      if (state.answered) throw err;
      state.answered = true;
      res.cork(() => refuse(handshake, err, log));
    })
    .catch((err: unknown) => log.error({ err }, 'could not answer an event socket upgrade'));
}

function accept(
  handshake: Handshake,
  grant: Grant,
  admission: Admission,
  log: Logger,
  deferred: boolean,
  recheck: boolean,
): void {
  const { endpoint, res, key, subprotocol, extensions, context, token } = handshake;
  const refusal = admission.reserve(grant);
  if (refusal) {
    if (deferred) res.cork(() => refuse(handshake, refusal, log));
    else refuse(handshake, refusal, log);
    return;
  }
  const data: SocketData = { grant, endpoint, token, recheck };
  try {
    // After an await this upgrade is deliberately not corked: in this uWS build, res.cork(() => res.upgrade())
    // from outside a uWS callback can misread the old response's state after the upgrade and close the new
    // socket at once (uNetworking/uWebSockets#1929; about half of such sockets here: the second test of
    // ws-upgrade-log.test.ts fails). uWS prints one native cork warning line on stderr instead, which is
    // harmless and which the supervisor keeps out of the output (src/native-stderr.ts); the synchronous path
    // keeps such upgrades rare (a credential not yet cached on this instance).
    res.upgrade(data, key, subprotocol, extensions, context);
  } catch (err) {
    admission.release(grant);
    throw err;
  }
}

function refuse(handshake: Handshake, err: unknown, log: Logger): void {
  const { endpoint, res, url } = handshake;
  const rendered = renderError(endpoint.face, toMnemoError(err, endpoint, log), url);
  res.writeStatus(statusLine(rendered.status));
  res.writeHeader('Content-Type', rendered.contentType);
  res.writeHeader('X-Request-Id', handshake.requestId);
  res.writeHeader('X-Latency-Ms', (performance.now() - handshake.started).toFixed(3));
  for (const [name, value] of Object.entries(rendered.headers)) res.writeHeader(name, value);
  res.end(rendered.body, true);
}

function toMnemoError(err: unknown, endpoint: EventEndpoint, log: Logger): MnemoError {
  if (isMnemoError(err)) return err;
  if (isConnectionError(err)) {
    return new MnemoError('unavailable', 'Storage is temporarily unavailable; retry shortly', {
      headers: { 'Retry-After': '1' },
    });
  }
  log.error({ err, path: endpoint.path }, 'event socket upgrade failed');
  return new MnemoError('internal', 'Internal server error');
}
