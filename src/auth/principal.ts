import type { EngramCaller, ScopeAccess } from '../memory/engrams/access.js';
import type { Tenant } from '../tenant.js';
import type { Role } from './roles.js';

/**
 * Who is calling. The tenant always comes from here (bound to the credential), never from a request field.
 * `PrincipalByAuth` maps each route's `auth` kind to the principal its handler receives.
 */
export interface AdminPrincipal {
  kind: 'admin';
}

export interface LayerKeyPrincipal {
  kind: 'layer-key';
  keyId: string;
  keyHash: string;
  workspaceId: string;
  /** Where the workspace's data lives (layerTenant(workspaceId)): every key of a layer route is built from it. */
  tenant: Tenant;
  env: 'live' | 'test';
  rateLimitRpm: number;
}

/**
 * A caller of the engram API (/api/v1): a user's plur_sk_ key, or the admin key acting as admin of one
 * organisation (X-Mnemo-Org, else MNEMO_DEFAULT_ORG). Its scope access is resolved once and cached.
 */
export interface EngramPrincipal extends EngramCaller {
  kind: 'engram';
  /** The user's name; "admin" for the bootstrap admin key. */
  username: string;
  /** Role in the organisation. */
  role: Role;
  /** Engram-API key id; null for the admin key, a session and an IdP token. */
  keyId: string | null;
  /** Which kind of credential it is (GET /api/v1/me says so). */
  credential: EngramCredentialKind;
  /** The session id of a session token (what POST /auth/logout ends); null otherwise. */
  sessionId: string | null;
  /** When the key expires (ms since the epoch); null when it never does. */
  expiresAt: number | null;
  /** Rate-limit bucket family: plur:<key id>, or plur-admin:<org> for the admin key (one per organisation). */
  credentialId: string;
  access: ScopeAccess;
  /** What invalidates this principal on every instance (see CredentialInvalidation). */
  invalidationTags: readonly string[];
}

/**
 * A SCIM bearer token (plur_scim_...) acting as its organisation's SCIM provisioner on /scim/v2 only. It
 * administers users and groups (isOrgAdmin) and reads no memory (its scope access is empty).
 */
export interface ScimPrincipal extends EngramCaller {
  kind: 'scim';
  tokenId: string;
  /** Rate-limit bucket family: scim:<token id>. */
  credentialId: string;
  /** What invalidates this principal on every instance: the token's revocation (scim:<hash>). */
  invalidationTags: readonly string[];
}

/** A reader of GET /metrics: by the admin key, the metrics token, or anyone (MNEMO_METRICS_PUBLIC). */
export interface MetricsPrincipal {
  kind: 'metrics';
  via: 'admin' | 'metrics-token' | 'public';
}
/** api_key: a user's plur_sk_ key; admin_key: the bootstrap admin key; session: mnemo's session token from
 * single sign-on; idp_token: an access token of a trusted identity provider. */
export const ENGRAM_CREDENTIAL_KINDS = ['api_key', 'admin_key', 'session', 'idp_token'] as const;
export type EngramCredentialKind = (typeof ENGRAM_CREDENTIAL_KINDS)[number];

export interface PrincipalByAuth {
  none: undefined;
  admin: AdminPrincipal;
  layer: LayerKeyPrincipal;
  engram: EngramPrincipal;
  scim: ScimPrincipal;
  metrics: MetricsPrincipal;
}

/** How a principal is rate limited: its bucket family and the limits of each class. */
export interface RatePolicy {
  credentialId: string;
  rpm: number;
  /** Extra limit for write-heavy routes; absent = writes share the general bucket only. */
  writeRpm?: number;
}

export interface Authenticated<P> {
  principal: P;
  rate?: RatePolicy;
}
