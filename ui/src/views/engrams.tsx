import { useEffect, useState } from 'preact/hooks';
import { api, seg, type Credential } from '../api';
import { ErrorNote, Info } from '../components/notice';
import { useAction } from '../components/use-async';

/**
 * The engram API's curated statements of the scopes this credential reads: list filtered by scope and
 * status, search (recall, with scores), edit the statement, promote, pin, retire, and feedback counts.
 * Packs are left out until the server has them.
 */
interface EngramData {
  id: string;
  statement: string;
  type: string;
  scope: string;
  status: string;
  pinned: boolean;
  feedback_signals: { positive: number; negative: number; neutral: number };
  retrieval_strength: number;
}

interface Row {
  id: string;
  scope: string;
  status: string;
  data: EngramData;
  score?: number;
}

const STATUSES = ['', 'candidate', 'active', 'retired'];

export function EngramsView(props: { credential: Credential }) {
  const { credential } = props;
  const [scope, setScope] = useState('');
  const [status, setStatus] = useState('');
  const [query, setQuery] = useState('');
  const [rows, setRows] = useState<Row[]>([]);
  const [total, setTotal] = useState(0);
  const [searched, setSearched] = useState(false);
  const [notice, setNotice] = useState('');
  const list = useAction();

  const load = async (): Promise<void> => {
    const params = new URLSearchParams({ limit: '50' });
    if (scope.trim()) params.set('scope', scope.trim());
    if (status) params.set('status', status);
    const answer = await list.run(() =>
      api<{ rows: Row[]; total_count: number }>(credential, 'GET', `/api/v1/engrams?${params.toString()}`),
    );
    if (answer) {
      setRows(answer.rows);
      setTotal(answer.total_count);
      setSearched(false);
    }
  };
  useEffect(() => void load(), [credential]);

  const search = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!query.trim()) return load();
    const answer = await list.run(() =>
      api<{ results: (EngramData & { score: number })[] }>(credential, 'POST', '/api/v1/recall', {
        query: query.trim(),
        limit: 50,
      }),
    );
    if (answer) {
      setRows(
        answer.results.map((r) => ({ id: r.id, scope: r.scope, status: r.status, data: r, score: r.score })),
      );
      setTotal(answer.results.length);
      setSearched(true);
    }
  };
  const act = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    const done = await list.run(action);
    if (done !== undefined) {
      setNotice(what);
      await load();
    }
  };

  return (
    <section aria-labelledby="engrams-title">
      <h2 id="engrams-title">Engrams</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <label>
          Scope
          <input
            value={scope}
            placeholder="group:platform"
            onInput={(e) => setScope(e.currentTarget.value)}
          />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <form class="filters" role="search" onSubmit={search}>
        <label>
          Search engrams
          <input name="engram-query" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={list.error} />
      {notice && <Info>{notice}</Info>}
      <table class="grid" data-testid="engrams">
        <caption>{searched ? `${total} search results` : `${total} engrams`}</caption>
        <thead>
          <tr>
            <th scope="col">Statement</th>
            <th scope="col">Scope</th>
            <th scope="col">Status</th>
            {searched && <th scope="col">Score</th>}
            <th scope="col">Feedback (+ / − / ·)</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <EngramRow key={row.id} row={row} searched={searched} credential={credential} act={act} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function EngramRow(props: {
  row: Row;
  searched: boolean;
  credential: Credential;
  act: (what: string, action: () => Promise<unknown>) => Promise<void>;
}) {
  const { row, credential, act } = props;
  const [editing, setEditing] = useState(false);
  const [statement, setStatement] = useState(row.data.statement);
  const base = `/api/v1/engrams/${seg(row.id)}`;
  const f = row.data.feedback_signals;
  return (
    <tr>
      <td class="content">
        {editing ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setEditing(false);
              void act(`Saved ${row.id}.`, () => api(credential, 'PATCH', base, { statement }));
            }}
          >
            <label class="sr-only" for={`edit-${row.id}`}>
              Statement of {row.id}
            </label>
            <textarea
              id={`edit-${row.id}`}
              value={statement}
              onInput={(e) => setStatement(e.currentTarget.value)}
            />
            <button type="submit">Save</button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <>
            {row.data.pinned && <span class="badge">pinned</span>} {row.data.statement}
            <div class="muted">
              {row.id} · {row.data.type}
            </div>
          </>
        )}
      </td>
      <td>{row.scope}</td>
      <td>{row.status}</td>
      {props.searched && <td class="num">{row.score?.toFixed(3)}</td>}
      <td class="num">
        {f.positive} / {f.negative} / {f.neutral}
      </td>
      <td class="actions">
        <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${row.id}`}>
          Edit
        </button>
        {row.status === 'candidate' && (
          <button
            type="button"
            aria-label={`Promote ${row.id}`}
            onClick={() =>
              void act(`Promoted ${row.id}.`, () => api(credential, 'POST', `${base}/promote`, {}))
            }
          >
            Promote
          </button>
        )}
        <button
          type="button"
          aria-label={`${row.data.pinned ? 'Unpin' : 'Pin'} ${row.id}`}
          onClick={() =>
            void act(`${row.data.pinned ? 'Unpinned' : 'Pinned'} ${row.id}.`, () =>
              api(credential, 'POST', `${base}/pin`, { pinned: !row.data.pinned }),
            )
          }
        >
          {row.data.pinned ? 'Unpin' : 'Pin'}
        </button>
        <button
          type="button"
          aria-label={`Helpful: ${row.id}`}
          onClick={() =>
            void act(`Feedback recorded for ${row.id}.`, () =>
              api(credential, 'POST', `${base}/feedback`, { signal: 'positive' }),
            )
          }
        >
          +1
        </button>
        <button
          type="button"
          aria-label={`Not helpful: ${row.id}`}
          onClick={() =>
            void act(`Feedback recorded for ${row.id}.`, () =>
              api(credential, 'POST', `${base}/feedback`, { signal: 'negative' }),
            )
          }
        >
          −1
        </button>
        {row.status !== 'retired' && (
          <button
            type="button"
            aria-label={`Retire ${row.id}`}
            onClick={() => void act(`Retired ${row.id}.`, () => api(credential, 'DELETE', base))}
          >
            Retire
          </button>
        )}
      </td>
    </tr>
  );
}
