import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { AdminCall } from '../../../auth/admin-guard.js';
import type { EngramPrincipal } from '../../../auth/principal.js';
import type { RequestOrigin } from '../../../memory/audit/audit-log.js';
import { ENGRAM_TYPES } from '../../../memory/engrams/model.js';
import { PACK_NAME_PATTERN } from '../../../memory/packs/pack-format.js';
import { fetchLimited } from '../../../net/limited-fetch.js';
import type { Services } from '../../../services.js';
import { defineRoute, rawReply, reply } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';
import { NoControl, RowsOf, ScopeName } from './shapes.js';

/**
 * /api/v1/packs (plur.md §1.9): install a pack from an upload or a URL, list the installed ones, uninstall,
 * export a scope as a pack, and follow a large install's job. Org admins install and uninstall; export
 * needs read access to the scope.
 */
const PackName = Type.String({ pattern: PACK_NAME_PATTERN, description: 'Pack name (manifest `name`).' });
const Integrity = Type.String({
  pattern: '^sha256:[0-9a-f]{64}$',
  description: 'sha256:<hex> of SHA-256(bytes(SKILL.md) ‖ bytes(engrams.yaml)); a mismatch is 409.',
});

const PackRow = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    description: Nullable(Type.String()),
    creator: Nullable(Type.String()),
    scope: Type.String(),
    source: Type.String({ description: '"upload" or the URL it was fetched from.' }),
    integrity: Type.String(),
    integrity_status: StringEnum(['ok', 'modified', 'unverified'] as const, {
      description:
        'modified: an engram the pack installed was changed or retired since; unverified: nothing declared an integrity.',
    }),
    engram_count: Type.Integer(),
    installed_at: Timestamp(),
    installed_by: Type.String(),
  },
  { title: 'PackRow' },
);

const Conflict = Type.Object({
  statement: Type.String(),
  engram_id: Type.String(),
  existing_statement: Type.String(),
});

const InstallResult = Type.Object(
  {
    pack: PackRow,
    installed: Type.Integer({ description: 'Engrams created.' }),
    duplicates: Type.Integer({
      description: 'Engrams whose statement was already live in the scope (skipped).',
    }),
    conflicts: Type.Array(Conflict, {
      description: 'Live engrams the pack seems to contradict (reported, not blocked).',
    }),
    upgraded: Type.Boolean(),
  },
  { title: 'PackInstallResult' },
);

const Progress = Type.Object({ done: Type.Integer(), total: Type.Integer() });
const JobAccepted = Type.Object({
  job_id: Type.String(),
  state: Type.String(),
  progress: Progress,
});
const JobStatus = Type.Object(
  {
    job_id: Type.String(),
    state: StringEnum(['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown'] as const),
    progress: Progress,
    result: Nullable(InstallResult),
    error: Nullable(Type.String()),
  },
  { title: 'PackJobStatus' },
);

const InstallBody = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'https URL of a .tar.gz (instead of a file part).',
      }),
    ),
    scope: Type.Optional({
      ...ScopeName,
      description: "Where the engrams land (default: the manifest's target_scope, else the organisation).",
    }),
    integrity: Type.Optional(Integrity),
  },
  { additionalProperties: false },
);

const ExportBody = Type.Object(
  {
    scope: ScopeName,
    name: PackName,
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NoControl })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    domain: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$' }),
    ),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: NoControl }), { maxItems: 50 }),
    ),
    type: Type.Optional(StringEnum(ENGRAM_TYPES)),
  },
  { additionalProperties: false },
);

/** Redirects a pack download may follow. */
const MAX_REDIRECTS = 3;

export function packRoutes(services: Services) {
  const { packs, packExport, packJobs, config } = services;
  const call = (input: {
    principal: EngramPrincipal;
    requestId: string;
    ip: string;
    header(name: string): string | undefined;
    origin?: RequestOrigin | undefined;
  }): AdminCall => ({
    caller: input.principal,
    requestId: input.requestId,
    // MCP calls these routes too; the audit entry names the transport that did.
    origin: input.origin ?? { channel: 'rest', ip: input.ip, userAgent: input.header('user-agent') },
  });
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/packs',
      face: 'engram',
      auth: 'engram',
      status: 201,
      errors: ['forbidden', 'conflict', 'unprocessable', 'payload_too_large'],
      upload: { maxBytes: config.packMaxBytes, files: ['file'] },
      summary: 'Install a pack: multipart upload (field file) or JSON {url}; org admins.',
      description:
        '201 when installed, 200 when the same name and integrity are already installed (nothing changes), ' +
        '202 with a job id for packs over MNEMO_PACK_INLINE_MAX_ENGRAMS. 409: integrity mismatch, or another ' +
        'version installed without ?upgrade=true. 422: an engram holds a secret. 400/413: malformed or oversize ' +
        'archive, path traversal, links, unknown layout, over 10,000 engrams. Nothing is ever half-installed.',
      tags: ['packs'],
      schema: {
        querystring: Type.Object({
          upgrade: Type.Boolean({ default: false, description: 'Replace an installed version in one step.' }),
        }),
        body: InstallBody,
        response: { 201: InstallResult, 200: InstallResult, 202: JobAccepted },
      },
      handler: async (input) => {
        const { body, query, files, principal } = input;
        const admin = call(input);
        const file = files.file;
        if (file && body.url !== undefined)
          throw fail.validation('Send either a file part or a url, not both');
        if (!file && body.url === undefined)
          throw fail.validation('Send the pack as a multipart file part named file, or JSON {url}');
        // Who may install is settled before anything is downloaded.
        await packs.authorizeInstall(admin);
        const archive = file
          ? file.data
          : await fetchLimited(body.url as string, {
              allowPrivate: config.allowPrivateUrls,
              maxBytes: config.packMaxBytes,
              timeoutMs: config.packFetchTimeoutMs,
              maxRedirects: MAX_REDIRECTS,
            });
        const answer = await packs.install(admin, {
          archive,
          source: file ? 'upload' : (body.url as string),
          scope: body.scope,
          integrity: body.integrity,
          upgrade: query.upgrade,
          installedBy: principal.username,
        });
        if (answer.status === 202)
          return reply(202, {
            job_id: answer.jobId,
            state: 'waiting',
            progress: { done: 0, total: answer.total },
          });
        const { status, ...result } = answer;
        return reply(status, result);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/packs',
      face: 'engram',
      auth: 'engram',
      summary: 'List installed packs with their integrity status (members see packs of scopes they read).',
      tags: ['packs'],
      schema: { response: { 200: RowsOf(PackRow) } },
      handler: async ({ principal, requestId }) => {
        const rows = await packs.list({ caller: principal, requestId });
        return { rows, total_count: rows.length };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/packs/:name',
      face: 'engram',
      auth: 'engram',
      errors: ['forbidden'],
      summary:
        'Uninstall a pack: its engrams are retired (recall and inject stop returning them); org admins.',
      tags: ['packs'],
      schema: {
        params: Type.Object({ name: PackName }),
        response: { 200: Type.Object({ name: Type.String(), removed: Type.Integer() }) },
      },
      handler: async (input) => packs.uninstall(call(input), input.params.name),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/packs/export',
      face: 'engram',
      auth: 'engram',
      writeHeavy: false,
      errors: ['unprocessable'],
      binaryResponse: {
        status: 200,
        contentType: 'application/gzip',
        description: 'The pack as .tar.gz (SKILL.md, engrams.yaml, INTEGRITY under <name>/).',
      },
      summary: 'Export the active engrams of a scope you read as a pack (.tar.gz download).',
      description:
        'Personal (user:) scopes and engrams the secret scan flags are left out; relations are stripped. ' +
        'A scope you cannot read is 404; a scope with nothing to export 422.',
      tags: ['packs'],
      schema: { body: ExportBody, response: {} },
      handler: async (input) => {
        const exported = await packExport.export(call(input), {
          ...input.body,
          creator: input.principal.username,
        });
        return rawReply(200, 'application/gzip', exported.archive, {
          'Content-Disposition': `attachment; filename="${exported.filename}"`,
          'X-Mnemo-Engram-Count': String(exported.engramCount),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/packs/jobs/:job_id',
      face: 'engram',
      auth: 'engram',
      errors: ['forbidden'],
      summary: 'State and progress of a large pack install (org admins; 404 for another organisation).',
      tags: ['packs'],
      schema: {
        params: Type.Object({ job_id: Type.String({ pattern: '^packjob_[0-9a-f]{1,64}$' }) }),
        response: { 200: JobStatus },
      },
      handler: async ({ params, principal, requestId }) => {
        if (!principal.isOrgAdmin)
          throw fail.forbidden('This endpoint needs the admin role in the organisation');
        void requestId;
        const status = await packJobs.status(principal.org, params.job_id);
        if (!status) throw fail.notFound(`Job ${params.job_id} not found`);
        return {
          job_id: status.jobId,
          state: status.state,
          progress: status.progress,
          result: status.result,
          error: status.error,
        };
      },
    }),
  ];
}
