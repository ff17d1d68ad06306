/**
 * Workspace ids (the layer API's workspace, the engram API's organisation): 1–64 characters of
 * [A-Za-z0-9._-]. Braces, `~` and `:` are impossible, so Redis hash tags built from them stay intact, never
 * collide with the global tags in src/redis/keys.ts, and a workspace can never spell an organisation's
 * tenant (`org:<id>`, src/tenant.ts).
 */
export const WORKSPACE_ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

const WORKSPACE_ID = new RegExp(WORKSPACE_ID_PATTERN);

export const isWorkspaceId = (value: string): boolean => WORKSPACE_ID.test(value);
