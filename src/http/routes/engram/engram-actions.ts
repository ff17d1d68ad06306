import { Type } from '@sinclair/typebox';
import { engramRow } from '../../../memory/engrams/engram-doc.js';
import { FEEDBACK_SIGNALS } from '../../../memory/engrams/model.js';
import type { Services } from '../../../services.js';
import { requestContext } from '../../request-context.js';
import { defineRoute } from '../../route.js';
import { StringEnum } from '../../schemas.js';
import { EngramEnvelope, EngramIdParams } from './shapes.js';

/** Feedback, promote and pin (contract: plur seed "Engrams"; plur.md §1.8). */
export function engramActionRoutes(services: Services) {
  const { actions } = services.engrams;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/engrams/:id/feedback',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'Rate an engram: positive (+0.05 strength), negative (-0.10), neutral (counted only).',
      tags: ['engrams'],
      schema: {
        params: EngramIdParams,
        body: Type.Object({ signal: StringEnum(FEEDBACK_SIGNALS) }),
        response: {
          200: Type.Object({
            id: Type.String(),
            signal: StringEnum(FEEDBACK_SIGNALS),
            applied: Type.Literal(true),
          }),
        },
      },
      handler: async ({ params, body, principal, ...request }) => {
        await actions.feedback(principal, params.id, body.signal, requestContext(principal, request));
        return { id: params.id, signal: body.signal, applied: true as const };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/engrams/:id/promote',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary: 'Promote a candidate to active (editor; 409 when it is not a candidate).',
      tags: ['engrams'],
      schema: { params: EngramIdParams, response: { 200: EngramEnvelope } },
      handler: async ({ params, principal, ...request }) => ({
        engram: engramRow(await actions.promote(principal, params.id, requestContext(principal, request))),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/engrams/:id/pin',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary: 'Pin (or with pinned: false, unpin) an engram. Admins of the scope only; audited.',
      tags: ['engrams'],
      schema: {
        params: EngramIdParams,
        body: Type.Object({ pinned: Type.Boolean({ default: true }) }),
        response: { 200: EngramEnvelope },
      },
      handler: async ({ params, body, principal, ...request }) => ({
        engram: engramRow(
          await actions.pin(principal, params.id, body.pinned, requestContext(principal, request)),
        ),
      }),
    }),
  ];
}
