import { Filter, type FilterSpec } from '../memory/event-filter.js';

/**
 * One subscription of a socket. `since` is what the client asked for (a stream id, or `$` for new events
 * only); `from` is the resolved start: events with a greater id are delivered. It stays undefined until a
 * `$` start has been resolved against the stream.
 */
export interface Subscription {
  readonly id: string;
  readonly filter: Filter;
  readonly since: string;
  from: string | undefined;
  /** The `subscribed` frame has been sent; only announced subscriptions deliver events. */
  announced: boolean;
  /** Asked for a replay (`since` was an id): `replay.done` is sent once it has caught up. */
  replaying: boolean;
}

export const NEW_EVENTS_ONLY = '$';

export function newSubscription(id: string, spec: FilterSpec, since: string | undefined): Subscription {
  const start = since ?? NEW_EVENTS_ONLY;
  return {
    id,
    filter: new Filter(spec),
    since: start,
    from: undefined,
    announced: false,
    replaying: start !== NEW_EVENTS_ONLY,
  };
}
