/** Every BullMQ queue, named in one place. */
export const QUEUES = {
  /** Embed documents with a slow embedder (offline model, remote API). */
  embed: 'mnemo-embed',
  /** LLM fact extraction of an episode. */
  extract: 'mnemo-extract',
  /** Re-embedding a whole workspace on request (POST /admin/workspaces/{id}/reembed). */
  reembed: 'mnemo-reembed',
  /** Periodic upkeep: expiring working entries. */
  maintenance: 'mnemo-maintenance',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
