import type { AdminKeyVerifier } from './auth/admin-key.js';
import type { AuditAdmin } from './auth/audit-admin.js';
import type { EngramAuthenticator } from './auth/engram-auth.js';
import type { GroupService } from './auth/groups.js';
import type { ScopeMetadataService } from './auth/scope-metadata.js';
import type { LayerKeyService } from './auth/layer-keys.js';
import type { OwnKeyService } from './auth/own-keys.js';
import type { PlurKeyService } from './auth/plur-keys.js';
import type { ScimTokenService } from './auth/scim-tokens.js';
import type { UserService } from './auth/users.js';
import type { OidcLogin } from './auth/oidc/oidc-login.js';
import type { SessionService } from './auth/oidc/session-service.js';
import type { Config } from './config.js';
import type { ReembedJobs } from './jobs/reembed-jobs.js';
import type { PackJobs } from './jobs/pack-jobs.js';
import type { Logger } from './log.js';
import type { AuditLog } from './memory/audit/audit-log.js';
import type { Insights } from './memory/insights/insights-report.js';
import type { EngramEngine } from './memory/engrams/engine.js';
import type { EventLog } from './memory/event-log.js';
import type { MemoryService } from './memory/memory-service.js';
import type { PackExporter } from './memory/packs/pack-export.js';
import type { PackService } from './memory/packs/pack-service.js';
import type { RecallService } from './memory/recall-service.js';
import type { RedisHealth } from './redis/health.js';
import type { ScimGroupService } from './scim/scim-groups.js';
import type { ScimUserService } from './scim/scim-users.js';
import type { WebhookService } from './memory/webhooks/webhook-service.js';
import type { MetricsAccess } from './auth/metrics-access.js';
import type { Metrics } from './metrics/metrics.js';
import type { Readiness } from './readiness.js';

/**
 * What route handlers may use. Built once by the composition root (src/app.ts); routes receive it and
 * close over the parts they need. Transport code reaches Redis only through these services.
 */
export interface Services {
  config: Readonly<Config>;
  log: Logger;
  startedAt: number;
  redisHealth: RedisHealth;
  adminKey: AdminKeyVerifier;
  layerKeys: LayerKeyService;
  events: EventLog;
  memory: MemoryService;
  recall: RecallService;
  /** Re-embedding whole workspaces as background jobs (admin). */
  reembed: ReembedJobs;
  /** Engram API: credentials and principals, users/groups/memberships, keys, audit, the engram domain. */
  engramAuth: EngramAuthenticator;
  users: UserService;
  groups: GroupService;
  scopeMetadata: ScopeMetadataService;
  plurKeys: PlurKeyService;
  /** Self-service keys of a user (/api/v1/me/api-keys). */
  ownKeys: OwnKeyService;
  audit: AuditLog;
  engrams: EngramEngine;
  /** SCIM 2.0 provisioning (/scim/v2): its bearer tokens, and users and groups in their SCIM form. */
  scimTokens: ScimTokenService;
  scimUsers: ScimUserService;
  scimGroups: ScimGroupService;
  /** The audit trail for organisation admins (GET /api/v1/admin/audit). */
  auditAdmin: AuditAdmin;
  /** Packs (/api/v1/packs): install, list, uninstall; export; large installs as jobs. */
  packs: PackService;
  packExport: PackExporter;
  packJobs: PackJobs;
  /** Webhooks of both faces (/api/v1/admin/webhooks, /v1/webhooks). */
  webhooks: WebhookService;
  /** Prometheus metrics of this instance; `metrics.webhooks` is where webhook delivery metrics plug in. */
  metrics: Metrics;
  /** Who may read GET /metrics. */
  metricsAccess: MetricsAccess;
  /** The text of GET /metrics: this instance's, or its MNEMO_PROCESSES group's merged. */
  metricsText: () => Promise<string>;
  /** GET /readyz: Redis, scripts, shutdown. */
  readiness: Readiness;
  /** Single sign-on (/auth/login, /auth/callback) and the end of sessions (/auth/logout). */
  oidcLogin: OidcLogin;
  sessions: SessionService;
  /** The organisation overview (GET /api/v1/admin/insights). */
  insights: Insights;
}
