import { useEffect, useState } from 'preact/hooks';
import type { Credential } from './api';
import { remember, remembered, signInWithSession, signOut } from './credential';
import { messageOf } from './components/notice';
import { SignIn } from './views/sign-in';
import { LiveView } from './views/live';
import { MemoriesView } from './views/memories';
import { EngramsView } from './views/engrams';
import { PacksView } from './views/packs';
import { PeopleView } from './views/people';
import { AuditView } from './views/audit';
import { InsightsView } from './views/insights';
import { SystemView } from './views/system';

/**
 * The views, and which credential kinds see each (what that credential may do on the API); `orgAdmin`
 * views need the organisation admin role (the admin key, or an engram user who is an org admin).
 */
const VIEWS = [
  { id: 'live', title: 'Live', kinds: ['admin', 'layer', 'engram'] },
  { id: 'memories', title: 'Memories', kinds: ['layer'] },
  { id: 'engrams', title: 'Engrams', kinds: ['admin', 'engram'] },
  { id: 'packs', title: 'Packs', kinds: ['admin', 'engram'] },
  { id: 'people', title: 'Keys and people', kinds: ['admin', 'engram'] },
  { id: 'audit', title: 'Audit', kinds: ['admin', 'engram'], orgAdmin: true },
  { id: 'insights', title: 'Insights', kinds: ['admin', 'engram'], orgAdmin: true },
  { id: 'system', title: 'System', kinds: ['admin', 'layer', 'engram'] },
] as const;

type ViewId = (typeof VIEWS)[number]['id'];

/** The mark /auth/callback's redirect carries back (see SSO_RETURN); removed from the URL at once. */
function returnedFromSso(): boolean {
  const params = new URLSearchParams(location.search);
  if (params.get('signed-in') !== 'sso') return false;
  history.replaceState(null, '', location.pathname);
  return true;
}

export function App() {
  // Back from the IdP, the session is who is signed in now, whatever this tab held before.
  const [ssoPending, setSsoPending] = useState(returnedFromSso);
  const [credential, setCredential] = useState<Credential | null>(() => (ssoPending ? null : remembered()));
  const [view, setView] = useState<ViewId>('live');
  const [ssoError, setSsoError] = useState<string | null>(null);

  const signedIn = (next: Credential | null): void => {
    remember(next);
    setCredential(next);
    setView('live');
  };

  useEffect(() => {
    if (!ssoPending) return;
    signInWithSession()
      .then(signedIn, (err: unknown) => setSsoError(`Single sign-on did not finish: ${messageOf(err)}`))
      .finally(() => setSsoPending(false));
  }, []);

  if (ssoPending)
    return (
      <main class="sign-in" aria-busy="true">
        <h1>mnemo console</h1>
        <p role="status">Signing in with SSO…</p>
      </main>
    );
  if (!credential) return <SignIn onSignedIn={signedIn} error={ssoError} />;
  const views = VIEWS.filter(
    (v) =>
      (v.kinds as readonly string[]).includes(credential.kind) && (!('orgAdmin' in v) || credential.orgAdmin),
  );
  return (
    <div class="shell">
      <header class="top">
        <h1>mnemo</h1>
        <nav aria-label="Views">
          <ul>
            {views.map((v) => (
              <li key={v.id}>
                <button
                  type="button"
                  class="tab"
                  aria-current={view === v.id ? 'page' : undefined}
                  onClick={() => setView(v.id)}
                >
                  {v.title}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who" data-testid="who">
          {credential.label}
        </p>
        <button
          type="button"
          onClick={() => {
            void signOut(credential).finally(() => signedIn(null));
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">
        {view === 'live' && <LiveView credential={credential} />}
        {view === 'memories' && <MemoriesView credential={credential} />}
        {view === 'engrams' && <EngramsView credential={credential} />}
        {view === 'packs' && <PacksView credential={credential} />}
        {view === 'people' && <PeopleView credential={credential} />}
        {view === 'audit' && <AuditView credential={credential} />}
        {view === 'insights' && <InsightsView credential={credential} />}
        {view === 'system' && <SystemView credential={credential} />}
      </main>
    </div>
  );
}
