import { Type } from '@sinclair/typebox';
import { engramRow } from '../../../memory/engrams/engram-doc.js';
import type { EngramBody } from '../../../memory/engrams/engram-input.js';
import { ENGRAM_STATUSES } from '../../../memory/engrams/model.js';
import type { Services } from '../../../services.js';
import { requestContext } from '../../request-context.js';
import { defineRoute, reply } from '../../route.js';
import { StringEnum } from '../../schemas.js';
import {
  CreatedEngram,
  CreateEngramBody,
  EngramEnvelope,
  EngramIdParams,
  EngramRow,
  PatchEngramBody,
  RowsOf,
  ScopeName,
} from './shapes.js';

/** /api/v1/engrams: list, create, read, change, retire (contract: plur seed "Engrams"; plur.md §1.3). */
export function engramRoutes(services: Services) {
  const { engrams } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/engrams',
      face: 'engram',
      auth: 'engram',
      summary: 'List the engrams of the scopes you read, oldest first (paginated).',
      tags: ['engrams'],
      schema: {
        querystring: Type.Object({
          scope: Type.Optional({ ...ScopeName, description: 'This scope and its readable sub-scopes.' }),
          status: Type.Optional(StringEnum(ENGRAM_STATUSES)),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
        }),
        response: { 200: RowsOf(EngramRow) },
      },
      handler: async ({ query, principal }) => {
        const { docs, total } = await engrams.list.list(principal, query);
        return { rows: docs.map(engramRow), total_count: total };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/engrams',
      errors: ['forbidden', 'conflict', 'unprocessable'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Create an engram (201); the same statement in the same scope returns the existing one (200).',
      description:
        'The server assigns the id (ENG-YYYY-MM-DD-NNN, per organisation and day), content_hash and status ' +
        'active. A client-chosen id that exists is 409; secrets aimed at a shared scope are 422.',
      tags: ['engrams'],
      schema: { body: CreateEngramBody, response: { 201: CreatedEngram, 200: CreatedEngram } },
      handler: async ({ body, principal, ...request }) => {
        const { doc, created } = await engrams.writer.create(
          principal,
          body,
          requestContext(principal, request),
        );
        const { id, scope, status, data } = engramRow(doc);
        return reply(created ? 201 : 200, { id, scope, status, data });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/engrams/:id',
      face: 'engram',
      auth: 'engram',
      summary: 'Read one engram (404 when missing or not yours to see).',
      tags: ['engrams'],
      schema: { params: EngramIdParams, response: { 200: EngramRow } },
      handler: async ({ params, principal }) => engramRow(await engrams.actions.get(principal, params.id)),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/engrams/:id',
      errors: ['forbidden', 'conflict', 'unprocessable'],
      face: 'engram',
      auth: 'engram',
      summary: 'Change fields of an engram (editor; pinned needs admin; status changes are validated).',
      description:
        'Status transitions: candidate -> active|retired, active -> dormant|retired, dormant -> active|retired, ' +
        'retired -> active; others are 409.',
      tags: ['engrams'],
      schema: { params: EngramIdParams, body: PatchEngramBody, response: { 200: EngramEnvelope } },
      handler: async ({ params, body, principal, ...request }) => ({
        engram: engramRow(
          await engrams.writer.patch(
            principal,
            params.id,
            body as EngramBody,
            requestContext(principal, request),
          ),
        ),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/engrams/:id',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary: 'Retire an engram (soft delete; editor).',
      tags: ['engrams'],
      schema: {
        params: EngramIdParams,
        response: {
          200: Type.Object({ id: Type.String(), scope: Type.String(), status: Type.Literal('retired') }),
        },
      },
      handler: async ({ params, principal, ...request }) => {
        const doc = await engrams.actions.retire(principal, params.id, requestContext(principal, request));
        return { id: doc.id, scope: doc.scope, status: 'retired' as const };
      },
    }),
  ];
}
