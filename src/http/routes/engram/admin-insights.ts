import { Type } from '@sinclair/typebox';
import { requireOrgAdmin } from '../../../auth/admin-guard.js';
import { MAX_INSIGHT_DAYS } from '../../../memory/insights/activity-counters.js';
import type { Services } from '../../../services.js';
import { adminCall } from '../../request-context.js';
import { defineRoute } from '../../route.js';
import { Timestamp } from '../../schemas.js';

/** GET /api/v1/admin/insights: the organisation's overview (organisation admins). */
const Count = (description: string) => Type.Integer({ minimum: 0, description });

const InsightsBody = Type.Object(
  {
    org_id: Type.String(),
    days: Type.Integer({ description: 'Days in `daily`' }),
    generated_at: Timestamp(),
    active_users: Type.Object(
      {
        last_7_days: Count('Distinct users with an authenticated request in the last 7 UTC days'),
        last_30_days: Count('Distinct users with an authenticated request in the last 30 UTC days'),
      },
      { description: 'Users of the organisation (not the admin key) that made an authenticated request' },
    ),
    engrams: Type.Object({
      total: Count('Stored engrams of every status'),
      by_scope: Type.Array(Type.Object({ scope: Type.String(), count: Count('Engrams of every status') }), {
        description: 'Most engrams first',
      }),
      by_status: Type.Object({
        active: Count('Active'),
        candidate: Count('Candidates'),
        dormant: Count('Dormant'),
        retired: Count('Retired'),
      }),
    }),
    daily: Type.Array(
      Type.Object({
        date: Type.String({ format: 'date', description: 'UTC day' }),
        recall: Count('Recalls (REST and MCP)'),
        inject: Count('Injects, session starts included'),
        learn: Count('Engrams created by learn (a re-learn of the same statement is not counted)'),
        auth_failures: Count(
          '401s whose credential belongs to the organisation (a revoked or expired key, a deactivated user)',
        ),
        rate_limited: Count('429s of the organisation’s credentials'),
      }),
      { description: 'Oldest first, one row per day, zeros included' },
    ),
    health: Type.Object({
      never_retrieved: Count('Active engrams never returned by recall or inject'),
      net_negative_feedback: Count('Live engrams with more negative than positive feedback'),
      validity_expired: Count('Live engrams whose valid_until has passed'),
      candidates_waiting: Count('Candidates waiting for promotion'),
      near_duplicates: Count(
        'Live engrams whose statement equals another’s after normalisation (case, punctuation, whitespace, NFKC)',
      ),
    }),
    webhooks: Type.Object({
      endpoints: Count('Webhooks of the organisation'),
      endpoints_failing: Count('Disabled, or failing since their last success'),
      deliveries: Type.Object(
        {
          delivered: Count('Delivered'),
          failed: Count('Failed for good'),
          pending: Count('Queued or retrying'),
        },
        { description: 'Over the kept delivery logs (MNEMO_WEBHOOK_DELIVERY_LOG_SIZE newest per webhook)' },
      ),
    }),
  },
  { title: 'Insights' },
);

export function adminInsightsRoutes(services: Services) {
  const { insights, audit } = services;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/admin/insights',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      summary: 'Overview of your organisation: activity per day, engram counts and health, webhooks.',
      description:
        'Counters are kept per UTC day as things happen (kept 100 days); engram figures come from the ' +
        'organisation’s search index. Organisation admins only.',
      tags: ['admin'],
      schema: {
        querystring: Type.Object({
          days: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: MAX_INSIGHT_DAYS,
              default: 30,
              description: 'UTC days in `daily`, today included',
            }),
          ),
        }),
        response: { 200: InsightsBody },
      },
      handler: async ({ query, principal, ...request }) => {
        const call = adminCall(principal, request);
        await requireOrgAdmin(audit, call, 'insights.read', { type: 'org', id: principal.org });
        return insights.report(principal.org, query.days ?? 30);
      },
    }),
  ];
}
