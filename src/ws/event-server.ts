import * as uWS from 'uWebSockets.js';
import type { Invalidatable } from '../auth/invalidation.js';
import { MnemoError, isMnemoError } from '../errors.js';
import { renderError } from '../http/error-dialects.js';
import { statusLine } from '../http/status.js';
import type { Logger } from '../log.js';
import { isConnectionError } from '../redis/clients.js';
import { CLOSE } from './close-codes.js';
import { EventConnection, type EventLimits, type SocketData } from './connection.js';
import type { EventEndpoint, Grant } from './endpoints.js';
import type { Fanout } from './fanout.js';
import { upgradeToken } from './upgrade-token.js';

export interface EventServerOptions {
  limits: EventLimits;
  /** Largest event envelope to expect (for uWS's hard backpressure cap); about the request body limit. */
  maxEventBytes: number;
  fanout: Fanout;
  log: Logger;
}

/** What an upgrade needs from its request, copied while the request is still valid. */
interface Handshake {
  res: uWS.HttpResponse;
  key: string;
  subprotocol: string;
  extensions: string;
  context: uWS.us_socket_context_t;
  token: string;
}

/**
 * The WebSocket side of the uWS server: one `app.ws` route per endpoint (endpoints.ts), authentication at
 * upgrade, socket lifecycle, per-credential socket caps, and revocation. uWS discipline as in the HTTP core:
 * the upgrade request is copied synchronously, onAborted is registered before any await, the upgrade is
 * corked, and no exception escapes a uWS callback.
 *
 * Registered with CredentialInvalidation: `invalidate(tag)` closes every socket whose credential carries the
 * tag (4001); `clear()` (the invalidation channel lost messages) re-verifies each open socket's credential.
 */
export class EventServer implements Invalidatable {
  private readonly connections = new Map<EventConnection, SocketData>();
  private readonly byTag = new Map<string, Set<EventConnection>>();
  private readonly perCredential = new Map<string, number>();
  private closing = false;

  constructor(
    app: uWS.TemplatedApp,
    endpoints: readonly EventEndpoint[],
    private readonly options: EventServerOptions,
  ) {
    for (const endpoint of endpoints) app.ws<SocketData>(endpoint.path, this.behavior(endpoint));
  }

  /** Open event sockets on this instance. */
  get socketCount(): number {
    return this.connections.size;
  }

  /** Workspaces whose channel this instance listens to (those with a subscribed socket here). */
  get workspaceCount(): number {
    return this.options.fanout.workspaces;
  }

  invalidate(tag: string): void {
    const hit = this.byTag.get(tag);
    if (!hit) return;
    for (const connection of [...hit]) connection.close(CLOSE.revoked);
  }

  clear(): void {
    // Caches registered before us have cleared already; check again what each socket was let in with.
    const byCredential = new Map<string, { data: SocketData; connections: EventConnection[] }>();
    for (const [connection, data] of this.connections) {
      const group = byCredential.get(data.grant.credentialId) ?? { data, connections: [] };
      group.connections.push(connection);
      byCredential.set(data.grant.credentialId, group);
    }
    for (const { data, connections } of byCredential.values()) {
      data.endpoint.authenticate(data.token).then(
        () => undefined,
        (err: unknown) => {
          if (isMnemoError(err) && (err.code === 'unauthorized' || err.code === 'forbidden')) {
            for (const connection of connections) connection.close(CLOSE.revoked);
          } else {
            this.options.log.warn({ err }, 'could not re-verify an event socket credential; keeping it open');
          }
        },
      );
    }
  }

  /** Closes every event socket with 1001; new upgrades are refused with 503 from now on. */
  close(): void {
    this.closing = true;
    for (const connection of [...this.connections.keys()]) connection.close(CLOSE.shutdown);
  }

  private behavior(endpoint: EventEndpoint): uWS.WebSocketBehavior<SocketData> {
    const { limits, maxEventBytes, log } = this.options;
    const guard =
      <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
      (...args: A): void => {
        try {
          fn(...args);
        } catch (err) {
          log.error({ err, path: endpoint.path }, `event socket ${what} failed`);
        }
      };
    return {
      // Up to four times the documented limit is read and answered with an error frame; beyond, uWS drops
      // the connection without reading further, which bounds memory.
      maxPayloadLength: limits.maxPayloadBytes * 4,
      idleTimeout: limits.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      // Our own check (EventConnection.send) closes at maxBackpressureBytes with 4008. uWS's cap sits above
      // it so that the message crossing our limit and the close frame still fit; it only ever applies if
      // one event is larger than expected.
      maxBackpressure: 2 * (limits.maxBackpressureBytes + maxEventBytes),
      closeOnBackpressureLimit: false,
      upgrade: guard(
        'upgrade',
        (res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t) =>
          this.upgrade(endpoint, res, req, context),
      ),
      open: guard('open', (ws: uWS.WebSocket<SocketData>) => this.open(ws)),
      message: guard('message', (ws: uWS.WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean) =>
        ws.getUserData().connection?.onMessage(message, isBinary),
      ),
      drain: guard('drain', (ws: uWS.WebSocket<SocketData>) => ws.getUserData().connection?.onDrain()),
      dropped: guard('dropped', (ws: uWS.WebSocket<SocketData>) =>
        ws.getUserData().connection?.close(CLOSE.tooSlow),
      ),
      close: guard('close', (ws: uWS.WebSocket<SocketData>) => this.closed(ws.getUserData())),
    };
  }

  private upgrade(
    endpoint: EventEndpoint,
    res: uWS.HttpResponse,
    req: uWS.HttpRequest,
    context: uWS.us_socket_context_t,
  ): void {
    // Copy everything out of the request now: it is stack-allocated and gone after this call.
    const url = req.getUrl();
    const key = req.getHeader('sec-websocket-key');
    const extensions = req.getHeader('sec-websocket-extensions');
    const { token, subprotocol } = upgradeToken(
      req.getHeader('authorization'),
      req.getHeader('sec-websocket-protocol'),
      req.getQuery() ?? '',
    );
    const handshake: Handshake = { res, key, subprotocol, extensions, context, token: token ?? '' };
    // Decided without I/O (a cached credential, a token that cannot be valid): answer right here, inside the
    // uWS callback, where the response is corked and an upgrade is safe.
    let grant: Grant | undefined;
    try {
      if (this.closing) throw new MnemoError('unavailable', 'The server is shutting down');
      grant = endpoint.authenticateNow(token);
    } catch (err) {
      this.refuse(res, endpoint, url, err);
      return;
    }
    if (grant) {
      this.accept(endpoint, grant, handshake, false);
      return;
    }
    const state = { aborted: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    endpoint
      .authenticate(token)
      .then((verified) => {
        if (state.aborted) return;
        if (this.closing) throw new MnemoError('unavailable', 'The server is shutting down');
        state.aborted = true; // answered from here on: nothing else may touch `res`
        this.accept(endpoint, verified, handshake, true);
      })
      .catch((err: unknown) => {
        // Aborted by the client, or the upgrade itself failed: there is nobody left to answer.
        if (state.aborted) throw err;
        state.aborted = true;
        res.cork(() => this.refuse(res, endpoint, url, err));
      })
      .catch((err: unknown) => this.options.log.error({ err }, 'could not answer an event socket upgrade'));
  }

  /** Upgrades, unless the credential already holds its share of sockets. */
  private accept(endpoint: EventEndpoint, grant: Grant, handshake: Handshake, deferred: boolean): void {
    const { res, key, subprotocol, extensions, context, token } = handshake;
    const open = this.perCredential.get(grant.credentialId) ?? 0;
    if (open >= this.options.limits.maxSocketsPerCredential) {
      const max = this.options.limits.maxSocketsPerCredential;
      const refusal = new MnemoError('rate_limited', `This credential already holds ${max} event sockets`);
      if (deferred) res.cork(() => this.refuse(res, endpoint, endpoint.path, refusal));
      else this.refuse(res, endpoint, endpoint.path, refusal);
      return;
    }
    // Counted before `open` runs (synchronously inside upgrade), so concurrent upgrades cannot overshoot; the
    // close handler gives the slot back.
    this.perCredential.set(grant.credentialId, open + 1);
    const data: SocketData = { grant, endpoint, token };
    try {
      // After an await this upgrade is deliberately not corked: in this uWS build, res.cork(() => res.upgrade())
      // from outside a uWS callback can read the freed response's state after the upgrade and close the new
      // socket at once (uNetworking/uWebSockets#1929). uWS prints a cork warning for it instead; the
      // synchronous path above keeps such upgrades rare (a credential not yet cached on this instance).
      res.upgrade(data, key, subprotocol, extensions, context);
    } catch (err) {
      this.release(grant.credentialId);
      throw err;
    }
  }

  private refuse(res: uWS.HttpResponse, endpoint: EventEndpoint, url: string, err: unknown): void {
    const rendered = renderError(endpoint.face, this.toMnemoError(err, endpoint), url);
    res.writeStatus(statusLine(rendered.status));
    res.writeHeader('Content-Type', rendered.contentType);
    for (const [name, value] of Object.entries(rendered.headers)) res.writeHeader(name, value);
    res.end(rendered.body, true);
  }

  private open(ws: uWS.WebSocket<SocketData>): void {
    const data = ws.getUserData();
    const connection = new EventConnection(
      ws,
      data.grant,
      this.options.fanout,
      this.options.limits,
      this.options.log,
    );
    data.connection = connection;
    this.connections.set(connection, data);
    for (const tag of data.grant.tags) {
      let set = this.byTag.get(tag);
      if (!set) this.byTag.set(tag, (set = new Set()));
      set.add(connection);
    }
  }

  private release(credentialId: string): void {
    const open = (this.perCredential.get(credentialId) ?? 1) - 1;
    if (open > 0) this.perCredential.set(credentialId, open);
    else this.perCredential.delete(credentialId);
  }

  private closed(data: SocketData): void {
    this.release(data.grant.credentialId);
    const connection = data.connection;
    if (!connection) return;
    connection.onClosed();
    this.connections.delete(connection);
    for (const tag of data.grant.tags) {
      const set = this.byTag.get(tag);
      set?.delete(connection);
      if (set?.size === 0) this.byTag.delete(tag);
    }
  }

  private toMnemoError(err: unknown, endpoint: EventEndpoint): MnemoError {
    if (isMnemoError(err)) return err;
    if (isConnectionError(err)) {
      return new MnemoError('unavailable', 'Storage is temporarily unavailable; retry shortly', {
        headers: { 'Retry-After': '1' },
      });
    }
    this.options.log.error({ err, path: endpoint.path }, 'event socket upgrade failed');
    return new MnemoError('internal', 'Internal server error');
  }
}
