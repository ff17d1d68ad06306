import type { AdminKeyVerifier } from './admin-key.js';
import { credentialRefused } from './credential-errors.js';
import type { MetricsPrincipal } from './principal.js';
import { constantTimeEqual } from './secrets.js';

/**
 * Who may read GET /metrics. The figures span every tenant (route names, index sizes, queue depths, no
 * content), so by default only the admin key or the dedicated scrape token (MNEMO_METRICS_TOKEN) may;
 * MNEMO_METRICS_PUBLIC=true opens it for a private scrape network. Both comparisons take constant time.
 */
export class MetricsAccess {
  constructor(
    private readonly adminKey: AdminKeyVerifier,
    private readonly token: string | undefined,
    private readonly open: boolean,
  ) {}

  authenticate(token: string | undefined): MetricsPrincipal {
    if (this.open) return { kind: 'metrics', via: 'public' };
    if (token === undefined) throw credentialRefused.missing();
    if (this.token !== undefined && constantTimeEqual(token, this.token))
      return { kind: 'metrics', via: 'metrics-token' };
    if (this.adminKey.matches(token)) return { kind: 'metrics', via: 'admin' };
    throw credentialRefused.wrongKind('Not a metrics credential', 'metrics');
  }
}
