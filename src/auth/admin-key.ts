import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import { constantTimeEqual } from './secrets.js';

export const ADMIN_KEY_FILE = 'admin.key';

/**
 * The admin key comes from MNEMO_ADMIN_KEY / PLYRA_ADMIN_API_KEY; without one it is generated on first start
 * and kept in <data dir>/admin.key with mode 0600. The log says where the key is, never the key itself.
 */
export async function resolveAdminKey(
  configured: string | undefined,
  dataDir: string,
  log: Logger,
): Promise<string> {
  if (configured !== undefined) {
    if (configured.length < 16) log.warn('the configured admin key is shorter than 16 characters');
    return configured;
  }
  const file = path.join(dataDir, ADMIN_KEY_FILE);
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    },
  );
  if (existing) {
    log.info({ file }, 'admin key read from file');
    return existing;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = `plm_admin_${randomHex(24)}`;
  // 'wx' fails if another process created the file meanwhile; then read theirs.
  try {
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return resolveAdminKey(undefined, dataDir, log);
    throw err;
  }
  await chmod(file, 0o600);
  log.info({ file }, 'no admin key configured: generated one and stored it in this file (mode 0600)');
  return key;
}

/** Checks a presented token against the admin key in constant time. */
export class AdminKeyVerifier {
  constructor(private readonly key: string) {}

  matches(token: string): boolean {
    return constantTimeEqual(token, this.key);
  }
}
