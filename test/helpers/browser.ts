import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/paths.js';

/**
 * Debian's chromium driven by playwright-core (which never downloads a browser). `scripts/ensure-chromium.sh`
 * installs it when missing, as `npm test` does for redis-server; the console is built first when its build
 * is missing or older than its sources. The browser runs as a child process whose pid the caller stops.
 */
export interface TestBrowser {
  browser: Browser;
  pid: number | undefined;
  stop(): Promise<void>;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export async function launchChromium(): Promise<TestBrowser> {
  execFileSync('sh', [path.join(PROJECT_ROOT, 'scripts', 'ensure-chromium.sh')], { stdio: 'inherit' });
  const executablePath = process.env.MNEMO_CHROMIUM ?? findOnPath('chromium');
  const server: BrowserServer = await chromium.launchServer({ executablePath, headless: true, args: FLAGS });
  const pid = server.process().pid;
  try {
    const browser = await chromium.connect(server.wsEndpoint());
    return {
      browser,
      pid,
      stop: async () => {
        await browser.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        killIfAlive(pid);
      },
    };
  } catch (err) {
    await server.close().catch(() => undefined);
    killIfAlive(pid);
    throw err;
  }
}

function killIfAlive(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: what closing the browser should have done.
  }
}

function findOnPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not on PATH (scripts/ensure-chromium.sh should have installed it)`);
}

/** Builds the console (ui/ -> dist/ui) when its build is missing or older than any of its sources. */
export function ensureConsoleBuilt(): void {
  const built = path.join(PROJECT_ROOT, 'dist', 'ui', 'index.html');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (builtAt > newestSource(path.join(PROJECT_ROOT, 'ui'))) return;
  execFileSync('npm', ['run', '-s', 'build:ui'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}
