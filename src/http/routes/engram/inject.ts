import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import { INJECT_DEFAULT_BUDGET, INJECT_DEFAULT_MAX_ENGRAMS } from '../../../memory/engrams/engine.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { ScopeName } from './shapes.js';

/**
 * POST /api/v1/inject (plur.md §1.7). Read-only apart from injection counters, so `writeHeavy: false`.
 */
export function injectRoutes(services: Services) {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/inject',
      face: 'engram',
      auth: 'engram',
      writeHeavy: false,
      summary: 'The engrams relevant to a task, as sectioned text within a token budget.',
      description:
        'Active, currently valid engrams only; pinned ones first but within half the budget; at most 10 per ' +
        'top-level domain; tokens_used never exceeds budget. Text sections: ## DIRECTIVES, ## CONSTRAINTS, ' +
        '## ALSO CONSIDER.',
      tags: ['search'],
      schema: {
        body: Type.Object({
          task: Type.String({ minLength: 1, maxLength: 5000 }),
          scope: Type.Optional(ScopeName),
          scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 50 })),
          max_engrams: Type.Integer({ minimum: 1, maximum: 100, default: INJECT_DEFAULT_MAX_ENGRAMS }),
          budget: Type.Integer({
            minimum: 1,
            maximum: 100_000,
            default: INJECT_DEFAULT_BUDGET,
            description: 'Tokens of the returned text, counted with gpt-tokenizer (o200k) like /v1/context.',
          }),
        }),
        response: {
          200: Type.Object({
            text: Type.String(),
            count: Type.Integer(),
            injected_ids: Type.Array(Type.String()),
            directives: Type.String(),
            constraints: Type.String(),
            consider: Type.String(),
            tokens_used: Type.Integer({ description: "The tokenizer's count of text; never above budget." }),
          }),
        },
      },
      handler: async ({ body, principal }) => {
        if (body.scope !== undefined && body.scopes !== undefined)
          throw fail.validation('Give scope or scopes, not both');
        const started = performance.now();
        const outcome = await services.engrams.inject.inject(principal, {
          task: body.task,
          scope: body.scope,
          scopes: body.scopes,
          maxEngrams: body.max_engrams,
          budget: body.budget,
        });
        // Inject ranks by keyword and scope; it has one mode.
        services.metrics.recallObserved('inject', 'keyword', (performance.now() - started) / 1000);
        return {
          text: outcome.text,
          count: outcome.count,
          injected_ids: outcome.injectedIds,
          directives: outcome.directives,
          constraints: outcome.constraints,
          consider: outcome.consider,
          tokens_used: outcome.tokensUsed,
        };
      },
    }),
  ];
}
