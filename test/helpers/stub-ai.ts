import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server speaking the OpenAI-compatible embeddings and chat APIs, for tests of the remote
 * embedder and the LLM fact extractor. Embeddings are deterministic word hashes; behaviour (delay,
 * failure, chat answer) is switchable per test.
 */
export interface StubAi {
  url: string;
  dim: number;
  embedDelayMs: number;
  embedFails: boolean;
  chatFails: boolean;
  chatAnswer: (text: string) => string;
  calls: { embeddings: number; chat: number };
  close(): Promise<void>;
}

function embedding(text: string, dim: number): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
    let h = 0;
    for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    v[h % dim] = (v[h % dim] as number) + 1;
  }
  return v;
}

export async function startStubAi(dim = 16): Promise<StubAi> {
  const stub: StubAi = {
    url: '',
    dim,
    embedDelayMs: 0,
    embedFails: false,
    chatFails: false,
    chatAnswer: () => '{"facts":[]}',
    calls: { embeddings: 0, chat: 0 },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as { input?: string[]; messages?: { content: string }[] };
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.url === '/v1/embeddings') {
        stub.calls.embeddings++;
        if (stub.embedFails) return send(503, { error: 'embeddings down' });
        const data = (body.input ?? []).map((text, index) => ({ index, embedding: embedding(text, dim) }));
        setTimeout(() => send(200, { data }), stub.embedDelayMs);
        return;
      }
      if (req.url === '/v1/chat/completions') {
        stub.calls.chat++;
        if (stub.chatFails) return send(500, { error: 'model overloaded' });
        const text = body.messages?.at(-1)?.content ?? '';
        return send(200, { choices: [{ message: { content: stub.chatAnswer(text) } }] });
      }
      send(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return stub;
}
