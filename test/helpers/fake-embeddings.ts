import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an OpenAI-compatible /embeddings endpoint: deterministic 16-dimension vectors from the
 * words of each input, and a deliberate delay for any input containing `slowword`, so tests can make a
 * query miss its embedding budget without timing anything themselves.
 */
export interface FakeEmbeddings {
  url: string;
  dim: number;
  close(): Promise<void>;
}

const DIM = 16;

function vectorOf(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 0;
    for (const c of word) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    v[h % DIM] = (v[h % DIM] ?? 0) + 1;
  }
  return v;
}

export async function startFakeEmbeddings(slowMs = 3000): Promise<FakeEmbeddings> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { input } = JSON.parse(body) as { input: string[] };
      const answer = (): void => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ data: input.map((text, index) => ({ index, embedding: vectorOf(text) })) }));
      };
      if (input.some((text) => text.includes('slowword'))) setTimeout(answer, slowMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dim: DIM,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
