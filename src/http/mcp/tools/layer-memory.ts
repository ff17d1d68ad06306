import { Type } from '@sinclair/typebox';
import { defineTool, type AnyTool } from '../tool.js';
import type { RouteSchemas } from './index.js';

/**
 * The layer API's memory tools for a workspace key: each is one /v1 route, and its input schema is that
 * route's own (body or query), taken from the route table, so limits and defaults cannot drift.
 */
export function layerTools(routes: RouteSchemas): AnyTool[] {
  const remember = defineTool({
    name: 'remember',
    title: 'Remember',
    description:
      'Store something worth remembering about the user or the conversation (working, episodic and semantic memory at once). ' +
      'Use it for facts, preferences and events you will want to recall later.',
    audience: 'layer',
    input: routes.body('POST', '/v1/remember'),
    uses: ['POST /v1/remember'],
    run: (input, call) => call.route('POST', '/v1/remember', { body: input }),
    text: (r) => `remembered ${String(r.episode_id)}`,
  });
  const recall = defineTool({
    name: 'recall',
    title: 'Recall',
    description:
      'Search memory for what is relevant to a query, ranked by similarity, recency and importance. ' +
      'Use it before answering questions about the user or earlier conversations.',
    audience: 'layer',
    input: routes.body('POST', '/v1/recall'),
    uses: ['POST /v1/recall'],
    annotations: { readOnlyHint: true },
    run: (input, call) => call.route('POST', '/v1/recall', { body: input }),
    text: (r) => {
      const results = r.results as { content: string; layer: string; score: number }[];
      if (results.length === 0) return 'Nothing relevant in memory.';
      return results.map((m) => `(${m.layer}, ${m.score.toFixed(2)}) ${m.content}`).join('\n');
    },
  });
  const context = defineTool({
    name: 'context',
    title: 'Context',
    description:
      'Get the most relevant memories for a query as one text block within a token budget, ready to put in a prompt.',
    audience: 'layer',
    input: routes.body('POST', '/v1/context'),
    uses: ['POST /v1/context'],
    annotations: { readOnlyHint: true },
    run: (input, call) => call.route('POST', '/v1/context', { body: input }),
    text: (r) =>
      typeof r.content === 'string' && r.content !== '' ? r.content : 'Nothing relevant in memory.',
  });
  const stats = defineTool({
    name: 'stats',
    title: 'Memory statistics',
    description: 'Count the memories of the workspace (or of one user or agent) in each layer.',
    audience: 'layer',
    input: routes.query('GET', '/v1/stats'),
    uses: ['GET /v1/stats'],
    annotations: { readOnlyHint: true },
    run: (input, call) => call.route('GET', '/v1/stats', { query: input }),
  });
  const forget = defineTool({
    name: 'forget',
    title: 'Forget a memory',
    description:
      'Delete one memory (a working entry, an episode or a fact) by the id recall returned, when it is wrong or the user asks.',
    audience: 'layer',
    input: Type.Object({ memory_id: routes.param('DELETE', '/v1/memory/:id', 'id') }),
    uses: ['DELETE /v1/memory/:id'],
    annotations: { destructiveHint: true },
    run: (input, call) => call.route('DELETE', '/v1/memory/:id', { params: { id: input.memory_id } }),
  });
  const forgetUser = defineTool({
    name: 'forget_user',
    title: 'Forget a user',
    description:
      'Erase every memory of one user across all layers (the right to be forgotten). Only when the user asks for it.',
    audience: 'layer',
    input: Type.Object({ user_id: routes.param('DELETE', '/v1/users/:user_id', 'user_id') }),
    uses: ['DELETE /v1/users/:user_id'],
    annotations: { destructiveHint: true, idempotentHint: true },
    run: (input, call) => call.route('DELETE', '/v1/users/:user_id', { params: { user_id: input.user_id } }),
  });
  const clearWorking = defineTool({
    name: 'clear_working',
    title: 'Clear working memory',
    description:
      "Empty the short-term working memory of a user/agent namespace (episodes and facts stay), e.g. when a conversation's topic changes.",
    audience: 'layer',
    input: routes.body('DELETE', '/v1/memory'),
    uses: ['DELETE /v1/memory'],
    annotations: { destructiveHint: true, idempotentHint: true },
    run: (input, call) => call.route('DELETE', '/v1/memory', { body: input }),
  });
  return [remember, recall, context, stats, forget, forgetUser, clearWorking];
}
