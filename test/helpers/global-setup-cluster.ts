import type { TestProject } from 'vitest/node';
import { startTestCluster } from './redis-cluster.js';

/**
 * The cluster project: the same test files as on one redis-server (see CLUSTER_SUITE in vitest.config.ts),
 * run against a local six-node Redis Cluster. Test files see only `redisUrl`, here a redis-cluster:// URL.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startTestCluster();
  project.provide('redisUrl', cluster.url);
  return () => cluster.destroy();
}
