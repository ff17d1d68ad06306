import { Type } from '@sinclair/typebox';
import { auditContext, requireOrgAdmin, type AdminCall } from '../../../auth/admin-guard.js';
import type { EngramPrincipal } from '../../../auth/principal.js';
import type { WebhookCaller } from '../../../memory/webhooks/webhook-service.js';
import type { ErrorCode } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import {
  baseCreateBody,
  basePatchBody,
  CreatedEngramWebhook,
  DeliveriesQuery,
  Delivery,
  DeliveryIdParam,
  EngramWebhook,
  PatchedEngramWebhook,
  TestOutcome,
  WebhookIdParam,
} from '../webhook-shapes.js';
import { RowsOf } from './shapes.js';

/**
 * /api/v1/admin/webhooks (plur seed "Webhooks"): organisation admins register signed HTTP deliveries of
 * what their event socket would see. Every change is audited and announced as a webhook.* event; a caller
 * without the admin role gets 403 (audited as denied); another organisation's webhook is 404.
 */
interface Request {
  principal: EngramPrincipal;
  requestId: string;
  ip: string;
  header(name: string): string | undefined;
}

export function adminWebhookRoutes(services: Services) {
  const { webhooks, audit } = services;
  const callerFor = async (request: Request, action: string, targetId: string): Promise<WebhookCaller> => {
    const { principal } = request;
    const call: AdminCall = {
      caller: principal,
      requestId: request.requestId,
      origin: { channel: 'rest', ip: request.ip, userAgent: request.header('user-agent') },
    };
    await requireOrgAdmin(audit, call, action, { type: 'webhook', id: targetId });
    return {
      face: 'engram',
      tenant: principal.tenant,
      actor: principal.actor,
      owner: principal.userId === null ? { type: 'admin' } : { type: 'user', id: principal.userId },
      audit: auditContext(call),
    };
  };
  const common = {
    face: 'engram' as const,
    auth: 'engram' as const,
    tags: ['webhooks'],
    errors: ['forbidden'] as ErrorCode[],
  };
  const IdParams = Type.Object({ id: WebhookIdParam });
  return [
    defineRoute({
      ...common,
      method: 'GET',
      path: '/api/v1/admin/webhooks',
      summary: "List the organisation's webhooks (never their secrets).",
      schema: { response: { 200: RowsOf(EngramWebhook) } },
      handler: async (request) => {
        const rows = await webhooks.list(await callerFor(request, 'webhook.list', request.principal.org));
        return { rows, total_count: rows.length };
      },
    }),
    defineRoute({
      ...common,
      errors: ['forbidden', 'conflict'],
      method: 'POST',
      path: '/api/v1/admin/webhooks',
      status: 201,
      summary: 'Register a webhook; the answer shows its signing secret, once.',
      schema: { body: Type.Object(baseCreateBody), response: { 201: CreatedEngramWebhook } },
      handler: async (request) =>
        webhooks.create(await callerFor(request, 'webhook.create', 'new'), request.body),
    }),
    defineRoute({
      ...common,
      method: 'GET',
      path: '/api/v1/admin/webhooks/:id',
      summary: 'One webhook of the organisation (never its secret).',
      schema: { params: IdParams, response: { 200: EngramWebhook } },
      handler: async (request) =>
        webhooks.get(await callerFor(request, 'webhook.read', request.params.id), request.params.id),
    }),
    defineRoute({
      ...common,
      method: 'PATCH',
      path: '/api/v1/admin/webhooks/:id',
      summary:
        'Change url, events, description or active, or rotate the secret (the previous one keeps signing for the grace period; both signatures are sent).',
      schema: { params: IdParams, body: Type.Object(basePatchBody), response: { 200: PatchedEngramWebhook } },
      handler: async (request) =>
        webhooks.update(
          await callerFor(request, 'webhook.update', request.params.id),
          request.params.id,
          request.body,
        ),
    }),
    defineRoute({
      ...common,
      method: 'DELETE',
      path: '/api/v1/admin/webhooks/:id',
      summary: 'Remove a webhook: queued deliveries are dropped, nothing more is sent.',
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }) },
      },
      handler: async (request) => {
        await webhooks.remove(
          await callerFor(request, 'webhook.delete', request.params.id),
          request.params.id,
        );
        return { id: request.params.id, deleted: true as const };
      },
    }),
    defineRoute({
      ...common,
      method: 'POST',
      path: '/api/v1/admin/webhooks/:id/test',
      summary: 'Send a webhook.test event now and answer with the outcome of that delivery.',
      schema: { params: IdParams, response: { 200: TestOutcome } },
      handler: async (request) =>
        webhooks.test(await callerFor(request, 'webhook.test', request.params.id), request.params.id),
    }),
    defineRoute({
      ...common,
      method: 'GET',
      path: '/api/v1/admin/webhooks/:id/deliveries',
      summary:
        'The deliveries log, newest first: event id, attempt, status code, latency, error, next retry.',
      schema: { params: IdParams, querystring: DeliveriesQuery, response: { 200: RowsOf(Delivery) } },
      handler: async (request) => {
        const rows = await webhooks.deliveries(
          await callerFor(request, 'webhook.deliveries', request.params.id),
          request.params.id,
          request.query.limit ?? 50,
        );
        return { rows, total_count: rows.length };
      },
    }),
    defineRoute({
      ...common,
      errors: ['forbidden', 'conflict'],
      method: 'POST',
      path: '/api/v1/admin/webhooks/:id/deliveries/:delivery_id/redeliver',
      status: 202,
      summary: 'Send the event of an earlier delivery again, as a new delivery (queued).',
      schema: {
        params: Type.Object({ id: WebhookIdParam, delivery_id: DeliveryIdParam }),
        response: { 202: Delivery },
      },
      handler: async (request) =>
        webhooks.redeliver(
          await callerFor(request, 'webhook.redeliver', request.params.id),
          request.params.id,
          request.params.delivery_id,
        ),
    }),
  ];
}
