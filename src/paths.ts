import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the directory holding mnemo's package.json), found by walking up from this module.
 * It works the same from src/ (tsx, vitest) and from dist/src/ (npm start).
 */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'mnemo') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the mnemo package root');
    dir = parent;
  }
}

export const PROJECT_ROOT = findRoot();
export const LUA_DIR = path.join(PROJECT_ROOT, 'lua');
