import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import { FEEDBACK_SIGNALS } from '../../../memory/engrams/model.js';
import { StringEnum } from '../../schemas.js';
import { EngramId, ScopeName } from '../../routes/engram/shapes.js';
import { problemOf, ToolRefusal } from '../problem.js';
import { defineTool, type ToolCall } from '../tool.js';

/** plur_feedback, plur_forget, plur_promote, plur_pin: the engram action routes (plur.md §1.4, §1.8). */
const Signal = StringEnum(FEEDBACK_SIGNALS);
const MAX_BATCH = 100;

/** Runs `one` for each id; failures are reported per item (a 429 or 5xx stops the batch). */
async function each<T extends { id: string }>(
  items: readonly T[],
  tool: string,
  one: (item: T) => Promise<Record<string, unknown>>,
): Promise<{ results: Record<string, unknown>[]; failures: Record<string, unknown>[] }> {
  const results: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const item of items) {
    try {
      results.push(await one(item));
    } catch (err) {
      const problem = problemOf(err, tool);
      if (items.length === 1 || problem.status === 429 || problem.status >= 500) throw err;
      failures.push({ id: item.id, error: problem });
    }
  }
  return { results, failures };
}

const feedbackOne = (call: ToolCall, id: string, signal: string) =>
  call.route('POST', '/api/v1/engrams/:id/feedback', { params: { id }, body: { signal } });

const feedback = defineTool({
  name: 'plur_feedback',
  title: 'Rate engrams',
  description:
    'Tell memory whether a recalled or injected engram helped: positive strengthens it, negative weakens it. ' +
    'Give id and signal for one engram, or signals for several.',
  audience: 'engram',
  input: Type.Object({
    id: Type.Optional(EngramId),
    signal: Type.Optional(Signal),
    scope: Type.Optional({
      ...ScopeName,
      description: 'Accepted for PLUR compatibility; the engram names its scope.',
    }),
    signals: Type.Optional(
      Type.Array(Type.Object({ id: EngramId, signal: Signal, scope: Type.Optional(ScopeName) }), {
        minItems: 1,
        maxItems: MAX_BATCH,
      }),
    ),
  }),
  uses: ['POST /api/v1/engrams/:id/feedback'],
  run: async (input, call) => {
    if (input.signals !== undefined) {
      if (input.id !== undefined || input.signal !== undefined)
        throw fail.validation('Give id and signal, or signals, not both');
      const { results, failures } = await each(input.signals, 'plur_feedback', (item) =>
        feedbackOne(call, item.id, item.signal),
      );
      return { applied: results.length, results, failures };
    }
    if (input.id === undefined || input.signal === undefined)
      throw fail.validation('Give id and signal, or signals');
    return feedbackOne(call, input.id, input.signal);
  },
});

/** What plur_forget's search reads from a recall result. */
interface RecallHit {
  id: string;
  statement: string;
  scope: string;
}

/** How many candidates an ambiguous plur_forget search lists (PLUR lists 20 too). */
const FORGET_CANDIDATES = 20;
/** How many engrams plur_forget's search looks at: the recall route's own maximum. */
const FORGET_SEARCH_LIMIT = 100;

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const forget = defineTool({
  name: 'plur_forget',
  title: 'Forget an engram',
  description:
    'Retire an engram that is wrong or no longer true, so it is not recalled or injected any more (it stays in history). ' +
    'Give its id, or search with words from its statement: one match is retired, several are listed for you to pick an id.',
  audience: 'engram',
  input: Type.Object({
    id: Type.Optional(EngramId),
    search: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description:
          'Words of the engram to retire (keyword search over the active engrams you can read), instead of id.',
      }),
    ),
    scope: Type.Optional({
      ...ScopeName,
      description:
        'With search: look only in this scope and its readable sub-scopes. With id: accepted for PLUR compatibility (the engram names its scope).',
    }),
  }),
  uses: ['DELETE /api/v1/engrams/:id', 'POST /api/v1/recall'],
  annotations: { destructiveHint: true, idempotentHint: true },
  run: async (input, call) => {
    if ((input.id === undefined) === (input.search === undefined)) throw fail.validation('Give id or search');
    if (input.id !== undefined)
      return call.route('DELETE', '/api/v1/engrams/:id', { params: { id: input.id } });
    // PLUR's semantics (packages/mcp plur_forget): search, retire a single match, list several.
    const search = input.search as string;
    const found = await call.route<{ results: RecallHit[] }>('POST', '/api/v1/recall', {
      body: {
        query: search,
        mode: 'keyword',
        limit: FORGET_SEARCH_LIMIT,
        ...(input.scope === undefined ? {} : { scopes: [input.scope] }),
      },
    });
    const matches = found.results;
    const [only] = matches;
    if (only === undefined)
      throw fail.notFound(`No active engram you can read matches "${clip(search, 80)}"`);
    if (matches.length > 1) {
      const listed = matches
        .slice(0, FORGET_CANDIDATES)
        .map(({ id, statement, scope }) => ({ id, statement, scope }));
      const total =
        matches.length === FORGET_SEARCH_LIMIT ? `${FORGET_SEARCH_LIMIT} or more` : String(matches.length);
      throw new ToolRefusal(
        'conflict',
        `${total} engrams match "${clip(search, 80)}"; nothing was retired. Call plur_forget with the id of the one to retire: ` +
          listed.map((m) => `${m.id} (${clip(m.statement, 80)})`).join('; '),
        { matches: listed, total: matches.length },
      );
    }
    const retired = await call.route('DELETE', '/api/v1/engrams/:id', { params: { id: only.id } });
    return { ...retired, statement: only.statement };
  },
});

const promote = defineTool({
  name: 'plur_promote',
  title: 'Promote candidates',
  description:
    'Make candidate engrams (suggested at session end) active so they are recalled and injected. ' +
    'Give id for one or ids for several; an engram that is not a candidate is a conflict.',
  audience: 'engram',
  input: Type.Object({
    id: Type.Optional(EngramId),
    ids: Type.Optional(Type.Array(EngramId, { minItems: 1, maxItems: MAX_BATCH })),
  }),
  uses: ['POST /api/v1/engrams/:id/promote'],
  run: async (input, call) => {
    if ((input.id === undefined) === (input.ids === undefined)) throw fail.validation('Give id or ids');
    const ids = (input.ids ?? [input.id as string]).map((id) => ({ id }));
    const { results, failures } = await each(ids, 'plur_promote', ({ id }) =>
      call.route('POST', '/api/v1/engrams/:id/promote', { params: { id } }),
    );
    if (input.id !== undefined) return results[0] as Record<string, unknown>;
    return { promoted: results.length, results, failures };
  },
});

const pin = defineTool({
  name: 'plur_pin',
  title: 'Pin an engram',
  description:
    'Pin an engram so it is always injected first (or unpin it with pinned: false). Needs the admin role in its scope.',
  audience: 'engram',
  input: Type.Object({ id: EngramId, pinned: Type.Optional(Type.Boolean({ description: 'Default true.' })) }),
  uses: ['POST /api/v1/engrams/:id/pin'],
  annotations: { idempotentHint: true },
  run: (input, call) =>
    call.route('POST', '/api/v1/engrams/:id/pin', {
      params: { id: input.id },
      body: { pinned: input.pinned ?? true },
    }),
});

export const engramActionTools = [feedback, forget, promote, pin];
