/**
 * Running totals of one event server, kept as plain numbers so the send path pays one increment; /metrics
 * reads them when it is scraped.
 */
export interface StreamStats {
  /** Event frames handed to sockets (live fan-out and replay). */
  eventsSent: number;
  /** Sockets closed with 4008 because their send queue outgrew MNEMO_WS_MAX_BACKPRESSURE_BYTES. */
  backpressureCloses: number;
}

export const newStreamStats = (): StreamStats => ({ eventsSent: 0, backpressureCloses: 0 });
