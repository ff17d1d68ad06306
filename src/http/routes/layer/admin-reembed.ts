import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { ReembedJobStatus } from '../../../jobs/reembed-jobs.js';
import type { Services } from '../../../services.js';
import { WORKSPACE_ID_PATTERN } from '../../../workspace.js';
import { defineRoute, reply } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';

/**
 * Re-embedding a workspace (admin key only): after a change of embedder, stored vectors of the old one are
 * ignored and those documents are found by BM25 alone until re-embedded. The work is a background job;
 * its status and progress are polled by id. The id names a layer workspace and an engram organisation
 * (two tenants, src/tenant.ts): both are re-embedded.
 */
const ReembedJob = Type.Object({
  job_id: Type.String(),
  kind: Type.Literal('reembed'),
  workspace_id: Type.String(),
  force: Type.Boolean({
    description: 'Whether every document is re-embedded, not only those without a usable vector.',
  }),
  state: StringEnum(['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown'], {
    description: 'waiting: queued (no process runs workers: see MNEMO_JOBS); failed: see error.',
  }),
  progress: Type.Object({
    total: Type.Integer({ description: 'Documents in the workspace when the run started.' }),
    scanned: Type.Integer(),
    embedded: Type.Integer({ description: 'Vectors written so far.' }),
  }),
  attempts: Type.Integer(),
  created_at: Timestamp(),
  finished_at: Nullable(Timestamp()),
  error: Nullable(Type.String()),
});

function toWire(status: ReembedJobStatus) {
  return {
    job_id: status.jobId,
    kind: 'reembed' as const,
    workspace_id: status.workspace,
    force: status.force,
    state: status.state,
    progress: status.progress,
    attempts: status.attempts,
    created_at: status.createdAt.toISOString(),
    finished_at: status.finishedAt?.toISOString() ?? null,
    error: status.error,
  };
}

const JOB_ID = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export function adminReembedRoutes(services: Services) {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/workspaces/:workspace_id/reembed',
      face: 'layer',
      auth: 'admin',
      status: 202,
      summary:
        "Re-embed a workspace's documents with the current embedder (a background job; 200 with the running one if one is already waiting or running).",
      tags: ['admin'],
      schema: {
        params: Type.Object({ workspace_id: Type.String({ pattern: WORKSPACE_ID_PATTERN }) }),
        body: Type.Object({
          force: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                'Re-embed every document, not only those whose vector is missing or of another dimension (use after switching to another model of the same dimension).',
            }),
          ),
        }),
        response: { 202: ReembedJob, 200: ReembedJob },
      },
      handler: async ({ params, body }) => {
        const { status, started } = await services.reembed.start(params.workspace_id, body.force ?? false);
        return reply(started ? 202 : 200, toWire(status));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/jobs/:job_id',
      face: 'layer',
      auth: 'admin',
      summary: 'State and progress of a background job started by an admin route.',
      tags: ['admin'],
      schema: {
        params: Type.Object({ job_id: JOB_ID }),
        response: { 200: ReembedJob },
      },
      handler: async ({ params }) => {
        const status = await services.reembed.status(params.job_id);
        if (!status) throw fail.notFound(`No job ${params.job_id} (finished jobs are kept for a while only)`);
        return toWire(status);
      },
    }),
  ];
}
