import type * as uWS from 'uWebSockets.js';
import type { AuthFailureGate } from '../auth/auth-failure-limiter.js';
import type { Invalidatable } from '../auth/invalidation.js';
import { MnemoError, isMnemoError } from '../errors.js';
import type { Logger } from '../log.js';
import { CLOSE } from './close-codes.js';
import { callAt } from './expiry-timer.js';
import { EventConnection, type EventLimits, type SocketData } from './connection.js';
import type { EventEndpoint } from './endpoints.js';
import type { Fanout } from './fanout.js';
import { handleUpgrade, type Admission } from './handshake.js';
import { newStreamStats, type StreamStats } from './stream-stats.js';

export interface EventServerOptions {
  limits: EventLimits;
  /** Largest event envelope to expect (for uWS's hard backpressure cap); about the request body limit. */
  maxEventBytes: number;
  fanout: Fanout;
  /** Failed authentications per client address, shared with HTTP. */
  authFailures: AuthFailureGate;
  log: Logger;
}

/**
 * The WebSocket side of the uWS server: one `app.ws` route per endpoint (endpoints.ts) with its handshake
 * (handshake.ts), the socket lifecycle, per-credential socket caps, and revocation. No exception escapes a
 * uWS callback.
 *
 * Registered with CredentialInvalidation: `invalidate(tag)` closes every socket whose credential carries the
 * tag (4001), or re-verifies sockets for which the tag only means their permissions changed; `clear()` (the
 * invalidation channel lost messages) re-verifies each open socket's credential.
 */
export class EventServer implements Invalidatable {
  private readonly connections = new Map<EventConnection, SocketData>();
  private readonly byTag = new Map<string, Set<EventConnection>>();
  private readonly byRefreshTag = new Map<string, Set<EventConnection>>();
  /** Cancels the expiry timer of each socket whose credential expires. */
  private readonly expiryTimers = new Map<EventConnection, () => void>();
  private readonly perCredential = new Map<string, number>();
  private closing = false;
  private invalidations = 0;
  private readonly admission: Admission = {
    closing: () => this.closing,
    failures: () => this.options.authFailures,
    epoch: () => this.invalidations,
    reserve: (grant) => {
      const open = this.perCredential.get(grant.credentialId) ?? 0;
      const max = this.options.limits.maxSocketsPerCredential;
      if (open >= max)
        return new MnemoError('rate_limited', `This credential already holds ${max} event sockets`);
      // Taken before `open` runs (synchronously inside upgrade), so concurrent upgrades cannot overshoot; the
      // close handler gives it back.
      this.perCredential.set(grant.credentialId, open + 1);
      return undefined;
    },
    release: (grant) => {
      const open = (this.perCredential.get(grant.credentialId) ?? 1) - 1;
      if (open > 0) this.perCredential.set(grant.credentialId, open);
      else this.perCredential.delete(grant.credentialId);
    },
  };

  constructor(
    app: uWS.TemplatedApp,
    endpoints: readonly EventEndpoint[],
    private readonly options: EventServerOptions,
  ) {
    for (const endpoint of endpoints) app.ws<SocketData>(endpoint.path, this.behavior(endpoint));
  }

  /** Events sent and backpressure closes on this instance (read by /metrics). */
  readonly stats: StreamStats = newStreamStats();

  /** Open event sockets on this instance. */
  get socketCount(): number {
    return this.connections.size;
  }

  /** Workspaces whose channel this instance listens to (those with a subscribed socket here). */
  get workspaceCount(): number {
    return this.options.fanout.workspaces;
  }

  invalidate(tag: string): void {
    this.invalidations++;
    for (const connection of [...(this.byTag.get(tag) ?? [])]) connection.close(CLOSE.revoked);
    const changed = this.byRefreshTag.get(tag);
    if (changed) this.reverify([...changed]);
  }

  clear(): void {
    this.invalidations++;
    // Caches registered before us have cleared already; check again what each socket was let in with.
    this.reverify([...this.connections.keys()]);
  }

  /**
   * Checks the credentials of these sockets again: a grant that can refresh itself does (its permissions
   * may have changed); others authenticate their token again. Revoked or invalid -> 4001.
   */
  private reverify(connections: EventConnection[]): void {
    for (const connection of connections) {
      const data = this.connections.get(connection);
      if (!data) continue;
      const check = data.grant.refresh
        ? data.grant.refresh()
        : data.endpoint.authenticate(data.token, () => undefined).then(() => undefined);
      check.catch((err: unknown) => {
        if (isMnemoError(err) && (err.code === 'unauthorized' || err.code === 'forbidden')) {
          connection.close(CLOSE.revoked);
        } else {
          this.options.log.warn({ err }, 'could not re-verify an event socket credential; keeping it open');
        }
      });
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
          handleUpgrade(endpoint, this.admission, log, res, req, context),
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

  private open(ws: uWS.WebSocket<SocketData>): void {
    const data = ws.getUserData();
    const connection = new EventConnection(
      ws,
      data.grant,
      this.options.fanout,
      this.options.limits,
      this.options.log,
      this.stats,
    );
    data.connection = connection;
    this.connections.set(connection, data);
    index(this.byTag, data.grant.tags, connection);
    index(this.byRefreshTag, data.grant.refreshTags ?? [], connection);
    // An expiring credential is cut off at its expiry, not only at the next invalidation.
    const { expiresAt } = data.grant;
    if (expiresAt != null)
      this.expiryTimers.set(
        connection,
        callAt(expiresAt, () => connection.close(CLOSE.expired)),
      );
    if (data.recheck) this.reverify([connection]);
  }

  private closed(data: SocketData): void {
    this.admission.release(data.grant);
    const connection = data.connection;
    if (!connection) return;
    connection.onClosed();
    this.expiryTimers.get(connection)?.();
    this.expiryTimers.delete(connection);
    this.connections.delete(connection);
    unindex(this.byTag, data.grant.tags, connection);
    unindex(this.byRefreshTag, data.grant.refreshTags ?? [], connection);
  }
}

function index(
  map: Map<string, Set<EventConnection>>,
  tags: readonly string[],
  connection: EventConnection,
): void {
  for (const tag of tags) {
    let set = map.get(tag);
    if (!set) map.set(tag, (set = new Set()));
    set.add(connection);
  }
}

function unindex(
  map: Map<string, Set<EventConnection>>,
  tags: readonly string[],
  connection: EventConnection,
): void {
  for (const tag of tags) {
    const set = map.get(tag);
    set?.delete(connection);
    if (set?.size === 0) map.delete(tag);
  }
}
