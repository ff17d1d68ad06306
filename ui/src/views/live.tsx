import { useEffect, useRef, useState } from 'preact/hooks';
import type { Credential } from '../api';
import { LiveSocket, type LiveEvent, type LiveFilter, type LiveState } from '../live-socket';
import { Sparkline } from '../components/sparkline';
import { ErrorNote } from '../components/notice';

/**
 * The event stream as it happens: filters (types, user and agent go to the server's subscription; scope is
 * matched here on `data.scope`, which the subscription has no field for), pause (events keep arriving and
 * are held back, shown on resume), a per-second rate sparkline over the last minute.
 */
const KEEP = 300;
const RATE_WINDOW_SECONDS = 60;

export function LiveView(props: { credential: Credential }) {
  const { credential } = props;
  const path = credential.kind === 'layer' ? '/v1/events' : '/api/v1/events';
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [held, setHeld] = useState<LiveEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [connected, setConnected] = useState(true);
  const [state, setState] = useState<LiveState>({ state: 'connecting' });
  const [error, setError] = useState<string | null>(null);
  const [types, setTypes] = useState('');
  const [userId, setUserId] = useState('');
  const [agentId, setAgentId] = useState('');
  const [scope, setScope] = useState('');
  const [rate, setRate] = useState<number[]>(() => new Array<number>(RATE_WINDOW_SECONDS).fill(0));
  const socket = useRef<LiveSocket>();
  const pausedRef = useRef(false);
  const arrivals = useRef(0);

  useEffect(() => {
    const live = new LiveSocket(path, credential.token, filterOf('', '', ''), {
      onEvent: (event) => {
        arrivals.current++;
        if (pausedRef.current) setHeld((h) => [event, ...h].slice(0, KEEP));
        else setEvents((list) => [event, ...list].slice(0, KEEP));
      },
      onState: setState,
      onError: setError,
    });
    socket.current = live;
    const tick = setInterval(() => {
      const count = arrivals.current;
      arrivals.current = 0;
      setRate((r) => [...r.slice(1), count]);
    }, 1000);
    return () => {
      clearInterval(tick);
      live.close();
    };
  }, [path, credential.token]);

  const applyFilters = (e: Event): void => {
    e.preventDefault();
    setError(null);
    socket.current?.setFilter(filterOf(types, userId, agentId));
  };
  const togglePause = (): void => {
    if (pausedRef.current) {
      setEvents((list) => [...held, ...list].slice(0, KEEP));
      setHeld([]);
    }
    pausedRef.current = !pausedRef.current;
    setPaused(pausedRef.current);
  };
  const toggleConnection = (): void => {
    if (connected) socket.current?.disconnect();
    else socket.current?.connect();
    setConnected(!connected);
  };
  const shown = scope === '' ? events : events.filter((e) => e.data?.scope === scope);

  return (
    <section aria-labelledby="live-title">
      <div class="row">
        <h2 id="live-title">Live events</h2>
        <span class={`state state-${state.state}`} role="status" data-testid="live-state">
          {describe(state)}
        </span>
        <Sparkline values={rate} label="Events per second" unit="/s" />
      </div>
      <form class="filters" onSubmit={applyFilters}>
        <label>
          Types
          <input
            value={types}
            placeholder="memory.*, engram.*"
            onInput={(e) => setTypes(e.currentTarget.value)}
          />
        </label>
        <label>
          User
          <input value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
        </label>
        <label>
          Agent
          <input value={agentId} onInput={(e) => setAgentId(e.currentTarget.value)} />
        </label>
        <label>
          Scope
          <input value={scope} placeholder="group:…" onInput={(e) => setScope(e.currentTarget.value)} />
        </label>
        <button type="submit">Apply filters</button>
        <button type="button" onClick={togglePause} aria-pressed={paused}>
          {paused ? `Resume (${held.length} held)` : 'Pause'}
        </button>
        <button type="button" onClick={toggleConnection}>
          {connected ? 'Disconnect' : 'Connect (resume)'}
        </button>
      </form>
      <ErrorNote error={error} />
      <p class="help">
        {socket.current?.resumeFrom ? `Resumes from ${socket.current.resumeFrom} after a reconnect.` : ''}
      </p>
      <ol class="events" aria-label="Events, newest first" data-testid="events">
        {shown.map((event) => (
          <li key={event.id} class="event">
            <details>
              <summary>
                <time dateTime={event.ts}>{new Date(event.ts).toLocaleTimeString()}</time>{' '}
                <strong class="event-type">{event.type}</strong> <span class="muted">{who(event)}</span>
              </summary>
              <pre>{JSON.stringify(event, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
      {shown.length === 0 && <p class="muted">No events yet. Changes appear here as they happen.</p>}
    </section>
  );
}

function filterOf(types: string, userId: string, agentId: string): LiveFilter {
  return {
    types: types
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
    user_id: userId.trim(),
    agent_id: agentId.trim(),
  };
}

function describe(state: LiveState): string {
  switch (state.state) {
    case 'connecting':
      return 'Connecting…';
    case 'live':
      return 'Live';
    case 'reconnecting':
      return `Reconnecting (${state.reason})`;
    case 'closed':
      return state.reason === 'disconnected' ? 'Disconnected' : `Closed: ${state.reason}`;
  }
}

function who(event: LiveEvent): string {
  const data = event.data ?? {};
  const parts: string[] = [];
  for (const field of ['user_id', 'agent_id', 'scope'] as const) {
    const value = data[field];
    if (typeof value === 'string' && value !== '') parts.push(`${field.replace('_id', '')}: ${value}`);
  }
  const content = data.content ?? data.statement;
  if (typeof content === 'string') parts.push(`“${content.slice(0, 80)}”`);
  return parts.join(' · ');
}
