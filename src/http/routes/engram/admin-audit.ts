import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { AuditEntry } from '../../../memory/audit/audit-log.js';
import type { AuditFilter } from '../../../memory/audit/audit-query.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute, streamReply } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';

/** GET /api/v1/admin/audit: the organisation's audit trail (organisation admins). */
const OUTCOMES = ['success', 'failure', 'denied'] as const;
const CHANNELS = ['rest', 'admin', 'mcp', 'scim', 'webhook', 'system'] as const;
export const NDJSON = 'application/x-ndjson';

const AuditRow = Type.Object(
  {
    id: Type.String(),
    ts: Timestamp(),
    actor: Type.Object({ type: Type.String(), id: Type.String(), username: Nullable(Type.String()) }),
    action: Type.String(),
    target: Type.Object({ type: Type.String(), id: Type.String() }),
    channel: StringEnum(CHANNELS),
    outcome: StringEnum(OUTCOMES),
    request_id: Type.String(),
    ip: Nullable(Type.String({ description: 'Client address, or h:<keyed hash> with MNEMO_AUDIT_HASH_IPS' })),
    user_agent: Nullable(Type.String()),
    payload: Nullable(Type.Object({}, { additionalProperties: true })),
  },
  { title: 'AuditEntry' },
);

const Text = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });

const AuditQuerystring = Type.Object({
  actor: Type.Optional(Text('Actor id or username')),
  action: Type.Optional(Text('An action (user.create), or a prefix ending in * (engram.*)')),
  target: Type.Optional(Text('Target id, or type:id')),
  outcome: Type.Optional(StringEnum(OUTCOMES)),
  channel: Type.Optional(StringEnum(CHANNELS)),
  from: Type.Optional(Timestamp({ description: 'Oldest time included (ISO 8601)' })),
  to: Type.Optional(Timestamp({ description: 'Newest time included (ISO 8601)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  format: Type.Optional(
    StringEnum(['json', 'ndjson'] as const, {
      description: `ndjson streams the whole filtered range (${NDJSON}, one entry a line, newest first)`,
    }),
  ),
});

/** The wire row: the stored entry's documented fields, with username null when the actor has none. */
export function auditRow(entry: AuditEntry) {
  return {
    id: entry.id,
    ts: entry.ts,
    actor: { type: entry.actor.type, id: entry.actor.id, username: entry.actor.username ?? null },
    action: entry.action,
    target: entry.target,
    channel: entry.channel ?? 'rest',
    outcome: entry.outcome,
    request_id: entry.request_id,
    ip: entry.ip ?? null,
    user_agent: entry.user_agent ?? null,
    payload: entry.payload ?? null,
  };
}

function filterOf(query: {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: AuditFilter['outcome'];
  channel?: AuditFilter['channel'];
  from?: string;
  to?: string;
}): AuditFilter {
  const fromMs = query.from === undefined ? undefined : Date.parse(query.from);
  const toMs = query.to === undefined ? undefined : Date.parse(query.to);
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs)
    throw fail.validation('query.from must not be after query.to');
  return {
    actor: query.actor,
    action: query.action,
    target: query.target,
    outcome: query.outcome,
    channel: query.channel,
    fromMs,
    toMs,
  };
}

async function* ndjsonLines(chunks: AsyncIterable<AuditEntry[]>): AsyncGenerator<string> {
  for await (const entries of chunks) {
    yield entries.map((entry) => `${JSON.stringify(auditRow(entry))}\n`).join('');
  }
}

export function adminAuditRoutes(services: Services) {
  const { auditAdmin } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/audit',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary:
        'Read the audit trail of your organisation, newest first (filters, cursor pages, ndjson export).',
      description:
        'Every filter narrows the result; from/to bound the time. Pages carry next_cursor (null on the last page). ' +
        `With format=ndjson the whole filtered range is streamed as ${NDJSON} (cursor and limit are ignored) ` +
        'and the export itself is audited.',
      tags: ['admin'],
      schema: {
        querystring: AuditQuerystring,
        response: {
          200: Type.Object(
            { rows: Type.Array(AuditRow), next_cursor: Nullable(Type.String()) },
            { title: 'AuditPage' },
          ),
        },
      },
      handler: async ({ query, principal, ...request }) => {
        const filter = filterOf(query);
        const call = adminCall(principal, request);
        if (query.format === 'ndjson')
          return streamReply(200, NDJSON, ndjsonLines(await auditAdmin.export(call, filter)));
        const page = await auditAdmin.page(call, filter, query.cursor, query.limit ?? 50);
        return { rows: page.rows.map(auditRow), next_cursor: page.nextCursor };
      },
    }),
  ];
}
