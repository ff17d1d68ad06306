import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { Services } from '../../../services.js';
import {
  LOGIN_COOKIE,
  LOGIN_COOKIE_PATH,
  SESSION_COOKIE,
  clearCookie,
  cookieValue,
  setCookie,
} from '../../cookies.js';
import { defineRoute, reply } from '../../route.js';

/**
 * Single sign-on (src/auth/oidc): GET /auth/login sends the browser to the IdP, GET /auth/callback comes
 * back with a code and answers mnemo's session token (as a cookie for browsers, and once in the body for a
 * CLI to copy), POST /auth/logout ends the session. Errors speak the engram API's problem+json.
 */
const Redirect = Type.Object({ location: Type.String({ description: 'Also sent as the Location header.' }) });

const Session = Type.Object({
  token: Type.String({ description: 'The session token: shown once, send it as Authorization: Bearer.' }),
  token_type: Type.Literal('Bearer'),
  expires_at: Type.String({ description: 'ISO 8601' }),
  expires_in: Type.Integer({ description: 'Seconds' }),
  user_id: Type.String(),
  username: Type.String(),
  org_id: Type.String(),
});

const HOST_PATTERN = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const NO_STORE = { 'Cache-Control': 'no-store' };

export function oidcRoutes(services: Services) {
  const { config } = services;
  const secure = config.publicUrl?.startsWith('https://') ?? false;
  /** Where the IdP sends the browser back: MNEMO_PUBLIC_URL, else this request's Host (development). */
  const callbackUrl = (host: string | undefined): string => {
    if (config.publicUrl !== undefined) return `${config.publicUrl.replace(/\/$/, '')}/auth/callback`;
    if (host === undefined || !HOST_PATTERN.test(host))
      throw fail.validation('The Host header is missing or malformed');
    return `http://${host}/auth/callback`;
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/auth/sso',
      face: 'engram',
      auth: 'none',
      summary: 'Whether single sign-on is configured (what a sign-in page asks before it offers it).',
      description:
        'Answers without contacting the identity provider and without setting a cookie; the providers ' +
        'themselves are not listed.',
      tags: ['auth'],
      schema: { response: { 200: Type.Object({ enabled: Type.Boolean() }) } },
      handler: async () => reply(200, { enabled: services.oidcLogin.enabled }, NO_STORE),
    }),
    defineRoute({
      method: 'GET',
      path: '/auth/login',
      face: 'engram',
      auth: 'none',
      summary: 'Start single sign-on: redirects (302) to the identity provider (authorization code + PKCE).',
      description:
        'org picks the identity provider of an organisation when several are configured; redirect is a path ' +
        'of this server to go to after signing in (without it the callback answers the token as JSON). ' +
        'A script that asks for Accept: application/json gets 200 with the same location (and cookie) to ' +
        'navigate to itself.',
      tags: ['auth'],
      errors: ['not_found'],
      schema: {
        querystring: Type.Object({
          org: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
          redirect: Type.Optional(Type.String({ maxLength: 2048 })),
        }),
        response: { 200: Redirect, 302: Redirect },
      },
      handler: async (input) => {
        const { query } = input;
        const started = await services.oidcLogin.begin({
          ...(query.org !== undefined ? { org: query.org } : {}),
          ...(query.redirect !== undefined ? { redirect: query.redirect } : {}),
          callbackUrl: callbackUrl(input.header('host')),
        });
        const accept = input.header('accept') ?? '';
        const asJson = accept.includes('application/json') && !accept.includes('text/html');
        return reply(
          asJson ? 200 : 302,
          { location: started.location },
          {
            ...(asJson ? {} : { Location: started.location }),
            'Set-Cookie': setCookie(LOGIN_COOKIE, started.state, {
              path: LOGIN_COOKIE_PATH,
              maxAgeSeconds: 600,
              secure,
            }),
            ...NO_STORE,
          },
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/auth/callback',
      face: 'engram',
      auth: 'none',
      summary: 'Finish single sign-on: exchanges the code, verifies the ID token, answers a session token.',
      description:
        'Sets the HttpOnly mnemo_session cookie. Without a redirect at login the token is also in the body, ' +
        'once (for CLI use); with one, the answer is a 302 there.',
      tags: ['auth'],
      schema: {
        querystring: Type.Object(
          {
            code: Type.Optional(Type.String({ maxLength: 4096 })),
            state: Type.Optional(Type.String({ maxLength: 512 })),
            error: Type.Optional(Type.String({ maxLength: 512 })),
            iss: Type.Optional(Type.String({ maxLength: 2048 })),
          },
          { additionalProperties: true },
        ),
        response: { 200: Session, 302: Redirect },
      },
      handler: async (input) => {
        const { query, ip, requestId } = input;
        const signedIn = await services.oidcLogin.complete({
          ...(query.code !== undefined ? { code: query.code } : {}),
          ...(query.state !== undefined ? { state: query.state } : {}),
          ...(query.error !== undefined ? { error: query.error } : {}),
          ...(query.iss !== undefined ? { iss: query.iss } : {}),
          stateCookie: cookieValue(input.header('cookie'), LOGIN_COOKIE),
          origin: { channel: 'rest', ip, userAgent: input.header('user-agent') },
          requestId,
        });
        const expiresIn = signedIn.claims.exp - Math.floor(Date.now() / 1000);
        const cookies = [
          setCookie(SESSION_COOKIE, signedIn.token, {
            path: '/',
            maxAgeSeconds: Math.max(0, expiresIn),
            secure,
          }),
          clearCookie(LOGIN_COOKIE, LOGIN_COOKIE_PATH, secure),
        ];
        if (signedIn.redirect !== null) {
          return reply(
            302,
            { location: signedIn.redirect },
            { Location: signedIn.redirect, 'Set-Cookie': cookies, ...NO_STORE },
          );
        }
        return reply(
          200,
          {
            token: signedIn.token,
            token_type: 'Bearer' as const,
            expires_at: new Date(signedIn.claims.exp * 1000).toISOString(),
            expires_in: expiresIn,
            user_id: signedIn.user.id,
            username: signedIn.user.username,
            org_id: signedIn.claims.org,
          },
          { 'Set-Cookie': cookies, ...NO_STORE },
        );
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/auth/logout',
      face: 'engram',
      auth: 'engram',
      summary: 'End the session of this session token (or mnemo_session cookie) on every instance.',
      description: 'Other credentials answer 422: revoke API keys at /api/v1/me/api-keys instead.',
      tags: ['auth'],
      writeHeavy: false,
      errors: ['unprocessable'],
      schema: {
        response: {
          200: Type.Object({ ended: Type.Boolean({ description: 'false: it had already ended' }) }),
        },
      },
      handler: async (input) => {
        const { principal, ip, requestId } = input;
        const ended = await services.sessions.end(principal, requestId, {
          channel: 'rest',
          ip,
          userAgent: input.header('user-agent'),
        });
        return reply(200, { ended }, { 'Set-Cookie': clearCookie(SESSION_COOKIE, '/', secure) });
      },
    }),
  ];
}
