import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Credential } from '../api';
import { BarChart } from '../components/bar-chart';
import { ErrorNote } from '../components/notice';

/**
 * The organisation at a glance (GET /api/v1/admin/insights?days=N, organisation admins): active users,
 * engrams by scope and status, daily volume (recall, inject, learn, auth failures, rate-limited requests)
 * as bar charts, the health of the memory (never retrieved, net negative feedback, expired, candidates
 * waiting, near duplicates) and webhook delivery. A server without the endpoint (404) says so.
 */
interface Insights {
  org_id: string;
  days: number;
  generated_at: string;
  active_users: { last_7_days: number; last_30_days: number };
  engrams: {
    total: number;
    by_scope: { scope: string; count: number }[];
    by_status: { active: number; candidate: number; dormant: number; retired: number };
  };
  daily: {
    date: string;
    recall: number;
    inject: number;
    learn: number;
    auth_failures: number;
    rate_limited: number;
  }[];
  health: {
    never_retrieved: number;
    net_negative_feedback: number;
    validity_expired: number;
    candidates_waiting: number;
    near_duplicates: number;
  };
  webhooks: {
    endpoints: number;
    endpoints_failing: number;
    deliveries: { delivered: number; failed: number; pending: number };
  };
}

type Load =
  | { state: 'loading' }
  | { state: 'missing' }
  | { state: 'error'; message: string }
  | { state: 'ok'; value: Insights };

const RANGES = [7, 30, 90];
const SERIES = [
  { key: 'recall', title: 'Recalls' },
  { key: 'inject', title: 'Injections' },
  { key: 'learn', title: 'Learnings' },
  { key: 'auth_failures', title: 'Authentication failures' },
  { key: 'rate_limited', title: 'Rate-limited requests' },
] as const;

const HEALTH = [
  { key: 'never_retrieved', title: 'Never retrieved' },
  { key: 'net_negative_feedback', title: 'Net negative feedback' },
  { key: 'validity_expired', title: 'Validity expired' },
  { key: 'candidates_waiting', title: 'Candidates waiting' },
  { key: 'near_duplicates', title: 'Near duplicates' },
] as const;

export function InsightsView(props: { credential: Credential }) {
  const { credential } = props;
  const [days, setDays] = useState(30);
  const [load, setLoad] = useState<Load>({ state: 'loading' });

  useEffect(() => {
    let live = true;
    setLoad({ state: 'loading' });
    api<Insights>(credential, 'GET', `/api/v1/admin/insights?days=${days}`).then(
      (value) => live && setLoad({ state: 'ok', value }),
      (err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404) setLoad({ state: 'missing' });
        else setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => {
      live = false;
    };
  }, [credential, days]);

  return (
    <section aria-labelledby="insights-title" data-testid="insights">
      <h2 id="insights-title">Insights</h2>
      <div class="filters">
        <label>
          Period
          <select value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {RANGES.map((d) => (
              <option key={d} value={String(d)}>
                last {d} days
              </option>
            ))}
          </select>
        </label>
      </div>
      {load.state === 'loading' && <p role="status">Loading…</p>}
      {load.state === 'missing' && (
        <p class="warn" role="status" data-testid="insights-missing">
          Insights are not available on this server (it has no /api/v1/admin/insights).
        </p>
      )}
      {load.state === 'error' && <ErrorNote error={load.message} />}
      {load.state === 'ok' && <Figures insights={load.value} />}
    </section>
  );
}

function Figures(props: { insights: Insights }) {
  const { insights } = props;
  const { engrams, health, webhooks } = insights;
  const scopes = [...engrams.by_scope].sort((a, b) => b.count - a.count).slice(0, 10);
  return (
    <>
      <p class="muted">
        Organisation {insights.org_id}, last {insights.days} days, as of{' '}
        <time dateTime={insights.generated_at}>{new Date(insights.generated_at).toLocaleString()}</time>.
      </p>
      <div class="cards" data-testid="insight-cards">
        <Card title="Active users">
          <Figure label="last 7 days" value={insights.active_users.last_7_days} />
          <Figure label="last 30 days" value={insights.active_users.last_30_days} />
        </Card>
        <Card title="Engrams">
          <Figure label="total" value={engrams.total} />
          <Figure label="active" value={engrams.by_status.active} />
          <Figure label="candidate" value={engrams.by_status.candidate} />
          <Figure label="dormant" value={engrams.by_status.dormant} />
          <Figure label="retired" value={engrams.by_status.retired} />
        </Card>
        <Card title="Health">
          {HEALTH.map((h) => (
            <Figure key={h.key} label={h.title} value={health[h.key]} />
          ))}
        </Card>
        <Card title="Webhooks">
          <Figure label="endpoints" value={webhooks.endpoints} />
          <Figure label="failing" value={webhooks.endpoints_failing} />
          <Figure label="delivered" value={webhooks.deliveries.delivered} />
          <Figure label="failed" value={webhooks.deliveries.failed} />
          <Figure label="pending" value={webhooks.deliveries.pending} />
        </Card>
      </div>
      <h3>Volume per day</h3>
      <div class="cards" data-testid="insight-charts">
        {SERIES.map((s) => {
          const bars = insights.daily.map((d) => ({ label: d.date, value: d[s.key] }));
          const total = bars.reduce((sum, b) => sum + b.value, 0);
          return (
            <figure class="card chart" key={s.key}>
              <figcaption>
                {s.title} <span class="muted">({total} in total)</span>
              </figcaption>
              <BarChart bars={bars} label={s.title} />
              <div class="axis muted">
                <span>{insights.daily[0]?.date}</span>
                <span>{insights.daily[insights.daily.length - 1]?.date}</span>
              </div>
            </figure>
          );
        })}
      </div>
      <table class="grid" data-testid="insight-scopes">
        <caption>Engrams by scope (largest {scopes.length})</caption>
        <thead>
          <tr>
            <th scope="col">Scope</th>
            <th scope="col">Engrams</th>
          </tr>
        </thead>
        <tbody>
          {scopes.map((s) => (
            <tr key={s.scope}>
              <td>{s.scope}</td>
              <td class="num">{s.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Card(props: { title: string; children: ComponentChildren }) {
  return (
    <article class="card" aria-label={props.title}>
      <h3>{props.title}</h3>
      <dl class="fields">{props.children}</dl>
    </article>
  );
}

function Figure(props: { label: string; value: number }) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd class="num">{props.value}</dd>
    </div>
  );
}
