import { useEffect, useRef, useState } from 'preact/hooks';
import { api, seg, type Credential } from '../api';
import { ErrorNote, Info } from '../components/notice';
import { useAction } from '../components/use-async';

/**
 * The layer API's memories of the key's workspace: recall with the scores, inspect one memory (every
 * detail, a fact's validity and what superseded it), delete one, erase a user after a confirmation.
 */
interface Ranked {
  id: string;
  layer: string;
  content: string;
  score: number;
  similarity: number;
  recency: number;
  importance: number;
  created_at: string;
  user_id?: string | null;
}

interface Stats {
  working_entries: number;
  episodic_records: number;
  semantic_facts: number;
  agents: string[];
  last_write: string | null;
}

export function MemoriesView(props: { credential: Credential }) {
  const { credential } = props;
  const [query, setQuery] = useState('');
  const [userId, setUserId] = useState('');
  const [results, setResults] = useState<Ranked[] | null>(null);
  const [mode, setMode] = useState('');
  const [inspected, setInspected] = useState<Record<string, unknown> | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [notice, setNotice] = useState('');
  const [memoryId, setMemoryId] = useState('');
  const search = useAction();
  const loadStats = (): void => {
    void api<Stats>(credential, 'GET', '/v1/stats').then(setStats, () => setStats(null));
  };
  useEffect(loadStats, [credential]);

  const recall = async (e?: Event): Promise<void> => {
    e?.preventDefault();
    const answer = await search.run(() =>
      api<{ results: Ranked[]; mode: string }>(credential, 'POST', '/v1/recall', {
        query,
        top_k: 20,
        include: ['namespace'],
        ...(userId.trim() ? { user_id: userId.trim() } : {}),
      }),
    );
    if (answer) {
      setResults(answer.results);
      setMode(answer.mode);
    }
  };
  const inspect = (id: string): void => {
    void search.run(async () => setInspected(await api(credential, 'GET', `/v1/memory/${seg(id)}`)));
  };
  const remove = async (id: string): Promise<void> => {
    const done = await search.run(() => api(credential, 'DELETE', `/v1/memory/${seg(id)}`));
    if (done) {
      setNotice(`Deleted ${id}.`);
      setInspected(null);
      setResults((list) => list?.filter((r) => r.id !== id) ?? null);
      loadStats();
    }
  };

  return (
    <section aria-labelledby="memories-title">
      <h2 id="memories-title">Memories</h2>
      {stats && (
        <p class="muted" data-testid="stats">
          {stats.working_entries} working · {stats.episodic_records} episodes · {stats.semantic_facts} facts ·
          agents: {stats.agents.join(', ') || 'none'}
        </p>
      )}
      <form class="filters" role="search" onSubmit={recall}>
        <label>
          Search
          <input name="query" value={query} required onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <label>
          User
          <input name="user" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={search.busy}>
          Recall
        </button>
      </form>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (memoryId.trim()) inspect(memoryId.trim());
        }}
      >
        <label>
          Memory id
          <input name="memory-id" value={memoryId} onInput={(e) => setMemoryId(e.currentTarget.value)} />
        </label>
        <button type="submit">Inspect</button>
      </form>
      <ErrorNote error={search.error} />
      {notice && <Info>{notice}</Info>}
      {results && (
        <table class="grid" data-testid="recall-results">
          <caption>
            {results.length} results {mode && `(${mode})`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Content</th>
              <th scope="col">User</th>
              <th scope="col">Score</th>
              <th scope="col">Similarity</th>
              <th scope="col">Recency</th>
              <th scope="col">Importance</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.id}>
                <td>{r.layer}</td>
                <td class="content">{r.content}</td>
                <td>{r.user_id ?? ''}</td>
                <td class="num">{r.score.toFixed(3)}</td>
                <td class="num">{r.similarity.toFixed(3)}</td>
                <td class="num">{r.recency.toFixed(3)}</td>
                <td class="num">{r.importance.toFixed(2)}</td>
                <td class="actions">
                  <button type="button" onClick={() => inspect(r.id)} aria-label={`Inspect ${r.id}`}>
                    Inspect
                  </button>
                  <button type="button" onClick={() => void remove(r.id)} aria-label={`Delete ${r.id}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {inspected && <Inspector memory={inspected} onInspect={inspect} onClose={() => setInspected(null)} />}
      <EraseUser
        credential={credential}
        onErased={(text) => {
          setNotice(text);
          setResults(null);
          loadStats();
        }}
      />
    </section>
  );
}

function Inspector(props: {
  memory: Record<string, unknown>;
  onInspect: (id: string) => void;
  onClose: () => void;
}) {
  const { memory } = props;
  // A semantic memory's triple and its history: superseded facts are kept with valid_to and successor.
  const fact = (memory.fact ?? {}) as {
    status?: string;
    valid_to?: string | null;
    superseded_by?: string | null;
  };
  const supersededBy = fact.superseded_by ?? null;
  const validTo = fact.valid_to ?? null;
  return (
    <section class="panel" aria-labelledby="inspect-title" data-testid="inspector">
      <h3 id="inspect-title">Memory {typeof memory.id === 'string' ? memory.id : ''}</h3>
      {fact.status === 'superseded' && (
        <p class="warn">
          Superseded {validTo ? `on ${validTo}` : ''}
          {supersededBy && (
            <>
              {' '}
              by{' '}
              <button type="button" class="link" onClick={() => props.onInspect(supersededBy)}>
                {supersededBy}
              </button>
            </>
          )}
        </p>
      )}
      <dl class="fields">
        {Object.entries(memory).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}</dd>
          </div>
        ))}
      </dl>
      <button type="button" onClick={props.onClose}>
        Close
      </button>
    </section>
  );
}

/** Erasure is irreversible: it asks for a confirmation in a modal dialog first. */
function EraseUser(props: { credential: Credential; onErased: (text: string) => void }) {
  const [userId, setUserId] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const { busy, error, run } = useAction();
  const ask = (e: Event): void => {
    e.preventDefault();
    if (userId.trim()) dialog.current?.showModal();
  };
  const erase = async (): Promise<void> => {
    dialog.current?.close();
    const id = userId.trim();
    const done = await run(() =>
      api<{ deleted: number }>(props.credential, 'DELETE', `/v1/users/${seg(id)}`),
    );
    if (done) props.onErased(`Erased user ${id}: ${done.deleted} memories removed.`);
  };
  return (
    <section class="panel danger" aria-labelledby="erase-title">
      <h3 id="erase-title">Erase a user</h3>
      <form class="filters" onSubmit={ask}>
        <label>
          User id
          <input
            name="erase-user"
            value={userId}
            required
            onInput={(e) => setUserId(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Erase user…
        </button>
      </form>
      <ErrorNote error={error} />
      <dialog ref={dialog} aria-labelledby="erase-confirm-title">
        <h4 id="erase-confirm-title">Erase everything of “{userId.trim()}”?</h4>
        <p>
          Working memory, episodes and facts of this user are deleted on every instance. This cannot be
          undone.
        </p>
        <div class="row">
          <button type="button" class="danger" onClick={() => void erase()}>
            Erase permanently
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
