import { Type } from '@sinclair/typebox';
import { ENGRAM_STATUSES } from '../../../memory/engrams/model.js';
import type { EngramPrincipal } from '../../../auth/principal.js';
import { EngramId } from '../../routes/engram/shapes.js';
import { defineTool } from '../tool.js';

/** plur_status (GET /api/v1/me and /api/v1/engrams counts) and plur_history (the event stream). */
const status = defineTool({
  name: 'plur_status',
  title: 'Memory status',
  description:
    'Who you are in the memory service, which scopes you read, and how many engrams each status holds there. ' +
    'Use it to check the connection or before a clean-up.',
  audience: 'engram',
  input: Type.Object({}),
  uses: ['GET /api/v1/me', 'GET /api/v1/engrams'],
  annotations: { readOnlyHint: true },
  run: async (_input, call) => {
    const me = await call.route('GET', '/api/v1/me');
    const counts: Record<string, number> = {};
    for (const engramStatus of ENGRAM_STATUSES) {
      const page = await call.route<{ total_count: number }>('GET', '/api/v1/engrams', {
        query: { status: engramStatus, limit: 1 },
      });
      counts[engramStatus] = page.total_count;
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return { ...me, engram_count: total, engrams_by_status: counts };
  },
});

const history = defineTool({
  name: 'plur_history',
  title: 'Engram history',
  description:
    "An engram's changes (created, updated, feedback, pinned, promoted, retired), oldest first, with who made each and when. " +
    'Use it to understand why an engram reads as it does.',
  audience: 'engram',
  input: Type.Object({
    engram_id: EngramId,
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, description: 'The newest this many; default 50.' }),
    ),
  }),
  uses: [],
  annotations: { readOnlyHint: true },
  run: async (input, call) => {
    await call.charge();
    const principal = call.caller.authenticated.principal as EngramPrincipal;
    const { changes, truncated } = await call.services.engrams.history.history(
      principal,
      input.engram_id,
      input.limit ?? 50,
    );
    return { engram_id: input.engram_id, changes, count: changes.length, truncated };
  },
});

export const statusTools = [status, history];
