import net from 'node:net';

/**
 * One HTTP/1.1 exchange on a raw socket, for what fetch cannot send (a header twice, bytes it refuses) and
 * what it hides (the server closing without an answer). Resolves with the raw answer ('' when the server
 * closed without one) once the server closes or a whole answer (by Content-Length) has arrived.
 */
export interface RawAnswer {
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer and no close within the time limit'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks).toString('latin1')));
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
  });
}

/** A whole answer has arrived: its headers and as many body bytes as Content-Length says. */
function complete(raw: string): boolean {
  const answer = parse(raw);
  if (answer.status === undefined) return false;
  const length = answer.headers['content-length'];
  return length !== undefined && Buffer.byteLength(answer.body, 'latin1') >= Number(length);
}

function parse(raw: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: undefined, headers: {}, body: '', raw };
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  return { status: Number.isNaN(status) ? undefined : status, headers, body: raw.slice(end + 4), raw };
}
