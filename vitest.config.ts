import { defineConfig } from 'vitest/config';

/**
 * The critical paths, run a second time against a local Redis Cluster (three masters, three replicas):
 * remember / recall / context / forget / erase, engrams, inject, sessions, the event stream with resume,
 * cross-instance fan-out and revocation, rate limits, background jobs and the audit trail. Files listed here
 * reach Redis only through the server, so the one suite serves both deployments.
 */
const CLUSTER_SUITE = [
  'test/integration/layer-remember.test.ts',
  'test/integration/layer-recall.test.ts',
  'test/integration/layer-lifecycle.test.ts',
  'test/integration/engram-crud.test.ts',
  'test/integration/engram-recall.test.ts',
  'test/integration/engram-inject.test.ts',
  'test/integration/engram-sessions-episodes.test.ts',
  'test/integration/engram-identities.test.ts',
  'test/integration/ws-stream.test.ts',
  'test/integration/ws-resume.test.ts',
  'test/integration/ws-fanout.test.ts',
  'test/integration/ws-auth.test.ts',
  'test/integration/auth-hardening.test.ts',
  'test/integration/reembed.test.ts',
  'test/integration/enrichment.test.ts',
  'test/integration/audit-log.test.ts',
  'test/integration/webhooks-layer.test.ts',
  'test/integration/webhooks-engram.test.ts',
  'test/integration/vector-partitions.test.ts',
];

export default defineConfig({
  test: {
    // Separate processes: each test file runs its own server instances against the shared Redis.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Timing is never asserted; retries would hide real failures.
    retry: 0,
    projects: [
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_SUITE,
          globalSetup: ['test/helpers/global-setup-cluster.ts'],
        },
      },
    ],
  },
});
