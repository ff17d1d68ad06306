import { Type } from '@sinclair/typebox';
import { countTokens } from 'gpt-tokenizer';
import { ENGRAM_TYPES } from '../../../memory/engrams/model.js';
import { StringEnum } from '../../schemas.js';
import { ScopeName } from '../../routes/engram/shapes.js';
import { defineTool } from '../tool.js';

/** plur_recall (POST /api/v1/recall) and plur_inject (POST /api/v1/inject), plur.md §1.4. */
interface RecallBody {
  results: { id: string; statement: string; scope: string; score: number; [k: string]: unknown }[];
  [k: string]: unknown;
}

const recall = defineTool({
  name: 'plur_recall',
  title: 'Recall engrams',
  description:
    'Search the engrams you can read for ones relevant to a question or task (BM25 and embeddings fused). ' +
    'Use it before answering or deciding, to apply what was learned earlier; narrow with scope, domain, type or tags.',
  audience: 'engram',
  input: Type.Object({
    query: Type.String({ minLength: 1, maxLength: 1000 }),
    mode: Type.Optional(
      StringEnum(['hybrid', 'keyword'], { description: 'Default hybrid; keyword is BM25 only.' }),
    ),
    scope: Type.Optional({ ...ScopeName, description: 'This scope and its readable sub-scopes only.' }),
    domain: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'This domain and below.' }),
    ),
    type: Type.Optional(StringEnum(ENGRAM_TYPES)),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 20.' })),
    budget: Type.Optional(
      Type.Object({
        max_tokens: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 100_000,
            description: 'Statements beyond this many tokens are left out.',
          }),
        ),
        max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      }),
    ),
  }),
  uses: ['POST /api/v1/recall'],
  annotations: { readOnlyHint: true },
  run: async (input, call) => {
    const limit = Math.min(input.limit ?? 20, input.budget?.max_results ?? 100);
    const answer = await call.route<RecallBody>('POST', '/api/v1/recall', {
      body: {
        query: input.query,
        mode: input.mode ?? 'hybrid',
        limit,
        ...(input.scope === undefined ? {} : { scopes: [input.scope] }),
        ...(input.domain === undefined ? {} : { domain: input.domain }),
        ...(input.type === undefined ? {} : { type: input.type }),
        ...(input.tags === undefined ? {} : { tags: input.tags }),
      },
    });
    const maxTokens = input.budget?.max_tokens;
    if (maxTokens === undefined) return answer;
    // The token budget keeps the best-ranked results whose statements fit, in rank order.
    let used = 0;
    const kept = [];
    for (const result of answer.results) {
      const tokens = countTokens(result.statement);
      if (used + tokens > maxTokens) break;
      used += tokens;
      kept.push(result);
    }
    return {
      ...answer,
      results: kept,
      count: kept.length,
      tokens_used: used,
      truncated: answer.truncated === true || kept.length < answer.results.length,
    };
  },
  text: (r) => {
    const results = (r.results as RecallBody['results']) ?? [];
    if (results.length === 0) return 'No matching engrams.';
    return results.map((e) => `${e.id} [${e.scope}] (${e.score.toFixed(2)}) ${e.statement}`).join('\n');
  },
});

const inject = defineTool({
  name: 'plur_inject',
  title: 'Inject engrams for a task',
  description:
    'Get the directives, constraints and considerations that apply to a task as sectioned text within a token budget. ' +
    'Use it at the start of a task to load the rules you must follow.',
  audience: 'engram',
  input: Type.Object({
    task: Type.String({ minLength: 1, maxLength: 5000 }),
    budget: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: 'Tokens; default 2000.' }),
    ),
    scope: Type.Optional(ScopeName),
    max_engrams: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    session_id: Type.Optional(
      Type.String({
        maxLength: 128,
        description: 'Accepted for PLUR compatibility (sessions inject at start).',
      }),
    ),
  }),
  uses: ['POST /api/v1/inject'],
  annotations: { readOnlyHint: true },
  run: (input, call) =>
    call.route('POST', '/api/v1/inject', {
      body: {
        task: input.task,
        ...(input.budget === undefined ? {} : { budget: input.budget }),
        ...(input.scope === undefined ? {} : { scope: input.scope }),
        ...(input.max_engrams === undefined ? {} : { max_engrams: input.max_engrams }),
      },
    }),
  text: (r) => (typeof r.text === 'string' && r.text !== '' ? r.text : 'No engrams apply to this task.'),
});

export const recallTools = [recall, inject];
