import type * as uWS from 'uWebSockets.js';
import type { Invalidatable } from '../auth/invalidation.js';
import { MnemoError, isMnemoError } from '../errors.js';
import type { Logger } from '../log.js';
import { CLOSE } from './close-codes.js';
import { EventConnection, type EventLimits, type SocketData } from './connection.js';
import type { EventEndpoint } from './endpoints.js';
import type { Fanout } from './fanout.js';
import { handleUpgrade, type Admission } from './handshake.js';

export interface EventServerOptions {
  limits: EventLimits;
  /** Largest event envelope to expect (for uWS's hard backpressure cap); about the request body limit. */
  maxEventBytes: number;
  fanout: Fanout;
  log: Logger;
}

/**
 * The WebSocket side of the uWS server: one `app.ws` route per endpoint (endpoints.ts) with its handshake
 * (handshake.ts), the socket lifecycle, per-credential socket caps, and revocation. No exception escapes a
 * uWS callback.
 *
 * Registered with CredentialInvalidation: `invalidate(tag)` closes every socket whose credential carries the
 * tag (4001); `clear()` (the invalidation channel lost messages) re-verifies each open socket's credential.
 */
export class EventServer implements Invalidatable {
  private readonly connections = new Map<EventConnection, SocketData>();
  private readonly byTag = new Map<string, Set<EventConnection>>();
  private readonly perCredential = new Map<string, number>();
  private closing = false;
  private readonly admission: Admission = {
    closing: () => this.closing,
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
    );
    data.connection = connection;
    this.connections.set(connection, data);
    for (const tag of data.grant.tags) {
      let set = this.byTag.get(tag);
      if (!set) this.byTag.set(tag, (set = new Set()));
      set.add(connection);
    }
  }

  private closed(data: SocketData): void {
    this.admission.release(data.grant);
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
}
