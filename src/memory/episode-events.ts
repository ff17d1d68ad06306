/**
 * Episode event types (the layer API's episodic "event") and how a remember request's `source` or
 * explicit `event` picks one. The reference server documents the mapping but always stores
 * agent_response; here the request decides.
 */
export const EPISODE_EVENTS = [
  'user_message',
  'agent_response',
  'tool_call',
  'tool_result',
  'tool_error',
  'plan_created',
  'plan_step',
  'session_start',
  'session_end',
  'memory_promoted',
  'policy_block',
  'summary',
  'custom',
] as const;

export type EpisodeEvent = (typeof EPISODE_EVENTS)[number];

const SOURCE_ALIASES: Record<string, EpisodeEvent> = {
  user: 'user_message',
  human: 'user_message',
  agent: 'agent_response',
  assistant: 'agent_response',
  ai: 'agent_response',
  tool: 'tool_result',
  tool_output: 'tool_result',
  tool_response: 'tool_result',
  function_call: 'tool_call',
  error: 'tool_error',
  plan: 'plan_created',
  system: 'custom',
};

export const isEpisodeEvent = (value: string): value is EpisodeEvent =>
  (EPISODE_EVENTS as readonly string[]).includes(value);

/** An explicit event wins; else the source names an event or an alias of one; else agent_response. */
export function episodeEventFor(event: string | undefined, source: string | undefined): EpisodeEvent {
  if (event !== undefined && isEpisodeEvent(event)) return event;
  const key = source?.trim().toLowerCase();
  if (key) {
    if (isEpisodeEvent(key)) return key;
    const alias = SOURCE_ALIASES[key];
    if (alias) return alias;
  }
  return 'agent_response';
}
