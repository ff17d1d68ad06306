import { useEffect, useState } from 'preact/hooks';
import { api, seg, type Credential } from '../api';
import { ErrorNote, Info, SecretOnce } from '../components/notice';
import { useAction } from '../components/use-async';

/**
 * Keys and people. The admin key manages layer workspace keys; organisation admins (the admin key, or a
 * user with the admin role) manage the engram users, groups, members and keys; every engram user manages
 * their own keys. A new key is shown once, as the API returns it only then.
 */
export function PeopleView(props: { credential: Credential }) {
  const { credential } = props;
  return (
    <section aria-labelledby="people-title">
      <h2 id="people-title">Keys and people</h2>
      {credential.kind === 'admin' && <LayerKeys credential={credential} />}
      {credential.orgAdmin && <OrgPeople credential={credential} />}
      {credential.kind === 'engram' && <OwnKeys credential={credential} />}
    </section>
  );
}

interface LayerKey {
  key_id: string;
  workspace_id: string;
  label: string | null;
  key_prefix: string;
  is_active: boolean;
  created_at: string;
}

function LayerKeys(props: { credential: Credential }) {
  const { credential } = props;
  const [workspace, setWorkspace] = useState('');
  const [label, setLabel] = useState('');
  const [keys, setKeys] = useState<LayerKey[] | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const { error, run } = useAction();
  const load = async (): Promise<void> => {
    const ws = workspace.trim();
    if (!ws) return;
    const listed = await run(() => api<LayerKey[]>(credential, 'GET', `/admin/keys/${seg(ws)}`));
    if (listed) setKeys(listed);
  };
  const create = async (): Promise<void> => {
    const created = await run(() =>
      api<{ key: string }>(credential, 'POST', '/admin/keys', {
        workspace_id: workspace.trim(),
        ...(label.trim() ? { label: label.trim() } : {}),
      }),
    );
    if (created) {
      setSecret(created.key);
      await load();
    }
  };
  const revoke = async (id: string): Promise<void> => {
    if (await run(() => api(credential, 'DELETE', `/admin/keys/${seg(id)}`))) {
      setNotice(`Revoked ${id}.`);
      await load();
    }
  };
  return (
    <section class="panel" aria-labelledby="layer-keys-title">
      <h3 id="layer-keys-title">Workspace keys (layer API)</h3>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <label>
          Workspace
          <input
            name="workspace"
            value={workspace}
            required
            onInput={(e) => setWorkspace(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Show keys</button>
        <label>
          Label
          <input name="layer-key-label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
        </label>
        <button type="button" onClick={() => void create()} disabled={!workspace.trim()}>
          Create key
        </button>
      </form>
      <ErrorNote error={error} />
      <SecretOnce secret={secret} onDone={() => setSecret(null)} />
      {notice && <Info>{notice}</Info>}
      {keys && (
        <KeyTable
          rows={keys.map((k) => ({
            id: k.key_id,
            who: k.workspace_id,
            label: k.label,
            prefix: k.key_prefix,
            active: k.is_active,
            created: k.created_at,
          }))}
          onRevoke={revoke}
          testId="layer-keys"
        />
      )}
    </section>
  );
}

interface EngramKey {
  id: string;
  user_id: string;
  label: string | null;
  key_prefix: string;
  active: boolean;
  created_at: string;
}
interface User {
  id: string;
  username: string;
  role: string;
  active: boolean;
}
interface Group {
  id: string;
  name: string;
  scope: string;
  members: { user_id: string; role: string }[];
}

function OrgPeople(props: { credential: Credential }) {
  const { credential } = props;
  const [users, setUsers] = useState<User[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [keys, setKeys] = useState<EngramKey[]>([]);
  const [username, setUsername] = useState('');
  const [role, setRole] = useState('editor');
  const [groupName, setGroupName] = useState('');
  const [member, setMember] = useState({ group: '', user: '', role: 'viewer' });
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const { error, run } = useAction();
  const load = async (): Promise<void> => {
    await run(async () => {
      const [u, g, k] = await Promise.all([
        api<{ rows: User[] }>(credential, 'GET', '/api/v1/admin/users'),
        api<{ rows: Group[] }>(credential, 'GET', '/api/v1/admin/groups'),
        api<{ rows: EngramKey[] }>(credential, 'GET', '/api/v1/admin/api-keys'),
      ]);
      setUsers(u.rows);
      setGroups(g.rows);
      setKeys(k.rows);
    });
  };
  useEffect(() => void load(), [credential]);
  const nameOf = (id: string): string => users.find((u) => u.id === id)?.username ?? id;
  const act = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    if ((await run(action)) !== undefined) {
      setNotice(what);
      await load();
    }
  };
  const issue = async (userId: string): Promise<void> => {
    const issued = await run(() =>
      api<{ key: string }>(credential, 'POST', '/api/v1/admin/api-keys', { user_id: userId }),
    );
    if (issued) {
      setSecret(issued.key);
      await load();
    }
  };
  return (
    <section class="panel" aria-labelledby="org-title">
      <h3 id="org-title">Organisation: users, groups and keys</h3>
      <ErrorNote error={error} />
      <SecretOnce secret={secret} onDone={() => setSecret(null)} />
      {notice && <Info>{notice}</Info>}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void act(`Created user ${username}.`, () =>
            api(credential, 'POST', '/api/v1/admin/users', { username: username.trim(), role }),
          );
        }}
      >
        <label>
          Username
          <input
            name="username"
            value={username}
            required
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option>viewer</option>
            <option>editor</option>
            <option>admin</option>
          </select>
        </label>
        <button type="submit">Add user</button>
      </form>
      <table class="grid" data-testid="users">
        <caption>{users.length} users</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Active</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{u.role}</td>
              <td>{u.active ? 'yes' : 'no'}</td>
              <td class="actions">
                <button
                  type="button"
                  onClick={() => void issue(u.id)}
                  aria-label={`Issue a key for ${u.username}`}
                >
                  Issue key
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void act(`Created group ${groupName}.`, () =>
            api(credential, 'POST', '/api/v1/admin/groups', { name: groupName.trim() }),
          );
        }}
      >
        <label>
          Group name
          <input
            name="group"
            value={groupName}
            required
            onInput={(e) => setGroupName(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Add group</button>
      </form>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void act('Member added.', () =>
            api(credential, 'POST', `/api/v1/admin/groups/${seg(member.group)}/members`, {
              user_id: member.user,
              role: member.role,
            }),
          );
        }}
      >
        <label>
          Group
          <select
            value={member.group}
            required
            onChange={(e) => setMember({ ...member, group: e.currentTarget.value })}
          >
            <option value="">choose…</option>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Member
          <select
            value={member.user}
            required
            onChange={(e) => setMember({ ...member, user: e.currentTarget.value })}
          >
            <option value="">choose…</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.username}
              </option>
            ))}
          </select>
        </label>
        <label>
          Role
          <select value={member.role} onChange={(e) => setMember({ ...member, role: e.currentTarget.value })}>
            <option>viewer</option>
            <option>editor</option>
            <option>admin</option>
          </select>
        </label>
        <button type="submit">Add member</button>
      </form>
      <table class="grid" data-testid="groups">
        <caption>{groups.length} groups</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Scope</th>
            <th scope="col">Members</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.id}>
              <td>{g.name}</td>
              <td>{g.scope}</td>
              <td>{g.members.map((m) => `${nameOf(m.user_id)} (${m.role})`).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <KeyTable
        rows={keys.map((k) => ({
          id: k.id,
          who: nameOf(k.user_id),
          label: k.label,
          prefix: k.key_prefix,
          active: k.active,
          created: k.created_at,
        }))}
        onRevoke={(id) =>
          act(`Revoked ${id}.`, () => api(credential, 'DELETE', `/api/v1/admin/api-keys/${seg(id)}`))
        }
        testId="org-keys"
      />
    </section>
  );
}

function OwnKeys(props: { credential: Credential }) {
  const { credential } = props;
  const [keys, setKeys] = useState<EngramKey[]>([]);
  const [label, setLabel] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const { error, run } = useAction();
  const load = async (): Promise<void> => {
    const listed = await run(() => api<{ rows: EngramKey[] }>(credential, 'GET', '/api/v1/me/api-keys'));
    if (listed) setKeys(listed.rows);
  };
  useEffect(() => void load(), [credential]);
  const mint = async (e: Event): Promise<void> => {
    e.preventDefault();
    const minted = await run(() =>
      api<{ key: string }>(
        credential,
        'POST',
        '/api/v1/me/api-keys',
        label.trim() ? { label: label.trim() } : {},
      ),
    );
    if (minted) {
      setSecret(minted.key);
      await load();
    }
  };
  return (
    <section class="panel" aria-labelledby="own-keys-title">
      <h3 id="own-keys-title">Your keys</h3>
      <form class="filters" onSubmit={mint}>
        <label>
          Label
          <input name="own-key-label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
        </label>
        <button type="submit">Mint a key</button>
      </form>
      <ErrorNote error={error} />
      <SecretOnce secret={secret} onDone={() => setSecret(null)} />
      <KeyTable
        rows={keys.map((k) => ({
          id: k.id,
          who: 'you',
          label: k.label,
          prefix: k.key_prefix,
          active: k.active,
          created: k.created_at,
        }))}
        onRevoke={async (id) => {
          if (await run(() => api(credential, 'DELETE', `/api/v1/me/api-keys/${seg(id)}`))) await load();
        }}
        testId="own-keys"
      />
    </section>
  );
}

interface KeyRow {
  id: string;
  who: string;
  label: string | null;
  prefix: string;
  active: boolean;
  created: string;
}

function KeyTable(props: { rows: KeyRow[]; onRevoke: (id: string) => Promise<void>; testId: string }) {
  return (
    <table class="grid" data-testid={props.testId}>
      <caption>{props.rows.length} keys</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">For</th>
          <th scope="col">Label</th>
          <th scope="col">Created</th>
          <th scope="col">State</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((k) => (
          <tr key={k.id}>
            <td>
              <code>{k.prefix}…</code>
            </td>
            <td>{k.who}</td>
            <td>{k.label ?? ''}</td>
            <td>{new Date(k.created).toLocaleString()}</td>
            <td>{k.active ? 'active' : 'revoked'}</td>
            <td class="actions">
              {k.active && (
                <button
                  type="button"
                  onClick={() => void props.onRevoke(k.id)}
                  aria-label={`Revoke ${k.label ?? k.prefix}`}
                >
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
