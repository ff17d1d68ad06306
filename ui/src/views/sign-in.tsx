import { useState } from 'preact/hooks';
import type { Credential } from '../api';
import { signIn } from '../credential';
import { ErrorNote } from '../components/notice';
import { useAction } from '../components/use-async';

/** Sign-in with the admin key, a layer workspace key (plm_…) or an engram user key (plur_sk_…). */
export function SignIn(props: { onSignedIn: (credential: Credential) => void }) {
  const [token, setToken] = useState('');
  const { busy, error, run } = useAction();
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const credential = await run(() => signIn(token));
    if (credential) props.onSignedIn(credential);
  };
  return (
    <main class="sign-in">
      <h1>mnemo console</h1>
      <form onSubmit={submit}>
        <label for="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="key-help"
          required
        />
        <p id="key-help" class="help">
          The admin key, a workspace key (<code>plm_live_…</code>) or a user key (<code>plur_sk_…</code>). It
          is kept in this tab only (sessionStorage) and sent only to this server.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}
