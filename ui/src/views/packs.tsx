import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiCall, download, seg, type Credential } from '../api';
import { ErrorNote, Info } from '../components/notice';
import { TextField } from '../components/text-field';
import { useAction } from '../components/use-async';

/**
 * Engram packs (/api/v1/packs): the installed packs with their integrity status, install from a file
 * (multipart, field `file`) or an https URL, the progress of a large install (the server answers 202 with
 * a job that this view polls), uninstall after a confirmation, and a scope exported as a .tar.gz download.
 * Organisation admins install and uninstall; anyone exports a scope they read.
 */
interface PackRow {
  name: string;
  version: string;
  description: string | null;
  creator: string | null;
  scope: string;
  source: string;
  integrity: string;
  integrity_status: 'ok' | 'modified' | 'unverified';
  engram_count: number;
  installed_at: string;
  installed_by: string;
}

interface InstallResult {
  pack: PackRow;
  installed: number;
  duplicates: number;
  conflicts: { statement: string; engram_id: string; existing_statement: string }[];
  upgraded: boolean;
}

interface JobAccepted {
  job_id: string;
  state: string;
  progress: { done: number; total: number };
}

interface JobStatus extends JobAccepted {
  result: InstallResult | null;
  error: string | null;
}

/** How often a running install job is asked for its progress. */
const JOB_POLL_MS = 500;

const INTEGRITY_TEXT: Record<PackRow['integrity_status'], string> = {
  ok: 'intact',
  modified: 'modified since install',
  unverified: 'unverified (no integrity declared)',
};

export function PacksView(props: { credential: Credential }) {
  const { credential } = props;
  const [rows, setRows] = useState<PackRow[]>([]);
  const [notice, setNotice] = useState('');
  const [job, setJob] = useState<JobStatus | null>(null);
  const list = useAction();
  const install = useAction();
  /** Cleared when the view goes away, so a running job is no longer polled. */
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  const load = async (): Promise<void> => {
    const answer = await list.run(() => api<{ rows: PackRow[] }>(credential, 'GET', '/api/v1/packs'));
    if (answer) setRows(answer.rows);
  };
  useEffect(() => void load(), [credential]);

  const report = (result: InstallResult, status: number): void => {
    const { pack } = result;
    if (status === 200) {
      setNotice(`Pack ${pack.name} ${pack.version} is already installed: nothing changed.`);
      return;
    }
    const parts = [
      `${result.upgraded ? 'Upgraded' : 'Installed'} pack ${pack.name} ${pack.version}: ${result.installed} engrams`,
    ];
    if (result.duplicates > 0) parts.push(`${result.duplicates} duplicates skipped`);
    if (result.conflicts.length > 0) parts.push(`${result.conflicts.length} possible conflicts`);
    setNotice(`${parts.join(', ')}.`);
  };

  /** Follows a 202's job until it completes or fails, showing its progress. */
  const follow = async (accepted: JobAccepted): Promise<void> => {
    let status: JobStatus = { ...accepted, result: null, error: null };
    setJob(status);
    while (
      mounted.current &&
      status.state !== 'completed' &&
      status.state !== 'failed' &&
      status.state !== 'unknown'
    ) {
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
      status = await api<JobStatus>(credential, 'GET', `/api/v1/packs/jobs/${seg(accepted.job_id)}`);
      setJob(status);
    }
    if (status.state === 'completed' && status.result) report(status.result, 201);
    else
      throw new Error(
        `The install job ${accepted.job_id} ${status.state}: ${status.error ?? 'no reason given'}`,
      );
  };

  const submit = async (body: FormData | Record<string, unknown>, upgrade: boolean): Promise<boolean> => {
    setNotice('');
    setJob(null);
    const done = await install.run(async () => {
      const answer = await apiCall<InstallResult | JobAccepted>(
        credential,
        'POST',
        `/api/v1/packs${upgrade ? '?upgrade=true' : ''}`,
        body,
      );
      if (answer.status === 202) await follow(answer.body as JobAccepted);
      else report(answer.body as InstallResult, answer.status);
      return true;
    });
    await load();
    return done === true;
  };

  return (
    <section aria-labelledby="packs-title">
      <h2 id="packs-title">Packs</h2>
      <ErrorNote error={list.error} />
      <table class="grid" data-testid="packs">
        <caption>{rows.length} installed packs</caption>
        <thead>
          <tr>
            <th scope="col">Pack</th>
            <th scope="col">Scope</th>
            <th scope="col">Integrity</th>
            <th scope="col">Engrams</th>
            <th scope="col">Source</th>
            <th scope="col">Installed</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.name}@${row.scope}`}>
              <td class="content">
                <strong>{row.name}</strong> {row.version}
                {row.description && <div class="muted">{row.description}</div>}
              </td>
              <td>{row.scope}</td>
              <td class={`integrity-${row.integrity_status}`} title={row.integrity}>
                {INTEGRITY_TEXT[row.integrity_status]}
              </td>
              <td class="num">{row.engram_count}</td>
              <td class="source">{row.source}</td>
              <td>
                <time dateTime={row.installed_at}>{new Date(row.installed_at).toLocaleString()}</time>
                <div class="muted">by {row.installed_by}</div>
              </td>
              <td class="actions">
                <Uninstall
                  credential={credential}
                  pack={row}
                  onDone={(text) => {
                    setNotice(text);
                    void load();
                  }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {notice && <Info>{notice}</Info>}
      {job && <JobProgress job={job} />}
      <ErrorNote error={install.error} />
      <div class="cards">
        <InstallFile busy={install.busy} submit={submit} />
        <InstallUrl busy={install.busy} submit={submit} />
        <ExportPack credential={credential} />
      </div>
    </section>
  );
}

function JobProgress(props: { job: JobStatus }) {
  const { job } = props;
  const { done, total } = job.progress;
  return (
    <div class="panel" data-testid="pack-job">
      <label for="pack-job-progress">
        Install job {job.job_id}: {job.state}, {done} of {total} engrams
      </label>
      <progress id="pack-job-progress" max={Math.max(1, total)} value={done} />
    </div>
  );
}

type Submit = (body: FormData | Record<string, unknown>, upgrade: boolean) => Promise<boolean>;

function InstallFile(props: { busy: boolean; submit: Submit }) {
  const [file, setFile] = useState<File | null>(null);
  const [scope, setScope] = useState('');
  const [upgrade, setUpgrade] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    <form
      class="card stack"
      aria-labelledby="pack-file-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!file) return;
        const form = new FormData();
        form.append('file', file, file.name);
        if (scope.trim()) form.append('scope', scope.trim());
        void props.submit(form, upgrade).then((ok) => {
          if (!ok) return;
          setFile(null);
          if (input.current) input.current.value = '';
        });
      }}
    >
      <h3 id="pack-file-title">Install from a file</h3>
      <label>
        Pack archive (.tar.gz)
        <input
          ref={input}
          name="pack-file"
          type="file"
          accept=".tar.gz,.tgz,application/gzip"
          required
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
        />
      </label>
      <TextField
        label="Scope (optional)"
        name="pack-file-scope"
        placeholder="group:platform"
        value={scope}
        onValue={setScope}
      />
      <label class="check">
        <input type="checkbox" checked={upgrade} onChange={(e) => setUpgrade(e.currentTarget.checked)} />
        Replace an installed version
      </label>
      <button type="submit" disabled={props.busy || !file}>
        Upload and install
      </button>
    </form>
  );
}

function InstallUrl(props: { busy: boolean; submit: Submit }) {
  const [url, setUrl] = useState('');
  const [scope, setScope] = useState('');
  const [integrity, setIntegrity] = useState('');
  const [upgrade, setUpgrade] = useState(false);
  return (
    <form
      class="card stack"
      aria-labelledby="pack-url-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!url.trim()) return;
        void props.submit(
          {
            url: url.trim(),
            ...(scope.trim() ? { scope: scope.trim() } : {}),
            ...(integrity.trim() ? { integrity: integrity.trim() } : {}),
          },
          upgrade,
        );
      }}
    >
      <h3 id="pack-url-title">Install from a URL</h3>
      <TextField
        label="Pack URL"
        name="pack-url"
        type="url"
        placeholder="https://example.com/pack.tar.gz"
        required
        maxLength={2048}
        value={url}
        onValue={setUrl}
      />
      <TextField
        label="Scope (optional)"
        name="pack-url-scope"
        placeholder="group:platform"
        value={scope}
        onValue={setScope}
      />
      <TextField
        label="Expected integrity (optional)"
        name="pack-url-integrity"
        placeholder="sha256:…"
        spellcheck={false}
        value={integrity}
        onValue={setIntegrity}
      />
      <label class="check">
        <input type="checkbox" checked={upgrade} onChange={(e) => setUpgrade(e.currentTarget.checked)} />
        Replace an installed version
      </label>
      <button type="submit" disabled={props.busy}>
        Download and install
      </button>
    </form>
  );
}

/** Uninstall retires the pack's engrams: it asks first, in a modal dialog. */
function Uninstall(props: { credential: Credential; pack: PackRow; onDone: (text: string) => void }) {
  const { pack } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const { busy, error, run } = useAction();
  const uninstall = async (): Promise<void> => {
    dialog.current?.close();
    const done = await run(() =>
      api<{ name: string; removed: number }>(props.credential, 'DELETE', `/api/v1/packs/${seg(pack.name)}`),
    );
    if (done) props.onDone(`Uninstalled pack ${done.name}: ${done.removed} engrams retired.`);
  };
  return (
    <>
      <button
        type="button"
        class="danger"
        disabled={busy}
        aria-label={`Uninstall ${pack.name}`}
        onClick={() => dialog.current?.showModal()}
      >
        Uninstall…
      </button>
      <ErrorNote error={error} />
      <dialog ref={dialog} aria-labelledby={`uninstall-${pack.name}`}>
        <h4 id={`uninstall-${pack.name}`}>Uninstall pack “{pack.name}”?</h4>
        <p>
          Its {pack.engram_count} engrams in {pack.scope} are retired: recall and inject stop returning them.
        </p>
        <div class="row">
          <button type="button" class="danger" onClick={() => void uninstall()}>
            Uninstall
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}

function ExportPack(props: { credential: Credential }) {
  const [scope, setScope] = useState('');
  const [name, setName] = useState('');
  const [version, setVersion] = useState('');
  const [notice, setNotice] = useState('');
  const { busy, error, run } = useAction();
  return (
    <form
      class="card stack"
      aria-labelledby="pack-export-title"
      onSubmit={(e) => {
        e.preventDefault();
        setNotice('');
        void run(() =>
          download(props.credential, 'POST', '/api/v1/packs/export', `${name.trim()}.tar.gz`, {
            scope: scope.trim(),
            name: name.trim(),
            ...(version.trim() ? { version: version.trim() } : {}),
          }),
        ).then((done) => done && setNotice(`Exported ${done.filename} (${done.bytes} bytes).`));
      }}
    >
      <h3 id="pack-export-title">Export a scope as a pack</h3>
      <TextField
        label="Scope to export"
        name="export-scope"
        placeholder="org:acme"
        required
        value={scope}
        onValue={setScope}
      />
      <TextField
        label="Pack name"
        name="export-name"
        placeholder="acme-practices"
        required
        value={name}
        onValue={setName}
      />
      <TextField
        label="Version (optional)"
        name="export-version"
        placeholder="1.0.0"
        value={version}
        onValue={setVersion}
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Exporting…' : 'Export .tar.gz'}
      </button>
      <ErrorNote error={error} />
      {notice && <Info>{notice}</Info>}
    </form>
  );
}
