import { fail } from '../errors.js';
import { orgTenant } from '../tenant.js';
import { isWorkspaceId } from '../workspace.js';
import type { AdminKeyVerifier } from './admin-key.js';
import { CredentialCache } from './credential-cache.js';
import { refusedFor } from './credential-errors.js';
import type { GroupService } from './groups.js';
import { orgTag, userTag } from './identity-scripts.js';
import type { Invalidatable } from './invalidation.js';
import { PLUR_KEY_PATTERN, plurKeyTag, type PlurKeyService } from './plur-keys.js';
import { JWT_PATTERN, type JwtCredential, type JwtCredentials } from './oidc/jwt-credentials.js';
import type { Authenticated, EngramCredentialKind, EngramPrincipal } from './principal.js';
import { OrgScopeAccess } from './scope-access.js';
import type { UserService } from './users.js';
import { sha256Hex } from './secrets.js';

/**
 * Turns the bearer token of an engram-API request into a principal whose scope access is resolved once and
 * cached per instance (key hash -> principal), and dropped on every instance when the key is revoked
 * (`plur:<hash>`), the user changes or their memberships do (`user:<org>:<id>`), or the organisation gets a
 * new group (`org:<org>`). Expiry is checked on every request, cached or not.
 *
 * The admin key is the bootstrap: it acts as admin of the organisation named by `X-Mnemo-Org`, or of
 * MNEMO_DEFAULT_ORG. A user key always acts on its own organisation; the header is ignored for it.
 */
export const INVALID_TOKEN = 'Invalid or expired token';

/** What a user's credential says about itself, whatever its kind (what `loadUser` builds a principal from). */
interface UserCredential {
  org: string;
  userId: string;
  keyId: string | null;
  kind: EngramCredentialKind;
  sessionId: string | null;
  expiresAt: number | null;
  credentialId: string;
  /** Whether it opens the user's personal scope (false for a key an admin issued for the user). */
  personal: boolean;
  /** The credential's own invalidation tags (its key, its session); the user's and the org's are added. */
  tags: readonly string[];
}

interface CachedPrincipal {
  principal: EngramPrincipal;
  expiresAt: number | null;
  tags: readonly string[];
}

export interface EngramAuthSettings {
  defaultOrg: string;
  rpm: number;
  writeRpm: number;
  cacheTtlMs: number;
}

export class EngramAuthenticator {
  readonly cache: CredentialCache<CachedPrincipal>;
  /** What the credential invalidation subscriber calls (see CredentialInvalidation.register). */
  readonly invalidation: Invalidatable;

  constructor(
    private readonly adminKey: AdminKeyVerifier,
    private readonly keys: PlurKeyService,
    private readonly users: UserService,
    private readonly groups: GroupService,
    private readonly settings: EngramAuthSettings,
    /** Session tokens and IdP access tokens (src/auth/oidc); absent: JWTs are refused like any unknown token. */
    private readonly jwt?: JwtCredentials,
  ) {
    this.cache = new CredentialCache(settings.cacheTtlMs);
    this.invalidation = {
      invalidate: (tag) => this.cache.invalidate(tag),
      clear: () => this.cache.clear(),
    };
  }

  async authenticate(
    token: string | undefined,
    orgHeader: string | undefined,
  ): Promise<Authenticated<EngramPrincipal>> {
    if (token === undefined) throw fail.unauthorized(INVALID_TOKEN);
    let entry: CachedPrincipal;
    if (PLUR_KEY_PATTERN.test(token)) {
      const hash = sha256Hex(token);
      entry = await this.cached(hash, () => this.loadUserKey(hash));
      this.keys.touch(hash);
    } else if (this.adminKey.matches(token)) {
      const org =
        orgHeader === undefined || orgHeader.trim() === '' ? this.settings.defaultOrg : orgHeader.trim();
      if (!isWorkspaceId(org)) throw fail.validation('X-Mnemo-Org must be 1-64 characters of [A-Za-z0-9._-]');
      entry = await this.cached(`admin:${org}`, () => this.loadAdmin(org));
    } else if (this.jwt?.enabled && JWT_PATTERN.test(token)) {
      const jwt = this.jwt;
      entry = await this.cached(`jwt:${sha256Hex(token)}`, async () =>
        this.loadJwtUser(await jwt.resolve(token)),
      );
    } else {
      throw fail.unauthorized(INVALID_TOKEN);
    }
    const { principal } = entry;
    if (entry.expiresAt !== null && Date.now() >= entry.expiresAt) {
      throw refusedFor(fail.unauthorized(INVALID_TOKEN), {
        org: principal.org,
        credentialId: principal.credentialId,
        keyId: principal.keyId,
        userId: principal.userId,
        reason: 'expired',
      });
    }
    return {
      principal,
      rate: {
        credentialId: principal.credentialId,
        rpm: this.settings.rpm,
        writeRpm: this.settings.writeRpm,
      },
    };
  }

  /** Tags whose invalidation revokes the credential outright (its key, its session). */
  revocationTags(principal: EngramPrincipal): string[] {
    return principal.invalidationTags.filter(isRevocationTag);
  }

  /** Tags whose invalidation changes what the credential may do (role, activation, memberships, groups). */
  refreshTags(principal: EngramPrincipal): string[] {
    return principal.invalidationTags.filter((tag) => !isRevocationTag(tag));
  }

  private async cached(cacheKey: string, load: () => Promise<CachedPrincipal>): Promise<CachedPrincipal> {
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    // A principal loaded across an invalidation is used once but not cached (see CredentialCache).
    const epoch = this.cache.epoch;
    const loaded = await load();
    this.cache.set(cacheKey, loaded, epoch);
    return loaded;
  }

  private async loadUserKey(hash: string): Promise<CachedPrincipal> {
    const record = await this.keys.lookup(hash);
    if (!record) throw fail.unauthorized(INVALID_TOKEN);
    const credentialId = `plur:${record.id}`;
    if (!record.active) {
      throw refusedFor(fail.unauthorized(INVALID_TOKEN), {
        org: record.org,
        credentialId,
        keyId: record.id,
        userId: record.user_id,
        reason: 'revoked',
      });
    }
    const parsed = record.expires_at === null ? null : Date.parse(record.expires_at);
    return this.loadUser({
      org: record.org,
      userId: record.user_id,
      keyId: record.id,
      kind: 'api_key',
      sessionId: null,
      expiresAt: parsed !== null && Number.isFinite(parsed) ? parsed : null,
      credentialId,
      // A key an admin issued for someone else does not open that user's personal scope.
      personal: record.personal,
      tags: [plurKeyTag(hash)],
    });
  }

  /** A session or IdP token's user; it opens their personal scope. */
  private loadJwtUser(credential: JwtCredential): Promise<CachedPrincipal> {
    return this.loadUser({
      org: credential.org,
      userId: credential.userId,
      keyId: null,
      kind: credential.kind,
      sessionId: credential.sessionId,
      expiresAt: credential.expiresAt,
      credentialId: credential.credentialId,
      personal: true,
      tags: credential.tags,
    });
  }

  /**
   * The one builder of a user's principal, for every credential kind (key, session, IdP token): the user
   * is refused when missing or deactivated, and their memberships are resolved once.
   */
  private async loadUser(credential: UserCredential): Promise<CachedPrincipal> {
    const { org, userId, expiresAt } = credential;
    const tenant = orgTenant(org);
    const [user, memberships, groupPaths] = await Promise.all([
      this.users.getUser(tenant, userId),
      this.groups.membershipsOf(tenant, userId),
      this.groups.groupPaths(tenant),
    ]);
    if (!user || !user.active) {
      throw refusedFor(fail.unauthorized(INVALID_TOKEN), {
        org,
        credentialId: credential.credentialId,
        keyId: credential.keyId,
        userId,
        reason: 'user_inactive',
      });
    }
    const tags = [...credential.tags, userTag(org, user.id), orgTag(org)];
    return {
      principal: {
        kind: 'engram',
        org,
        tenant,
        userId: user.id,
        username: user.username,
        role: user.role,
        isOrgAdmin: user.role === 'admin',
        keyId: credential.keyId,
        credential: credential.kind,
        sessionId: credential.sessionId,
        expiresAt,
        credentialId: credential.credentialId,
        actor: { type: 'user', id: user.id },
        access: new OrgScopeAccess(
          org,
          credential.personal ? user.username : null,
          user.role,
          memberships,
          groupPaths,
        ),
        invalidationTags: tags,
      },
      expiresAt,
      tags,
    };
  }

  private async loadAdmin(org: string): Promise<CachedPrincipal> {
    const tenant = orgTenant(org);
    const groupPaths = await this.groups.groupPaths(tenant);
    return {
      principal: {
        kind: 'engram',
        org,
        tenant,
        userId: null,
        username: 'admin',
        role: 'admin',
        isOrgAdmin: true,
        keyId: null,
        credential: 'admin_key',
        sessionId: null,
        expiresAt: null,
        // One rate-limit bucket family (and event-socket quota) per organisation the admin key acts on, so
        // one organisation's traffic never throttles another's.
        credentialId: `plur-admin:${org}`,
        actor: { type: 'admin', id: 'admin-key' },
        access: new OrgScopeAccess(org, null, 'admin', [], groupPaths),
        invalidationTags: [orgTag(org)],
      },
      expiresAt: null,
      tags: [orgTag(org)],
    };
  }
}

/** A key's or a session's own tag: invalidating it ends the credential rather than changing its access. */
const isRevocationTag = (tag: string): boolean => tag.startsWith('plur:') || tag.startsWith('session:');
