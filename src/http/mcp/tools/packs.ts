import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { defineTool, type AnyTool } from '../tool.js';
import type { RouteSchemas } from './index.js';

/**
 * plur_packs_list, plur_packs_install, plur_packs_uninstall, plur_packs_export (plur.md §1.4) and
 * plur_packs_job: the /api/v1/packs routes. Install is by URL only (PLUR's `source`; the multipart upload is
 * for REST); a large install runs as a job, which the install result names and plur_packs_job follows. Export
 * answers the route's .tar.gz as base64 in the structured content. Field schemas are the routes' own.
 */
interface PackRow {
  name: string;
  version: string;
  scope: string;
  engram_count: number;
  integrity_status: string;
}

interface JobAnswer {
  job_id: string;
  state: string;
  progress: { done: number; total: number };
  result: InstallAnswer | null;
  error: string | null;
}

interface InstallAnswer {
  pack?: PackRow;
  installed?: number;
  duplicates?: number;
  conflicts?: unknown[];
  upgraded?: boolean;
  job_id?: string;
  progress?: { done: number; total: number };
}

/** The filename of a Content-Disposition header (`attachment; filename="x.tar.gz"`), if any. */
function filenameOf(disposition: string | undefined): string | undefined {
  const match = /filename="([^"]+)"/.exec(disposition ?? '');
  return match?.[1];
}

/** The schemas of an object schema's fields, each as a required field (wrap it in Type.Optional to relax). */
function fieldsOf(schema: TObject, what: string): (name: string) => TSchema {
  const { properties } = Type.Required(schema);
  return (name) => {
    const field = properties[name];
    if (!field) throw new Error(`MCP tool input: ${what} has no field ${name}`);
    return field;
  };
}

export function packTools(routes: RouteSchemas): AnyTool[] {
  const installBody = fieldsOf(routes.body('POST', '/api/v1/packs'), 'POST /api/v1/packs body');
  const installQuery = fieldsOf(routes.query('POST', '/api/v1/packs'), 'POST /api/v1/packs query');
  const exportBody = fieldsOf(routes.body('POST', '/api/v1/packs/export'), 'POST /api/v1/packs/export body');

  const list = defineTool({
    name: 'plur_packs_list',
    title: 'List installed packs',
    description:
      'List the knowledge packs installed in the organisation (name, version, scope, engram count, integrity status). ' +
      'Use it before installing, upgrading or uninstalling a pack.',
    audience: 'engram',
    input: Type.Object({}),
    uses: ['GET /api/v1/packs'],
    annotations: { readOnlyHint: true },
    run: (_input, call) => call.route('GET', '/api/v1/packs'),
    text: (r) => {
      const rows = r.rows as PackRow[];
      if (rows.length === 0) return 'No packs installed.';
      return rows
        .map(
          (p) =>
            `${p.name}@${p.version} in ${p.scope}: ${p.engram_count} engrams, integrity ${p.integrity_status}`,
        )
        .join('\n');
    },
  });

  const install = defineTool({
    name: 'plur_packs_install',
    title: 'Install a pack',
    description:
      'Download a knowledge pack (.tar.gz) from an https URL and install its engrams, so recall and inject use them. ' +
      'Needs the admin role in the organisation; set upgrade to replace an installed version.',
    audience: 'engram',
    input: Type.Object({
      source: { ...installBody('url'), description: 'https URL of the pack .tar.gz.' },
      scope: Type.Optional(installBody('scope')),
      integrity: Type.Optional(installBody('integrity')),
      upgrade: Type.Optional(installQuery('upgrade')),
    }),
    uses: ['POST /api/v1/packs'],
    run: async (input, call) => {
      const { status, body } = await call.routeWithStatus<InstallAnswer>('POST', '/api/v1/packs', {
        body: {
          url: input.source,
          ...(input.scope === undefined ? {} : { scope: input.scope }),
          ...(input.integrity === undefined ? {} : { integrity: input.integrity }),
        },
        query: input.upgrade === undefined ? {} : { upgrade: input.upgrade },
      });
      if (status !== 202) return { ...body, already_installed: status === 200, queued: false };
      // A large pack installs as a job: say which tool follows it, with which arguments.
      return {
        ...body,
        already_installed: false,
        queued: true,
        poll: { tool: 'plur_packs_job', arguments: { job_id: body.job_id } },
      };
    },
    text: (r) => {
      const answer = r as unknown as InstallAnswer & { already_installed: boolean; queued: boolean };
      if (answer.queued)
        return (
          `Install queued as job ${String(answer.job_id)} (${answer.progress?.total ?? 0} engrams); ` +
          `follow it with plur_packs_job {"job_id": "${String(answer.job_id)}"}.`
        );
      const pack = answer.pack as PackRow;
      if (answer.already_installed)
        return `${pack.name}@${pack.version} is already installed in ${pack.scope}; nothing changed.`;
      const conflicts = answer.conflicts?.length ?? 0;
      return (
        `${answer.upgraded ? 'Upgraded to' : 'Installed'} ${pack.name}@${pack.version} in ${pack.scope}: ` +
        `${answer.installed ?? 0} engrams added, ${answer.duplicates ?? 0} duplicates skipped, ${conflicts} possible conflicts.`
      );
    },
  });

  const uninstall = defineTool({
    name: 'plur_packs_uninstall',
    title: 'Uninstall a pack',
    description:
      'Uninstall a pack by name: its engrams are retired, so recall and inject stop returning them. ' +
      'Needs the admin role in the organisation; find the name with plur_packs_list.',
    audience: 'engram',
    input: Type.Object({ name: routes.param('DELETE', '/api/v1/packs/:name', 'name') }),
    uses: ['DELETE /api/v1/packs/:name'],
    annotations: { destructiveHint: true },
    run: (input, call) => call.route('DELETE', '/api/v1/packs/:name', { params: { name: input.name } }),
    text: (r) => `Uninstalled ${String(r.name)}: ${String(r.removed)} engrams retired.`,
  });

  const exportPack = defineTool({
    name: 'plur_packs_export',
    title: 'Export a pack',
    description:
      'Package the active engrams of a scope you read (optionally filtered by domain, tags or type) as a pack .tar.gz, ' +
      'returned base64-encoded, to share them or install them elsewhere.',
    audience: 'engram',
    input: Type.Object({
      name: exportBody('name'),
      filter_scope: { ...exportBody('scope'), description: 'The scope to export (org:…, group:…).' },
      version: Type.Optional(exportBody('version')),
      description: Type.Optional(exportBody('description')),
      filter_domain: Type.Optional(exportBody('domain')),
      filter_tags: Type.Optional(exportBody('tags')),
      filter_type: Type.Optional(exportBody('type')),
    }),
    uses: ['POST /api/v1/packs/export'],
    annotations: { readOnlyHint: true },
    run: async (input, call) => {
      const answer = await call.routeWithStatus<Buffer | string>('POST', '/api/v1/packs/export', {
        body: {
          name: input.name,
          scope: input.filter_scope,
          ...(input.version === undefined ? {} : { version: input.version }),
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.filter_domain === undefined ? {} : { domain: input.filter_domain }),
          ...(input.filter_tags === undefined ? {} : { tags: input.filter_tags }),
          ...(input.filter_type === undefined ? {} : { type: input.filter_type }),
        },
      });
      if (!answer.raw) throw new Error('POST /api/v1/packs/export answered no raw reply');
      const bytes = Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body, 'utf8');
      const headers = answer.raw.headers;
      const count = Number(headers['X-Mnemo-Engram-Count']);
      return {
        filename: filenameOf(headers['Content-Disposition']) ?? `${String(input.name)}.tar.gz`,
        content_type: answer.raw.contentType,
        bytes: bytes.length,
        ...(Number.isInteger(count) ? { engram_count: count } : {}),
        base64: bytes.toString('base64'),
      };
    },
    text: (r) =>
      `Exported ${typeof r.engram_count === 'number' ? `${r.engram_count} engrams as ` : ''}` +
      `${String(r.filename)} (${String(r.content_type)}, ${String(r.bytes)} bytes); ` +
      'the archive is base64-encoded in the structured content field base64.',
  });

  const job = defineTool({
    name: 'plur_packs_job',
    title: 'Follow a pack install job',
    description:
      'Read the state and progress of a large pack install that plur_packs_install queued as a job: waiting, active, ' +
      'completed (with the install result) or failed (with the error). Needs the admin role in the organisation.',
    audience: 'engram',
    input: Type.Object({ job_id: routes.param('GET', '/api/v1/packs/jobs/:job_id', 'job_id') }),
    uses: ['GET /api/v1/packs/jobs/:job_id'],
    annotations: { readOnlyHint: true, idempotentHint: true },
    run: (input, call) =>
      call.route('GET', '/api/v1/packs/jobs/:job_id', { params: { job_id: input.job_id } }),
    text: (r) => {
      const answer = r as unknown as JobAnswer;
      const progress = `${answer.progress.done}/${answer.progress.total} engrams`;
      if (answer.state === 'completed' && answer.result?.pack) {
        const pack = answer.result.pack;
        return `Job ${answer.job_id} completed: ${pack.name}@${pack.version} in ${pack.scope}, ${answer.result.installed ?? 0} engrams added.`;
      }
      if (answer.state === 'failed')
        return `Job ${answer.job_id} failed (${progress}): ${answer.error ?? 'no reason given'}.`;
      return `Job ${answer.job_id} is ${answer.state}: ${progress} done; ask again with plur_packs_job.`;
    },
  });

  return [list, install, uninstall, exportPack, job];
}
