import { useEffect, useState } from 'preact/hooks';
import type { Credential } from '../api';
import { signIn, ssoAvailable, ssoLoginUrl } from '../credential';
import { ErrorNote } from '../components/notice';
import { useAction } from '../components/use-async';

/**
 * Sign-in with the admin key, a layer workspace key (plm_…) or an engram user key (plur_sk_…), and, when
 * the server has an identity provider configured, single sign-on (a link to /auth/login: the browser goes
 * to the IdP and comes back signed in with an HttpOnly session cookie).
 */
export function SignIn(props: { onSignedIn: (credential: Credential) => void; error?: string | null }) {
  const [token, setToken] = useState('');
  const [sso, setSso] = useState<'checking' | 'available' | 'none'>('checking');
  const [org, setOrg] = useState('');
  const { busy, error, run } = useAction();
  useEffect(() => {
    let live = true;
    void ssoAvailable().then((available) => live && setSso(available ? 'available' : 'none'));
    return () => {
      live = false;
    };
  }, []);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const credential = await run(() => signIn(token));
    if (credential) props.onSignedIn(credential);
  };
  return (
    <main class="sign-in" data-sso={sso}>
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
      <ErrorNote error={error ?? props.error ?? null} />
      {sso === 'available' && (
        <section class="sso" aria-labelledby="sso-title">
          <h2 id="sso-title">Single sign-on</h2>
          <label for="sso-org">Organisation (optional)</label>
          <input
            id="sso-org"
            name="sso-org"
            value={org}
            spellcheck={false}
            aria-describedby="sso-help"
            onInput={(e) => setOrg(e.currentTarget.value.trim())}
          />
          <p id="sso-help" class="help">
            Only needed when several organisations sign in with their own identity provider. The session stays
            in an HttpOnly cookie that this page cannot read.
          </p>
          <a class="button" href={ssoLoginUrl(org || undefined)}>
            Sign in with SSO
          </a>
        </section>
      )}
    </main>
  );
}
