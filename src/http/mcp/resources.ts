import { McpError, ErrorCode, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { isMnemoError } from '../../errors.js';
import { problemOf } from './problem.js';
import type { CallerContext, RouteCaller } from './route-call.js';

/** MCP resource-not-found (the specification's code for a URI that names nothing readable). */
const RESOURCE_NOT_FOUND = -32002;

const ME = 'mnemo://me';
const ENGRAM = /^mnemo:\/\/engrams\/([^/?#]+)$/;
const SESSION = /^mnemo:\/\/sessions\/([^/?#]+)$/;

/**
 * Read-only resources an agent may attach: the caller itself (`mnemo://me`: GET /api/v1/me or /v1/me),
 * an engram by id and a session by id (engram credentials). Each read is the REST GET it names, as the
 * caller, so what is hidden there (404) is not found here either.
 */
export class McpResources {
  constructor(private readonly routes: RouteCaller) {}

  list(caller: CallerContext) {
    return [
      {
        uri: ME,
        name: 'me',
        title: caller.kind === 'engram' ? 'You: username, role and readable scopes' : 'This workspace key',
        mimeType: 'application/json',
      },
    ];
  }

  templates(caller: CallerContext) {
    if (caller.kind !== 'engram') return [];
    return [
      {
        uriTemplate: 'mnemo://engrams/{id}',
        name: 'engram',
        title: 'An engram by id',
        mimeType: 'application/json',
      },
      {
        uriTemplate: 'mnemo://sessions/{id}',
        name: 'session',
        title: 'A session by id (yours)',
        mimeType: 'application/json',
      },
    ];
  }

  async read(caller: CallerContext, uri: string): Promise<ReadResourceResult> {
    const target = this.targetOf(caller, uri);
    if (!target) throw new McpError(RESOURCE_NOT_FOUND, `No resource ${uri}`, { uri });
    try {
      const { body } = await this.routes.call(caller, 'GET', target.path, { params: target.params });
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(body) }] };
    } catch (err) {
      const problem = problemOf(err, 'resources/read');
      if (isMnemoError(err) && (problem.status === 404 || problem.status === 400))
        throw new McpError(RESOURCE_NOT_FOUND, problem.detail, { uri, problem });
      throw new McpError(ErrorCode.InternalError, problem.detail, { uri, problem });
    }
  }

  private targetOf(
    caller: CallerContext,
    uri: string,
  ): { path: string; params: Record<string, string> } | undefined {
    if (uri === ME) return { path: caller.kind === 'engram' ? '/api/v1/me' : '/v1/me', params: {} };
    if (caller.kind !== 'engram') return undefined;
    const engram = ENGRAM.exec(uri);
    const session = engram ? null : SESSION.exec(uri);
    const raw = engram?.[1] ?? session?.[1];
    if (raw === undefined) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(raw);
    } catch {
      return undefined; // not percent-encoded UTF-8: it names nothing
    }
    return { path: engram ? '/api/v1/engrams/:id' : '/api/v1/sessions/:id', params: { id } };
  }
}
