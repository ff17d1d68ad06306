import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { compareStreamIds } from '../src/memory/events.js';

/**
 * Example client of the live event stream (docs/EVENTS.md): prints every event as one JSON line on stdout,
 * control frames on stderr, and after a disconnect reconnects and resumes from the last position it saw.
 * The key and the server can come from the environment (MNEMO_KEY, MNEMO_URL or MNEMO_PORT), so neither
 * has to appear on a command line; a plur_sk_ key connects to the engram API's stream.
 *
 *   MNEMO_KEY=plm_live_... npm run -s events -- [--url ws://127.0.0.1:7700] [--types memory.*,working.evicted]
 *                     [--user-id alice] [--agent-id planner] [--since <event id> | --since $]
 */
const USAGE =
  'usage: MNEMO_KEY=<key> npm run -s events -- [--key <key>] [--url ws://127.0.0.1:7700] [--types memory.*,...] ' +
  '[--user-id <id>] [--agent-id <id>] [--since <event id>|$]\n' +
  '  MNEMO_URL (or MNEMO_PORT) sets the server; http:// and https:// URLs work too.';

const { values } = parseArgs({
  options: {
    url: {
      type: 'string',
      default: process.env.MNEMO_URL ?? `ws://127.0.0.1:${process.env.MNEMO_PORT ?? 7700}`,
    },
    key: { type: 'string', default: process.env.MNEMO_KEY },
    types: { type: 'string', multiple: true },
    'user-id': { type: 'string' },
    'agent-id': { type: 'string' },
    since: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.key) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 2);
}

/** The server's own address (http or ws, with or without a trailing slash) plus the stream of the key's face. */
const server = values.url.replace(/^http(s?):\/\//, 'ws$1://').replace(/\/+$/, '');
const streamPath = values.key.startsWith('plur_sk_') ? '/api/v1/events' : '/v1/events';
const endpoint = `${server}${streamPath}`;
const types = values.types?.flatMap((t) => t.split(',')).filter((t) => t !== '');
/** Where to resume from: the newest position the server has confirmed (event, subscription or replay). */
let position: string | undefined = values.since === '$' ? undefined : values.since;
let backoffMs = 500;
let stopping = false;
let socket: WebSocket | undefined;

const note = (message: string): boolean => process.stderr.write(`[events] ${message}\n`);

function advance(id: string | undefined): void {
  if (id !== undefined && (position === undefined || compareStreamIds(id, position) > 0)) position = id;
}

function connect(): void {
  const ws = new WebSocket(endpoint, { headers: { authorization: `Bearer ${values.key}` } });
  socket = ws;
  ws.on('open', () => {
    const subscribe = {
      op: 'subscribe',
      ...(types?.length ? { types } : {}),
      ...(values['user-id'] ? { user_id: values['user-id'] } : {}),
      ...(values['agent-id'] ? { agent_id: values['agent-id'] } : {}),
      since: position ?? '$',
    };
    ws.send(JSON.stringify(subscribe));
  });
  ws.on('message', (data) => {
    const text = (data as Buffer).toString('utf8');
    const frame = JSON.parse(text) as Record<string, string | undefined>;
    if (frame.op === undefined) {
      advance(frame.id);
      process.stdout.write(`${text}\n`);
      return;
    }
    note(text);
    if (frame.op === 'subscribed') {
      backoffMs = 500;
      advance(frame.from);
    } else if (frame.op === 'replay.done') {
      advance(frame.last_id);
    } else if (frame.op === 'error' && frame.code === 'since_unknown') {
      note('the saved position is unknown to the server; continuing with new events only');
      position = undefined;
      ws.close();
    }
  });
  ws.on('unexpected-response', (_req, res) => {
    if (res.statusCode === 401) {
      note('the key was refused (401)');
      process.exit(1);
    }
    note(`upgrade refused with ${res.statusCode}`);
    ws.terminate();
  });
  ws.on('error', (err) => note(`connection error: ${err.message}`));
  ws.on('close', (code, reason) => {
    if (stopping) return;
    if (code === 4001) {
      note(`closed: ${code} ${reason.toString()}`);
      process.exit(1);
    }
    note(
      `closed (${code} ${reason.toString()}); resuming from ${position ?? 'new events'} in ${backoffMs} ms`,
    );
    setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 30_000);
  });
}

process.on('SIGINT', () => {
  stopping = true;
  socket?.close(1000);
  setTimeout(() => process.exit(0), 200).unref();
});

connect();
