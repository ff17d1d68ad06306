/**
 * Close codes the event server sends (docs/EVENTS.md). Codes that end in "resume" mean: reconnect and
 * subscribe again with `since` set to the id of the last event you received; nothing is lost.
 */
export interface CloseReason {
  code: number;
  reason: string;
}

export const CLOSE = {
  shutdown: { code: 1001, reason: 'server shutting down: resume from your last event id' },
  internal: { code: 1011, reason: 'internal error: resume from your last event id' },
  unavailable: { code: 1013, reason: 'storage unavailable: resume from your last event id' },
  revoked: { code: 4001, reason: 'credential revoked' },
  expired: { code: 4001, reason: 'credential expired' },
  tooSlow: { code: 4008, reason: 'too slow: resume from your last event id' },
} as const satisfies Record<string, CloseReason>;
