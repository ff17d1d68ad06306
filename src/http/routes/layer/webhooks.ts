import { Type } from '@sinclair/typebox';
import type { LayerKeyPrincipal } from '../../../auth/principal.js';
import type { WebhookCaller } from '../../../memory/webhooks/webhook-service.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { Nullable } from '../../schemas.js';
import {
  baseCreateBody,
  basePatchBody,
  CreatedLayerWebhook,
  DeliveriesQuery,
  Delivery,
  DeliveryIdParam,
  LayerWebhook,
  PatchedLayerWebhook,
  TestOutcome,
  WebhookIdParam,
} from '../webhook-shapes.js';
import { NamespaceId } from './shapes.js';

/**
 * /v1/webhooks: a workspace key registers signed HTTP deliveries of its workspace's events (memory.*,
 * working.*, ...), optionally only those of one user_id / agent_id. The workspace is the key's; another
 * workspace's webhook is 404.
 */
const callerOf = (principal: LayerKeyPrincipal): WebhookCaller => ({
  face: 'layer',
  tenant: principal.tenant,
  actor: { type: 'api_key', id: principal.keyId },
  owner: { type: 'admin' },
  audit: null,
});

const namespaceFields = {
  user_id: Type.Optional(Nullable(NamespaceId('Only events whose data.user_id is this'))),
  agent_id: Type.Optional(Nullable(NamespaceId('Only events whose data.agent_id is this'))),
};

export function layerWebhookRoutes(services: Services) {
  const { webhooks } = services;
  const common = { face: 'layer' as const, auth: 'layer' as const, tags: ['webhooks'] };
  const IdParams = Type.Object({ id: WebhookIdParam });
  return [
    defineRoute({
      ...common,
      method: 'GET',
      path: '/v1/webhooks',
      summary: "List the workspace's webhooks (never their secrets).",
      schema: { response: { 200: Type.Object({ webhooks: Type.Array(LayerWebhook) }) } },
      handler: async ({ principal }) => ({ webhooks: await webhooks.list(callerOf(principal)) }),
    }),
    defineRoute({
      ...common,
      errors: ['conflict'],
      method: 'POST',
      path: '/v1/webhooks',
      status: 201,
      summary: 'Register a webhook for events of this workspace; the answer shows its signing secret, once.',
      schema: {
        body: Type.Object({ ...baseCreateBody, ...namespaceFields }),
        response: { 201: CreatedLayerWebhook },
      },
      handler: async ({ principal, body }) => webhooks.create(callerOf(principal), body),
    }),
    defineRoute({
      ...common,
      method: 'GET',
      path: '/v1/webhooks/:id',
      summary: 'One webhook of the workspace (never its secret).',
      schema: { params: IdParams, response: { 200: LayerWebhook } },
      handler: async ({ principal, params }) => webhooks.get(callerOf(principal), params.id),
    }),
    defineRoute({
      ...common,
      method: 'PATCH',
      path: '/v1/webhooks/:id',
      summary:
        'Change url, events, filters, description or active, or rotate the secret (the previous one keeps signing for the grace period).',
      schema: {
        params: IdParams,
        body: Type.Object({ ...basePatchBody, ...namespaceFields }),
        response: { 200: PatchedLayerWebhook },
      },
      handler: async ({ principal, params, body }) => webhooks.update(callerOf(principal), params.id, body),
    }),
    defineRoute({
      ...common,
      method: 'DELETE',
      path: '/v1/webhooks/:id',
      summary: 'Remove a webhook: queued deliveries are dropped, nothing more is sent.',
      schema: {
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }) },
      },
      handler: async ({ principal, params }) => {
        await webhooks.remove(callerOf(principal), params.id);
        return { id: params.id, deleted: true as const };
      },
    }),
    defineRoute({
      ...common,
      method: 'POST',
      path: '/v1/webhooks/:id/test',
      summary: 'Send a webhook.test event now and answer with the outcome of that delivery.',
      schema: { params: IdParams, response: { 200: TestOutcome } },
      handler: async ({ principal, params }) => webhooks.test(callerOf(principal), params.id),
    }),
    defineRoute({
      ...common,
      method: 'GET',
      path: '/v1/webhooks/:id/deliveries',
      summary: 'The deliveries log, newest first.',
      schema: {
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }) },
      },
      handler: async ({ principal, params, query }) => ({
        deliveries: await webhooks.deliveries(callerOf(principal), params.id, query.limit ?? 50),
      }),
    }),
    defineRoute({
      ...common,
      errors: ['conflict'],
      method: 'POST',
      path: '/v1/webhooks/:id/deliveries/:delivery_id/redeliver',
      status: 202,
      summary: 'Send the event of an earlier delivery again, as a new delivery (queued).',
      schema: {
        params: Type.Object({ id: WebhookIdParam, delivery_id: DeliveryIdParam }),
        response: { 202: Delivery },
      },
      handler: async ({ principal, params }) =>
        webhooks.redeliver(callerOf(principal), params.id, params.delivery_id),
    }),
  ];
}
