import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, getText, type Credential } from '../api';
import { parsePrometheus, type Family } from '../prometheus';
import { Sparkline } from '../components/sparkline';

/**
 * Health, readiness and figures of the server, polled every few seconds. /readyz and /metrics are probed:
 * a server without them (404) shows "not available" rather than anything made up. /metrics takes the
 * admin key (or a metrics token); other credentials see it only where it is public.
 */
const POLL_MS = 5000;
const HISTORY = 36;

type Probe<T> =
  | { state: 'loading' }
  | { state: 'missing' }
  | { state: 'error'; message: string }
  | { state: 'ok'; value: T };

interface Health {
  status: string;
  version: string;
  env: string;
  uptime_seconds: number;
  database: string;
  vectors: string;
}

interface Indexes {
  rss_bytes: number;
  heap_used_bytes: number;
  indexes: {
    workspaces: number;
    bytes: number;
    rebuilds: number;
    by_workspace: { workspace: string; docs: number; vectors: number; bytes: number }[];
  };
}

export function SystemView(props: { credential: Credential }) {
  const { credential } = props;
  const [health, setHealth] = useState<Probe<Health>>({ state: 'loading' });
  const [ready, setReady] = useState<Probe<{ status: number; text: string }>>({ state: 'loading' });
  const [metrics, setMetrics] = useState<Probe<Map<string, Family>>>({ state: 'loading' });
  const [indexes, setIndexes] = useState<Probe<Indexes>>({ state: 'loading' });
  const [filter, setFilter] = useState('');
  const history = useRef(new Map<string, number[]>());

  useEffect(() => {
    const auth = credential.kind === 'admin' ? credential : null;
    const poll = async (): Promise<void> => {
      setHealth(await probeJson(() => api<Health>(null, 'GET', '/health')));
      setReady(await probeText(() => getText(null, '/readyz')));
      const text = await probeText(() => getText(auth, '/metrics'));
      if (text.state === 'ok') {
        if (text.value.status !== 200) {
          setMetrics({
            state: 'error',
            message: `HTTP ${text.value.status}: needs the admin key or the metrics token`,
          });
        } else {
          const families = parsePrometheus(text.value.text);
          for (const [name, family] of families) {
            const values = history.current.get(name) ?? [];
            history.current.set(name, [...values, family.total].slice(-HISTORY));
          }
          setMetrics({ state: 'ok', value: families });
        }
      } else setMetrics(text);
      if (credential.kind === 'admin')
        setIndexes(await probeJson(() => api<Indexes>(credential, 'GET', '/admin/metrics')));
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => clearInterval(timer);
  }, [credential]);

  return (
    <section aria-labelledby="system-title">
      <h2 id="system-title">System</h2>
      <div class="cards">
        <article class="card" aria-labelledby="health-title" data-testid="health">
          <h3 id="health-title">Health</h3>
          {health.state === 'ok' ? (
            <dl class="fields">
              <div>
                <dt>status</dt>
                <dd class={`status-${health.value.status}`}>{health.value.status}</dd>
              </div>
              <div>
                <dt>database</dt>
                <dd>{health.value.database}</dd>
              </div>
              <div>
                <dt>vectors</dt>
                <dd>{health.value.vectors}</dd>
              </div>
              <div>
                <dt>version</dt>
                <dd>{health.value.version}</dd>
              </div>
              <div>
                <dt>env</dt>
                <dd>{health.value.env}</dd>
              </div>
              <div>
                <dt>uptime</dt>
                <dd>{Math.round(health.value.uptime_seconds)} s</dd>
              </div>
            </dl>
          ) : (
            <ProbeState probe={health} />
          )}
        </article>
        <article class="card" aria-labelledby="ready-title" data-testid="readiness">
          <h3 id="ready-title">Readiness</h3>
          {ready.state === 'ok' ? (
            <p class={ready.value.status === 200 ? 'status-ok' : 'status-degraded'}>
              {ready.value.status === 200 ? 'ready' : `not ready (${ready.value.status})`}{' '}
              <span class="muted">{ready.value.text.slice(0, 200)}</span>
            </p>
          ) : (
            <ProbeState probe={ready} />
          )}
        </article>
        {credential.kind === 'admin' && (
          <article class="card" aria-labelledby="indexes-title" data-testid="indexes">
            <h3 id="indexes-title">Search indexes (this instance)</h3>
            {indexes.state === 'ok' ? (
              <p>
                {indexes.value.indexes.workspaces} loaded · {(indexes.value.indexes.bytes / 1024).toFixed(0)}{' '}
                KiB · {indexes.value.indexes.rebuilds} rebuilds · RSS{' '}
                {(indexes.value.rss_bytes / 1048576).toFixed(0)} MiB
              </p>
            ) : (
              <ProbeState probe={indexes} />
            )}
          </article>
        )}
      </div>
      <h3>Metrics</h3>
      {metrics.state === 'ok' ? (
        <>
          <label>
            Filter metrics <input value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          </label>
          <table class="grid" data-testid="metrics">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Type</th>
                <th scope="col">Value (all series)</th>
                <th scope="col">Trend</th>
              </tr>
            </thead>
            <tbody>
              {[...metrics.value.values()]
                .filter((f) => f.name.includes(filter.trim()))
                .map((f) => (
                  <tr key={f.name}>
                    <td title={f.help}>
                      <code>{f.name}</code>
                    </td>
                    <td>{f.type}</td>
                    <td class="num">{formatNumber(f.total)}</td>
                    <td>
                      <Sparkline values={history.current.get(f.name) ?? []} label={f.name} />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      ) : (
        <ProbeState probe={metrics} />
      )}
    </section>
  );
}

function ProbeState(props: { probe: Probe<unknown> }) {
  const { probe } = props;
  if (probe.state === 'loading') return <p class="muted">Loading…</p>;
  if (probe.state === 'missing') return <p class="muted">Not available on this server.</p>;
  if (probe.state === 'error') return <p class="error">{probe.message}</p>;
  return null;
}

async function probeJson<T>(load: () => Promise<T>): Promise<Probe<T>> {
  try {
    return { state: 'ok', value: await load() };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { state: 'missing' };
    return { state: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

async function probeText(
  load: () => Promise<{ status: number; text: string } | undefined>,
): Promise<Probe<{ status: number; text: string }>> {
  try {
    const value = await load();
    return value ? { state: 'ok', value } : { state: 'missing' };
  } catch (err) {
    return { state: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

function formatNumber(n: number): string {
  return Math.abs(n) >= 1e6 ? n.toExponential(3) : Number.isInteger(n) ? String(n) : n.toFixed(3);
}
