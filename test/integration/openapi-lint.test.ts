import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The machine-readable API descriptions as served: both OpenAPI documents pass `redocly lint` (with the
 * project's redocly.yaml) without an error or a warning, and the AsyncAPI document passes the AsyncAPI
 * parser's validation without a diagnostic.
 */
let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-api-docs-'));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; message: string; location?: { pointer?: string }[] }[];
}

/** Runs the redocly CLI on one document; the child is killed if it outlives its time limit. */
function redoclyLint(file: string): Promise<LintReport> {
  const cli = path.join(PROJECT_ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const args = [cli, 'lint', file, '--config', path.join(PROJECT_ROOT, 'redocly.yaml'), '--format=json'];
  // No network here: no telemetry, no update check.
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout) as LintReport);
      } catch {
        reject(new Error(`redocly gave no report (${err?.message ?? 'exit 0'}):\n${stdout}\n${stderr}`));
      }
    });
    child.once('error', reject);
  });
}

async function fetchDocument(url: string): Promise<Record<string, unknown>> {
  const res = await server.request('GET', url);
  expect(res.status).toBe(200);
  return res.json as Record<string, unknown>;
}

type Operation = { responses: Record<string, unknown>; parameters?: unknown[]; requestBody?: unknown };
type Paths = Record<string, Record<string, Operation>>;

describe('OpenAPI documents', () => {
  for (const url of ['/openapi.json', '/api/v1/openapi.json']) {
    it(`${url} passes redocly lint with no error and no warning`, async () => {
      const file = path.join(dir, `${url.replace(/\W+/g, '-')}.json`);
      await writeFile(file, JSON.stringify(await fetchDocument(url)));
      const report = await redoclyLint(file);
      expect(
        report.problems.map((p) => `${p.ruleId}: ${p.message} ${p.location?.[0]?.pointer ?? ''}`),
      ).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    });
  }

  it('keeps the one declared pair of same-template paths the only one (redocly.yaml turns that rule off)', async () => {
    const paths = Object.keys((await fetchDocument('/openapi.json')).paths as Paths);
    const byTemplate = new Map<string, string[]>();
    for (const p of paths) {
      const template = p.replace(/\{[^}]+\}/g, '{}');
      byTemplate.set(template, [...(byTemplate.get(template) ?? []), p]);
    }
    const shared = [...byTemplate.values()].filter((list) => list.length > 1);
    expect(shared).toEqual([['/admin/keys/{workspace_id}', '/admin/keys/{key_id}']]);
  });

  it('names the main resources in components.schemas and refers to them', async () => {
    const doc = await fetchDocument('/openapi.json');
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    for (const name of ['RankedMemory', 'RecallResponse', 'RememberResponse', 'LayerKey', 'LayerError'])
      expect(Object.keys(schemas)).toContain(name);
    for (const name of ['Engram', 'EngramRow', 'Problem', 'Session', 'Episode', 'User', 'Group'])
      expect(Object.keys(schemas)).toContain(name);
    const paths = doc.paths as Paths;
    const recall = paths['/v1/recall']!.post!.responses['200'] as { content: Record<string, unknown> };
    expect(recall.content['application/json']).toEqual({
      schema: { $ref: '#/components/schemas/RecallResponse' },
    });
    expect(JSON.stringify(schemas.RecallResponse)).toContain('#/components/schemas/RankedMemory');
    // A document lists only the schemas it uses.
    const engram = await fetchDocument('/api/v1/openapi.json');
    expect(Object.keys((engram.components as { schemas: object }).schemas)).not.toContain('LayerError');
  });

  it('documents the errors each route can answer, in its dialect: 403 and 409 included', async () => {
    const paths = (await fetchDocument('/openapi.json')).paths as Paths;
    const create = paths['/api/v1/engrams']!.post!.responses;
    expect(Object.keys(create)).toEqual(
      expect.arrayContaining(['400', '401', '403', '409', '413', '429', '503']),
    );
    expect(create['403']).toEqual({
      description: 'Insufficient permission',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
    expect(Object.keys(paths['/admin/keys/{key_id}']!.delete!.responses)).toContain('409');
    expect(paths['/v1/recall']!.post!.responses['401']).toEqual({
      description: 'Unauthorized',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/LayerError' } } },
    });
    // Every operation that takes input or a credential has 4XX answers documented.
    for (const [p, operations] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const takesSomething =
          (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined || !('security' in op);
        if (takesSomething)
          expect(
            Object.keys(op.responses).some((s) => s.startsWith('4')),
            `${method} ${p}`,
          ).toBe(true);
      }
    }
  });
});

describe('AsyncAPI document', () => {
  it('describes both event streams and passes the AsyncAPI parser without a diagnostic', async () => {
    expect((await server.request('GET', '/')).json).toMatchObject({ asyncapi: '/asyncapi.json' });
    const doc = await fetchDocument('/asyncapi.json');
    const diagnostics = await new Parser().validate(JSON.stringify(doc));
    expect(diagnostics.map((d) => `${d.code}: ${d.message} ${d.path.join('.')}`)).toEqual([]);
    const channels = doc.channels as Record<string, { address: string; messages: Record<string, unknown> }>;
    expect(Object.values(channels).map((c) => c.address)).toEqual(['/v1/events', '/api/v1/events']);
    for (const channel of Object.values(channels))
      expect(Object.keys(channel.messages)).toEqual(
        expect.arrayContaining(['subscribe', 'unsubscribe', 'ping', 'event', 'subscribed', 'error', 'pong']),
      );
    expect((doc.servers as { mnemo: { host: string } }).mnemo.host).toBe(new URL(server.url).host);
    const schemas = (doc.components as { schemas: Record<string, { properties?: object }> }).schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['SubscribeMessage', 'ErrorFrame', 'EventEnvelope', 'SubscribedFrame']),
    );
  });
});
