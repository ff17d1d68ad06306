import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LUA_DIR } from '../../src/paths.js';
import { readScripts } from '../../src/redis/scripts.js';

/** The file name is the contract: these checks keep each script's header and body true to it. */
describe('Lua script files', () => {
  const scripts = readScripts();

  it('are all named <camelName>-<numKeys>.lua', () => {
    const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));
    expect(files.length).toBeGreaterThan(0);
    expect(scripts.map((s) => s.file).sort()).toEqual(files.sort());
  });

  for (const script of readScripts()) {
    describe(script.file, () => {
      const raw = readFileSync(path.join(LUA_DIR, script.file), 'utf8');
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(raw)?.[1] ?? '';

      it('opens with a header documenting KEYS, ARGV and the output', () => {
        expect(header).not.toBe('');
        expect(header).toMatch(/Input:/);
        expect(header).toMatch(/Output:/);
      });

      it('documents exactly as many KEYS as its file name says', () => {
        const documented = new Set([...header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
        expect(documented.size).toBe(script.numberOfKeys);
        for (let i = 1; i <= script.numberOfKeys; i++) expect(documented.has(i)).toBe(true);
      });

      it('uses no KEYS beyond its key count (every key comes from KEYS, never built in Lua)', () => {
        const body = script.lua.replace(/^--\[\[[\s\S]*?\]\]/, '');
        const used = [...body.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
        expect(Math.max(0, ...used)).toBeLessThanOrEqual(script.numberOfKeys);
      });

      it('has every include inlined', () => {
        expect(script.lua).not.toMatch(/--- @include/);
      });
    });
  }
});
