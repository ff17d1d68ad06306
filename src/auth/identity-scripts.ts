import type { AuditEntry, AuditLog } from '../memory/audit/audit-log.js';
import type { EventLog } from '../memory/event-log.js';
import type { RedisClient } from '../redis/clients.js';
import type { Keys } from '../redis/keys.js';
import { ScriptError } from '../redis/script-errors.js';
import type { Scripts } from '../redis/scripts.js';
import type { AdminCall } from './admin-guard.js';

/**
 * What the identity services (users.ts, groups.ts) share. Identity records live in the organisation's hash
 * slot; every change is one Lua script that also audits it, announces it, and, when it changes what
 * someone may see, publishes the credential invalidation that drops cached principals on every instance:
 * `user:<org>:<id>` for one user, `org:<org>` for everyone in the organisation.
 */
export const userTag = (org: string, userId: string): string => `user:${org}:${userId}`;
export const orgTag = (org: string): string => `org:${org}`;

export interface IdentityDeps {
  redis: RedisClient;
  scripts: Scripts;
  keys: Keys;
  events: EventLog;
  audit: AuditLog;
  /** Drops cached principals on this instance at once (the published message does it everywhere). */
  invalidateLocal: (tag: string) => void;
}

/**
 * Runs an identity script with the event context first in ARGV and the workspace event stream and the
 * audit stream as its last two keys (the layout every identity script shares). Known refusals come back as
 * 'conflict' / 'not_found'.
 */
export async function runIdentityScript(
  deps: IdentityDeps,
  script: string,
  keys: string[],
  call: AdminCall,
  args: (string | number)[],
): Promise<unknown> {
  const { tenant, actor } = call.caller;
  try {
    return await deps.scripts.run(
      script,
      [...keys, deps.keys.eventStream(tenant), deps.keys.audit(tenant)],
      [...deps.events.contextArgs(tenant, actor), ...args],
    );
  } catch (err) {
    if (err instanceof ScriptError && (err.kind === 'conflict' || err.kind === 'not_found')) return err.kind;
    throw err;
  }
}

/**
 * Runs an identity script that changes what someone may see: the invalidation channel, the tag to publish
 * on it, the audit entry and the audit stream's MAXLEN follow `args` (the tail those scripts share), and
 * once the change is made this instance drops the tag's cached principals at once.
 */
export async function runAccessChange(
  deps: IdentityDeps,
  script: string,
  keys: string[],
  call: AdminCall,
  args: (string | number)[],
  change: { tag: string; audit: AuditEntry; tail?: (string | number)[] },
): Promise<unknown> {
  const result = await runIdentityScript(deps, script, keys, call, [
    ...args,
    deps.keys.credentialInvalidationChannel(),
    change.tag,
    JSON.stringify(change.audit),
    deps.audit.maxLen,
    // Arguments a script takes after the shared tail (updateUser's SCIM version and userName index).
    ...(change.tail ?? []),
  ]);
  if (result !== 'conflict' && result !== 'not_found') deps.invalidateLocal(change.tag);
  return result;
}
