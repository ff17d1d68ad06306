import { createHash } from 'node:crypto';
import path from 'node:path';
import { randomHex } from '../ids.js';
import type { Logger } from '../log.js';
import { readOrCreateSecret } from '../secret-file.js';
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
  const { value, created } = await readOrCreateSecret(file, () => `plm_admin_${randomHex(24)}`);
  if (created)
    log.info({ file }, 'no admin key configured: generated one and stored it in this file (mode 0600)');
  else log.info({ file }, 'admin key read from file');
  return value;
}

/** Checks a presented token against the admin key in constant time. */
export class AdminKeyVerifier {
  constructor(private readonly key: string) {}

  matches(token: string): boolean {
    return constantTimeEqual(token, this.key);
  }

  /**
   * A key derived from the admin key for one purpose (the audit log's keyed address hash): every instance
   * of a deployment shares the admin key, so they derive the same key, and the admin key itself never
   * leaves this class.
   */
  derive(purpose: string): Buffer {
    return createHash('sha256').update(`mnemo:${purpose}:`).update(this.key).digest();
  }
}
