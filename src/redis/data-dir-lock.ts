import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { StartupRefused } from '../startup-refused.js';

/**
 * One mnemo per data directory: the embedded Redis's files, pid file and password live there, and a
 * second mnemo starting on it would stop the first one's redis-server as a leftover. The lock is a file
 * holding the owner's pid, created exclusively (O_EXCL); a lock whose pid no longer runs was left by a
 * killed mnemo and is taken over.
 */
export const LOCK_FILE = 'mnemo.pid';

export interface DataDirLock {
  release(): Promise<void>;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return {
        release: async () => {
          // Only our own lock: a takeover after a crash may have written another pid.
          if ((await readOwner(file)) === process.pid) await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner !== undefined && owner !== process.pid && (await isMnemoRunning(owner))) {
      throw new StartupRefused(
        `The data directory ${dataDir} is in use by another mnemo (pid ${owner}); ` +
          'stop it first, or give this one another MNEMO_DATA_DIR.',
      );
    }
    // Stale (its mnemo is gone) or unreadable: take it over.
    await rm(file, { force: true });
  }
  throw new StartupRefused(`Cannot lock the data directory ${dataDir} (${file} keeps reappearing).`);
}

async function readOwner(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Whether the lock's pid is still a mnemo. After a container restart the old pid may belong to some other
 * program: where /proc tells, a pid whose command line is not node's (or mnemo's) is not ours.
 */
async function isMnemoRunning(pid: number): Promise<boolean> {
  if (!isProcessRunning(pid)) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined || /node|mnemo/i.test(cmdline);
}

/** True while `pid` runs (signal 0 reaches it, or it runs as another user). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
