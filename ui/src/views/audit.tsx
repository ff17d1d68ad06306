import { useEffect, useState } from 'preact/hooks';
import { api, download, type Credential } from '../api';
import { ErrorNote, Info } from '../components/notice';
import { useAction } from '../components/use-async';

/**
 * The organisation's audit trail (GET /api/v1/admin/audit, organisation admins), newest first: the
 * server's filters (actor, action or action prefix `engram.*`, target, outcome, channel, a time range),
 * "load more" with the page cursor, and the whole filtered range as an ndjson download (fetched with the
 * credential in the header and saved from a Blob; the export is itself audited by the server).
 */
interface AuditRow {
  id: string;
  ts: string;
  actor: { type: string; id: string; username: string | null };
  action: string;
  target: { type: string; id: string };
  channel: string;
  outcome: 'success' | 'failure' | 'denied';
  request_id: string;
  ip: string | null;
  user_agent: string | null;
  payload: Record<string, unknown> | null;
}

interface Filters {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  channel: string;
  from: string;
  to: string;
}

const OUTCOMES = ['', 'success', 'failure', 'denied'];
const CHANNELS = ['', 'rest', 'admin', 'mcp', 'scim', 'webhook', 'system'];
const PAGE = 50;
const EMPTY: Filters = { actor: '', action: '', target: '', outcome: '', channel: '', from: '', to: '' };

/** The query of a filter set: empty fields are left out; local date-times become ISO 8601 instants. */
export function auditQuery(filters: Filters): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of ['actor', 'action', 'target', 'outcome', 'channel'] as const) {
    const value = filters[name].trim();
    if (value !== '') params.set(name, value);
  }
  for (const name of ['from', 'to'] as const) {
    if (filters[name] === '') continue;
    const at = new Date(filters[name]);
    if (Number.isNaN(at.getTime())) throw new Error(`“${name}” is not a valid date and time`);
    params.set(name, at.toISOString());
  }
  return params;
}

export function AuditView(props: { credential: Credential }) {
  const { credential } = props;
  const [filters, setFilters] = useState<Filters>(EMPTY);
  /** The filters the rows shown were loaded with: "load more" and the export keep to them. */
  const [applied, setApplied] = useState<URLSearchParams>(new URLSearchParams());
  const [rows, setRows] = useState<AuditRow[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const list = useAction();
  const exporting = useAction();

  const fetchPage = (params: URLSearchParams, after: string | null) => {
    const query = new URLSearchParams(params);
    query.set('limit', String(PAGE));
    if (after) query.set('cursor', after);
    return api<{ rows: AuditRow[]; next_cursor: string | null }>(
      credential,
      'GET',
      `/api/v1/admin/audit?${query.toString()}`,
    );
  };

  const load = async (): Promise<void> => {
    setNotice('');
    const answer = await list.run(async () => {
      const params = auditQuery(filters);
      return { params, page: await fetchPage(params, null) };
    });
    if (answer) {
      setApplied(answer.params);
      setRows(answer.page.rows);
      setCursor(answer.page.next_cursor);
    }
  };
  useEffect(() => void load(), [credential]);

  const more = async (): Promise<void> => {
    if (!cursor) return;
    const page = await list.run(() => fetchPage(applied, cursor));
    if (page) {
      setRows((shown) => [...shown, ...page.rows]);
      setCursor(page.next_cursor);
    }
  };

  const exportAll = async (): Promise<void> => {
    setNotice('');
    const query = new URLSearchParams(applied);
    query.set('format', 'ndjson');
    const done = await exporting.run(() =>
      download(credential, 'GET', `/api/v1/admin/audit?${query.toString()}`, auditFileName()),
    );
    if (done) setNotice(`Exported ${done.filename} (${done.bytes} bytes).`);
  };

  const field = (name: keyof Filters) => ({
    value: filters[name],
    onInput: (e: { currentTarget: HTMLInputElement }) =>
      setFilters((f) => ({ ...f, [name]: e.currentTarget.value })),
  });

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit</h2>
      <form
        class="filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <label>
          Actor
          <input name="audit-actor" placeholder="id or username" maxLength={200} {...field('actor')} />
        </label>
        <label>
          Action
          <input name="audit-action" placeholder="engram.*" maxLength={200} {...field('action')} />
        </label>
        <label>
          Target
          <input name="audit-target" placeholder="id or type:id" maxLength={200} {...field('target')} />
        </label>
        <label>
          Outcome
          <select
            name="audit-outcome"
            value={filters.outcome}
            onChange={(e) => setFilters((f) => ({ ...f, outcome: e.currentTarget.value }))}
          >
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select
            name="audit-channel"
            value={filters.channel}
            onChange={(e) => setFilters((f) => ({ ...f, channel: e.currentTarget.value }))}
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input name="audit-from" type="datetime-local" step={1} {...field('from')} />
        </label>
        <label>
          To
          <input name="audit-to" type="datetime-local" step={1} {...field('to')} />
        </label>
        <button type="submit" disabled={list.busy}>
          Apply filters
        </button>
        <button
          type="button"
          onClick={() => {
            setFilters(EMPTY);
          }}
        >
          Clear
        </button>
        <button type="button" onClick={() => void exportAll()} disabled={exporting.busy}>
          {exporting.busy ? 'Exporting…' : 'Export ndjson'}
        </button>
      </form>
      <ErrorNote error={list.error ?? exporting.error} />
      {notice && <Info>{notice}</Info>}
      <table class="grid" data-testid="audit-rows">
        <caption>
          {rows.length} entries shown{cursor ? ', more to load' : ''} (newest first)
        </caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">Channel</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td>
                <time dateTime={row.ts}>{formatTime(row.ts)}</time>
              </td>
              <td>
                {row.actor.username ?? row.actor.id}
                <div class="muted">{row.actor.type}</div>
              </td>
              <td>
                <code>{row.action}</code>
              </td>
              <td>
                {row.target.type}:{row.target.id}
              </td>
              <td class={`outcome-${row.outcome}`}>{row.outcome}</td>
              <td>{row.channel}</td>
              <td>
                <details>
                  <summary>
                    <span class="sr-only">Details of </span>
                    {row.request_id}
                  </summary>
                  <dl class="fields">
                    <div>
                      <dt>entry</dt>
                      <dd>{row.id}</dd>
                    </div>
                    <div>
                      <dt>ip</dt>
                      <dd>{row.ip ?? '—'}</dd>
                    </div>
                    <div>
                      <dt>user agent</dt>
                      <dd>{row.user_agent ?? '—'}</dd>
                    </div>
                  </dl>
                  {row.payload && <pre>{JSON.stringify(row.payload, null, 2)}</pre>}
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" onClick={() => void more()} disabled={list.busy}>
          {list.busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function formatTime(ts: string): string {
  const at = new Date(ts);
  return Number.isNaN(at.getTime()) ? ts : at.toLocaleString();
}

function auditFileName(): string {
  return `audit-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.ndjson`;
}
