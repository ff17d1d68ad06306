import { Type } from '@sinclair/typebox';
import { CreateEngramBody } from '../../routes/engram/shapes.js';
import { problemOf } from '../problem.js';
import { defineTool, type ToolCall } from '../tool.js';

/** plur_learn and plur_learn_batch: POST /api/v1/engrams, once per engram (plur.md §1.4). */
interface Created {
  id: string;
  scope: string;
  status: string;
  data: Record<string, unknown>;
}

async function learnOne(call: ToolCall, engram: unknown) {
  const { status, body } = await call.routeWithStatus<Created>('POST', '/api/v1/engrams', { body: engram });
  return {
    id: body.id,
    statement: body.data.statement,
    scope: body.scope,
    type: body.data.type,
    status: body.status,
    pinned: body.data.pinned,
    content_hash: body.data.content_hash,
    // ADD: a new engram; NOOP: the same statement already lives in that scope (it was returned instead).
    decision: status === 201 ? ('ADD' as const) : ('NOOP' as const),
  };
}

const learn = defineTool({
  name: 'plur_learn',
  title: 'Learn an engram',
  description:
    'Store one durable lesson, preference, convention or decision as an engram so later sessions can recall it. ' +
    'Use it when you learn something worth remembering beyond this conversation; the same statement in the same scope is not duplicated.',
  audience: 'engram',
  input: CreateEngramBody,
  uses: ['POST /api/v1/engrams'],
  run: (input, call) => learnOne(call, input),
  text: (r) => `${String(r.decision)} ${String(r.id)} in ${String(r.scope)}: ${String(r.statement)}`,
});

const MAX_BATCH = 100;

const learnBatch = defineTool({
  name: 'plur_learn_batch',
  title: 'Learn several engrams',
  description:
    `Store up to ${MAX_BATCH} engrams in one call, for example the lessons of a finished task. ` +
    'Each is learned on its own: one that fails is reported in failures and does not stop the others.',
  audience: 'engram',
  input: Type.Object({
    engrams: Type.Array(CreateEngramBody, { minItems: 1, maxItems: MAX_BATCH }),
    max_llm_calls: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Accepted for PLUR compatibility; mnemo makes no LLM calls here.',
      }),
    ),
  }),
  uses: ['POST /api/v1/engrams'],
  run: async (input, call) => {
    const ids: (string | null)[] = [];
    const results: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    const stats = { added: 0, updated: 0, merged: 0, noops: 0, failed: 0 };
    for (const [index, engram] of input.engrams.entries()) {
      try {
        const learned = await learnOne(call, engram);
        ids.push(learned.id);
        results.push({ input_index: index, id: learned.id, decision: learned.decision });
        if (learned.decision === 'ADD') stats.added++;
        else stats.noops++;
      } catch (err) {
        const problem = problemOf(err, 'plur_learn_batch');
        // Past the rate limit every later item would fail alike: stop and say so.
        if (problem.status === 429 || problem.status >= 500) throw err;
        ids.push(null);
        failures.push({ input_index: index, error: problem });
        stats.failed++;
      }
    }
    return { ids, results, stats, failures };
  },
  text: (r) => {
    const stats = r.stats as Record<string, number>;
    return `added ${stats.added}, unchanged ${stats.noops}, failed ${stats.failed}`;
  },
});

export const learnTools = [learn, learnBatch];
