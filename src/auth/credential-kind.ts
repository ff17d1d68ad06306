import type { AdminKeyVerifier } from './admin-key.js';
import { credentialRefused, type TAKES } from './credential-errors.js';
import { LAYER_KEY_PATTERN } from './layer-keys.js';
import { JWT_PATTERN } from './oidc/jwt-credentials.js';
import { PLUR_KEY_PATTERN } from './plur-keys.js';
import { SCIM_TOKEN_PATTERN } from './scim-tokens.js';

/**
 * Checks, without I/O, that a presented token is of a kind the route takes, and throws a 401 that says
 * which kind it is when not (a plur_sk_ key on /v1, the admin key on /v1, ...). Whether a key of the right
 * kind exists is for its service to say, in one answer for unknown and revoked keys. The kinds are told
 * apart by their public shape only, so nothing here depends on stored secrets, except the admin key,
 * which is compared in constant time.
 */
export function requireKindOf(
  token: string | undefined,
  kind: keyof typeof TAKES,
  adminKey: AdminKeyVerifier,
): asserts token is string {
  if (token === undefined) throw credentialRefused.missing();
  const layer = LAYER_KEY_PATTERN.test(token);
  const plur = !layer && PLUR_KEY_PATTERN.test(token);
  const scim = !layer && !plur && SCIM_TOKEN_PATTERN.test(token);
  const admin = !layer && !plur && !scim && adminKey.matches(token);
  // A JWT (a session token or an IdP access token) is for the engram API; engram-auth.ts verifies it.
  const jwt = !layer && !plur && !scim && !admin && JWT_PATTERN.test(token);
  const accepted =
    kind === 'layer' ? layer : kind === 'engram' ? plur || admin || jwt : kind === 'scim' ? scim : admin;
  if (accepted) return;
  const what = layer
    ? 'A workspace key (plm_...) is for the layer API'
    : plur
      ? 'A user key (plur_sk_...) is for the engram API'
      : scim
        ? 'A SCIM token (plur_scim_...) is for /scim/v2'
        : admin
          ? kind === 'scim'
            ? 'The admin key is not a SCIM token'
            : 'The admin key is for /admin and /api/v1'
          : kind === 'admin'
            ? 'Not the admin key'
            : kind === 'scim'
              ? 'Not a SCIM token'
              : 'Not an API key';
  throw credentialRefused.wrongKind(what, kind);
}
