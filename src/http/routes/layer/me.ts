import { Type } from '@sinclair/typebox';
import { defineRoute } from '../../route.js';
import { StringEnum } from '../../schemas.js';

/** What the presented layer-API key is: lets clients check a key and see its workspace and limit. */
export function layerMeRoutes() {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/me',
      face: 'layer',
      auth: 'layer',
      summary: 'Describe the calling API key (workspace, env, rate limit).',
      tags: ['keys'],
      schema: {
        response: {
          200: Type.Object({
            key_id: Type.String(),
            workspace_id: Type.String(),
            env: StringEnum(['live', 'test']),
            rate_limit_rpm: Type.Integer(),
          }),
        },
      },
      handler: async ({ principal }) => ({
        key_id: principal.keyId,
        workspace_id: principal.workspaceId,
        env: principal.env,
        rate_limit_rpm: principal.rateLimitRpm,
      }),
    }),
  ];
}
