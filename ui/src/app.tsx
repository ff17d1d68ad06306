import { useState } from 'preact/hooks';
import type { Credential } from './api';
import { remember, remembered } from './credential';
import { SignIn } from './views/sign-in';
import { LiveView } from './views/live';
import { MemoriesView } from './views/memories';
import { EngramsView } from './views/engrams';
import { PeopleView } from './views/people';
import { SystemView } from './views/system';

/** The views, and which credential kinds see each (what that credential may do on the API). */
const VIEWS = [
  { id: 'live', title: 'Live', kinds: ['admin', 'layer', 'engram'] },
  { id: 'memories', title: 'Memories', kinds: ['layer'] },
  { id: 'engrams', title: 'Engrams', kinds: ['admin', 'engram'] },
  { id: 'people', title: 'Keys and people', kinds: ['admin', 'engram'] },
  { id: 'system', title: 'System', kinds: ['admin', 'layer', 'engram'] },
] as const;

type ViewId = (typeof VIEWS)[number]['id'];

export function App() {
  const [credential, setCredential] = useState<Credential | null>(remembered);
  const [view, setView] = useState<ViewId>('live');

  const signedIn = (next: Credential | null): void => {
    remember(next);
    setCredential(next);
    setView('live');
  };

  if (!credential) return <SignIn onSignedIn={signedIn} />;
  const views = VIEWS.filter((v) => (v.kinds as readonly string[]).includes(credential.kind));
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
        <button type="button" onClick={() => signedIn(null)}>
          Sign out
        </button>
      </header>
      <main id="main">
        {view === 'live' && <LiveView credential={credential} />}
        {view === 'memories' && <MemoriesView credential={credential} />}
        {view === 'engrams' && <EngramsView credential={credential} />}
        {view === 'people' && <PeopleView credential={credential} />}
        {view === 'system' && <SystemView credential={credential} />}
      </main>
    </div>
  );
}
