import { requireKindOf } from '../auth/credential-kind.js';
import type { Services } from '../services.js';
import { SESSION_COOKIE, cookieValue } from './cookies.js';
import type { Authenticators } from './server.js';

/** How each route `auth` kind turns a request's credential into a principal. */
export function buildAuthenticators(services: Services): Authenticators {
  return {
    none: async () => ({ principal: undefined }),
    // Admin routes accept the admin key only; any other credential is 401, as the reference server does.
    admin: async ({ token }) => {
      requireKindOf(token, 'admin', services.adminKey);
      return { principal: { kind: 'admin' } };
    },
    layer: async ({ token }) => {
      requireKindOf(token, 'layer', services.adminKey);
      return services.layerKeys.authenticate(token);
    },
    // Engram API: a user's plur_sk_ key, or the admin key acting on the org named by X-Mnemo-Org.
    // A browser signed in by single sign-on sends its session as the mnemo_session cookie instead.
    engram: async (request) => {
      const token = request.token ?? cookieValue(request.header('cookie'), SESSION_COOKIE);
      requireKindOf(token, 'engram', services.adminKey);
      return services.engramAuth.authenticate(token, request.header('x-mnemo-org'));
    },
    // SCIM (/scim/v2): a plur_scim_ token of one organisation, and nothing else.
    scim: async ({ token }) => {
      requireKindOf(token, 'scim', services.adminKey);
      return services.scimTokens.authenticate(token);
    },
    // GET /metrics: the metrics token or the admin key, or anyone with MNEMO_METRICS_PUBLIC=true.
    metrics: async ({ token }) => ({ principal: services.metricsAccess.authenticate(token) }),
  };
}
