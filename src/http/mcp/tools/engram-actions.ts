import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import { FEEDBACK_SIGNALS } from '../../../memory/engrams/model.js';
import { StringEnum } from '../../schemas.js';
import { EngramId, ScopeName } from '../../routes/engram/shapes.js';
import { problemOf } from '../problem.js';
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

const forget = defineTool({
  name: 'plur_forget',
  title: 'Forget an engram',
  description:
    'Retire an engram that is wrong or no longer true, so it is not recalled or injected any more (it stays in history). ' +
    'Find its id with plur_recall first.',
  audience: 'engram',
  input: Type.Object({
    id: EngramId,
    scope: Type.Optional({
      ...ScopeName,
      description: 'Accepted for PLUR compatibility; the engram names its scope.',
    }),
  }),
  uses: ['DELETE /api/v1/engrams/:id'],
  annotations: { destructiveHint: true, idempotentHint: true },
  run: (input, call) => call.route('DELETE', '/api/v1/engrams/:id', { params: { id: input.id } }),
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
