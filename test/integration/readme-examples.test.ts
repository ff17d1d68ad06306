import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import type { ServiceProcess } from '../helpers/process.js';
import { spawnServer, stopService } from '../helpers/server-process.js';

/**
 * The README's quick-start shell examples as a new user runs them: `npm start` without MNEMO_ADMIN_KEY (the
 * key is generated into data/admin.key), then the layer API and engram API blocks pasted into a shell, only
 * the port changed. They must work as written and leave the shell's own variables alone.
 */
const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const shellBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const blockAfter = (heading: string): string => {
  const at = readme.indexOf(heading);
  const block = shellBlocks.find((b) => readme.indexOf(b) > at);
  if (at < 0 || block === undefined) throw new Error(`no sh block after ${heading}`);
  return block;
};
const quickStart = blockAfter('## Quick start (layer API)');
const engramExample = blockAfter('**Scopes.**');
const hasTools = ['curl', 'jq'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

describe('README shell examples (read as text)', () => {
  it('assign no variable a shell already uses, and read the admin key that npm start generates', () => {
    for (const block of shellBlocks) {
      const assigned = [...block.matchAll(/^(?:export )?([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]);
      for (const name of ['USER', 'HOME', 'PATH', 'PWD', 'SHELL', 'LANG', 'TERM', 'HOSTNAME'])
        expect(assigned).not.toContain(name);
    }
    for (const block of [quickStart, engramExample]) {
      expect(block).toContain('data/admin.key');
      // MNEMO_ADMIN_KEY is unset in the npm start flow: only as a fallback-first choice.
      expect(block.replace(/\$\{MNEMO_ADMIN_KEY:-\$\(cat data\/admin\.key\)\}/g, '')).not.toContain(
        'MNEMO_ADMIN_KEY',
      );
    }
  });

  it('keep keys off npm command lines (npm echoes them in its banner)', () => {
    for (const block of shellBlocks)
      for (const line of block
        .split('\n')
        .filter((l) => /\bnpm run events\b|\bnpm run -s events\b/.test(l))) {
        expect(line).toMatch(/npm run -s events/);
        expect(line).not.toMatch(/--key\s/);
      }
  });
});

/** curl prints each body without a newline: the JSON documents of a run, one after another. */
function jsonDocuments(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if ((c === '}' || c === ']') && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

describe.runIf(hasTools)('README shell examples (run against npm start)', () => {
  let dir: string;
  let service: ServiceProcess;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mnemo-readme-'));
    await mkdir(path.join(dir, 'data'));
    // As npm start: no MNEMO_ADMIN_KEY, data in ./data of the directory the user works in.
    ({ service, port } = await spawnServer({ MNEMO_DATA_DIR: path.join(dir, 'data') }));
  });
  afterAll(async () => {
    await stopService(service);
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a README block in bash in the user's directory, on this test's port; the shell's USER is "ana". */
  const run = (block: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const script = `${block.replaceAll('localhost:7700', `localhost:${port}`)}\necho "USER=$USER"\n`;
      const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', USER: 'ana' };
      execFile('bash', ['-c', script], { cwd: dir, env, timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      );
    });

  it('the layer API quick start remembers, recalls, builds context and counts', async () => {
    const out = await run(quickStart);
    expect(out.trimEnd().endsWith('USER=ana')).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const [remember, recall, context, stats] = jsonDocuments(out) as any[];
    expect(remember.facts).toHaveLength(1);
    expect(recall.results.length).toBeGreaterThan(0);
    expect(context.content).toContain('async Python frameworks');
    expect(stats).toMatchObject({ workspace_id: 'acme-corp', episodic_records: 1 });
  });

  it('the engram API example provisions a user and a group, writes, recalls and injects', async () => {
    const out = await run(engramExample);
    expect(out.trimEnd().endsWith('USER=ana')).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const [membership, created, recall, inject] = jsonDocuments(out) as any[];
    expect(membership.role).toBe('editor');
    expect(created.status).toBe('active');
    expect(recall.results[0].statement).toBe('Deploys must run migrations first.');
    expect(inject.text).toContain('Deploys must run migrations first.');
  });
});
