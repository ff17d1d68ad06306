import type { Readable } from 'node:stream';
import type { Logger } from './log.js';

/**
 * What a server process writes to stderr, passed on by its supervisor line by line, with one exception.
 *
 * uWS prints "writes must be made from within a corked callback" for every event-socket upgrade answered
 * after a Redis lookup (a credential this instance has not cached yet): that upgrade is deliberately not
 * corked, because corking an upgrade from outside a uWS callback closes about half of the new sockets in
 * this uWS build (uNetworking/uWebSockets#1929, see src/ws/handshake.ts). The line is native (std::cerr),
 * so the server process cannot hold it back itself; its supervisor turns it into a debug-level log line
 * instead, and the output stays JSON log lines plus genuine errors.
 */
export const UWS_CORK_NOTICE = 'Warning: uWS.HttpResponse writes must be made from within a corked callback';

export function forwardServerStderr(
  stream: Readable,
  log: Logger,
  sink: (text: string) => void = (text) => void process.stderr.write(text),
): void {
  let pending = '';
  const emit = (line: string): void => {
    if (line.startsWith(UWS_CORK_NOTICE)) log.debug('an event socket upgrade was answered after a lookup');
    else sink(`${line}\n`);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (pending !== '') emit(pending);
    pending = '';
  });
}
