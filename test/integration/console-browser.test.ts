import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { ensureConsoleBuilt, launchChromium, type TestBrowser } from '../helpers/browser.js';
import { NO_LIMITS, Org } from '../helpers/engram.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/**
 * The admin console in a real headless Chromium against a real mnemo: sign-in with each credential kind
 * and a wrong one, Live showing a remember made over HTTP, recall search, erasure, and a key revoked in the
 * console refused by the API. One browser for the file; each test gets a fresh context (so a fresh
 * sessionStorage). Screenshots of the main views go to docs/screenshots/.
 */
const SHOTS = path.join(PROJECT_ROOT, 'docs', 'screenshots');
/** The issue asks that a remember appears in Live within a second. */
const LIVE_DEADLINE_MS = 1000;
/** Waits for things the console loads (a page, an API answer); a deadline, never a sleep. */
const UI_DEADLINE_MS = 15_000;

let chromium: TestBrowser;
let server: TestServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureConsoleBuilt();
  await mkdir(SHOTS, { recursive: true });
  [chromium, server] = await Promise.all([
    launchChromium(),
    startServer({ ...NO_LIMITS, layerRateLimitRpm: 1_000_000 }),
  ]);
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await chromium?.stop();
  await server?.close();
});

async function openConsole(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(UI_DEADLINE_MS);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  (page as Page & { cspProblems?: string[] }).cspProblems = problems;
  await page.goto(`${server.url}/ui/`);
  return page;
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The live view shows "Live" once the server has confirmed its subscription. */
const waitLive = (page: Page): Promise<void> =>
  page.getByTestId('live-state').getByText('Live', { exact: true }).waitFor();

const shot = (page: Page, name: string): Promise<Buffer> =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });

async function remember(key: string, content: string, userId: string): Promise<void> {
  const res = await server.request('POST', '/v1/remember', {
    token: key,
    body: { content, user_id: userId, source: 'user_message' },
  });
  expect(res.status).toBe(200);
}

describe('signing in', () => {
  it('shows a clear error for a wrong key and stays on the sign-in form', async () => {
    const revoked = await createLayerKey(server, uniqueWorkspace('console-revoked'));
    const me = await server.request('GET', '/v1/me', { token: revoked });
    const listed = await server.request('GET', `/admin/keys/${me.json.workspace_id}`, { token: ADMIN_KEY });
    await server.request('DELETE', `/admin/keys/${listed.json[0].key_id}`, { token: ADMIN_KEY });
    const page = await openConsole();
    await signIn(page, revoked);
    await page.getByRole('alert').getByText('Unknown or revoked API key').waitFor();
    await signIn(page, 'not-a-key-at-all');
    await page
      .getByRole('alert')
      .getByText(/Not a valid key/)
      .waitFor();
    expect(await page.getByRole('navigation', { name: 'Views' }).count()).toBe(0);
    await shot(page, 'sign-in-error');
    // The key is never put in the URL or in localStorage.
    expect(page.url()).toBe(`${server.url}/ui/`);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });

  it('signs in with the admin key, a layer key and an engram user key, each seeing its views', async () => {
    const workspace = uniqueWorkspace('console');
    const layerKey = await createLayerKey(server, workspace);
    const org = new Org(server, 'console');
    const alice = await org.user('alice', 'editor');
    const cases = [
      { key: ADMIN_KEY, who: 'admin key', views: ['Live', 'Engrams', 'Keys and people', 'System'] },
      { key: layerKey, who: `workspace ${workspace}`, views: ['Live', 'Memories', 'System'] },
      {
        key: alice.key,
        who: `alice (editor) in ${org.id}`,
        views: ['Live', 'Engrams', 'Keys and people', 'System'],
      },
    ];
    for (const { key, who, views } of cases) {
      const page = await openConsole();
      if (key === layerKey) {
        // The keyboard alone: Tab to the key field, type, Enter.
        await page.keyboard.press('Tab');
        await page.keyboard.type(key);
        await page.keyboard.press('Enter');
      } else await signIn(page, key);
      await page.getByTestId('who').getByText(who).waitFor();
      const tabs = await page
        .getByRole('navigation', { name: 'Views' })
        .getByRole('button')
        .allTextContents();
      expect(tabs).toEqual(views);
      await waitLive(page);
      expect(page.url()).not.toContain(key);
      expect(await page.evaluate('localStorage.length')).toBe(0);
      expect((page as Page & { cspProblems?: string[] }).cspProblems).toEqual([]);
      if (key === layerKey) {
        // Views are reachable by keyboard: the tabs come first in the tab order.
        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.getByRole('heading', { name: 'Memories' }).waitFor();
      }
      await page.context().close();
    }
  });
});

describe('the layer views', () => {
  let workspace: string;
  let key: string;
  let page: Page;

  beforeAll(async () => {
    workspace = uniqueWorkspace('console-layer');
    key = await createLayerKey(server, workspace);
    page = await openConsole();
    await signIn(page, key);
    await waitLive(page);
  });

  it('shows a remember made over HTTP in Live within a second', async () => {
    const content = 'I prefer tea over coffee in the morning';
    await remember(key, content, 'alice');
    await page.getByTestId('events').getByText(content).first().waitFor({ timeout: LIVE_DEADLINE_MS });
    expect(await page.getByTestId('events').textContent()).toContain('memory.working.added');
    await shot(page, 'live');
  });

  it('filters Live by user on the server, then resumes from the last id after a reconnect', async () => {
    await page.getByLabel('User').fill('bob');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await remember(key, 'alice writes something unseen', 'alice');
    await remember(key, 'bob likes green tea', 'bob');
    await page.getByTestId('events').getByText('bob likes green tea').first().waitFor();
    expect(await page.getByTestId('events').textContent()).not.toContain('alice writes something unseen');
    // Disconnected, a write happens; connecting again replays it from the last id seen.
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByTestId('live-state').getByText('Disconnected', { exact: true }).waitFor();
    await remember(key, 'bob also likes oolong', 'bob');
    await page.getByRole('button', { name: 'Connect (resume)' }).click();
    await page.getByTestId('events').getByText('bob also likes oolong').first().waitFor();
    await waitLive(page);
    // Resuming replays nothing twice: each event id is listed once.
    const ids = await page
      .getByTestId('events')
      .locator('li')
      .evaluateAll((items) =>
        items.map((li) => JSON.parse(li.querySelector('pre')?.textContent ?? '{}').id as string),
      );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('searches memories with recall, showing scores, and inspects one', async () => {
    await remember(key, 'My favourite editor is Helix', 'carol');
    await page.getByRole('button', { name: 'Memories' }).click();
    await page.getByRole('search').getByLabel('Search').fill('favourite editor Helix');
    await page.getByRole('button', { name: 'Recall' }).click();
    const results = page.getByTestId('recall-results');
    await results.getByText('My favourite editor is Helix').first().waitFor();
    expect(await results.locator('td.num').first().textContent()).toMatch(/^0\.\d{3}$|^1\.000$/);
    await results
      .getByRole('button', { name: /^Inspect / })
      .first()
      .click();
    await page.getByTestId('inspector').waitFor();
    expect(await page.getByTestId('inspector').textContent()).toContain('carol');
    await shot(page, 'memories');
  });

  it('inspects a superseded fact and follows it to the fact that replaced it', async () => {
    const first = await server.request('POST', '/v1/remember', {
      token: key,
      body: { content: 'I live in Paris', user_id: 'gina', source: 'user_message' },
    });
    const second = await server.request('POST', '/v1/remember', {
      token: key,
      body: { content: 'I live in Berlin', user_id: 'gina', source: 'user_message' },
    });
    const old = first.json.facts[0].id as string;
    const current = second.json.facts[0].id as string;
    expect(second.json.facts[0].superseded).toEqual([old]);
    await page.getByRole('button', { name: 'Memories' }).click();
    await page.getByRole('textbox', { name: 'Memory id' }).fill(old);
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    const inspector = page.getByTestId('inspector');
    await inspector.getByText(/^Superseded/).waitFor();
    await inspector.getByRole('button', { name: current }).click();
    await inspector.getByRole('heading', { name: `Memory ${current}` }).waitFor();
    expect(await inspector.textContent()).toContain('Berlin');
  });

  it('erases a user after a confirmation, and their memories are gone from search', async () => {
    await remember(key, 'Dave keeps his bike in the garage', 'dave');
    await page.getByRole('search').getByLabel('Search').fill('bike garage');
    await page.getByRole('button', { name: 'Recall' }).click();
    await page.getByTestId('recall-results').getByText('Dave keeps his bike in the garage').first().waitFor();

    await page.getByLabel('User id').fill('dave');
    await page.getByRole('button', { name: 'Erase user…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('“dave”');
    await shot(page, 'erase-confirm');
    await dialog.getByRole('button', { name: 'Erase permanently' }).click();
    await expect
      .poll(() => page.getByRole('status').allTextContents())
      .toContainEqual(expect.stringMatching(/Erased user dave: [1-9]\d* memories removed/));

    await page.getByRole('button', { name: 'Recall' }).click();
    await page.getByTestId('recall-results').waitFor();
    expect(await page.getByTestId('recall-results').textContent()).not.toContain('Dave keeps his bike');
    const api = await server.request('POST', '/v1/recall', {
      token: key,
      body: { query: 'bike garage', user_id: 'dave' },
    });
    expect(api.json.results).toEqual([]);
  });
});

describe('the admin views', () => {
  it('creates a workspace key shown once, and a key revoked in the console stops working on the API', async () => {
    const workspace = uniqueWorkspace('console-keys');
    const page = await openConsole();
    await signIn(page, ADMIN_KEY);
    await page.getByRole('button', { name: 'Keys and people' }).click();
    await page.getByRole('textbox', { name: 'Workspace' }).fill(workspace);
    await page.getByRole('textbox', { name: 'Label' }).first().fill('console-made');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = (await page.getByTestId('new-key').textContent())!;
    expect(shown).toMatch(/^plm_live_/);
    expect((await server.request('GET', '/v1/me', { token: shown })).status).toBe(200);
    await page.getByTestId('layer-keys').getByText('console-made').waitFor();
    await shot(page, 'keys-and-people');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByTestId('new-key').count()).toBe(0);

    await page.getByRole('button', { name: 'Revoke console-made' }).click();
    await page.getByTestId('layer-keys').getByText('revoked').waitFor();
    const after = await server.request('GET', '/v1/me', { token: shown });
    expect(after.status).toBe(401);
    expect(after.json.detail).toContain('Unknown or revoked API key');
  });

  it('manages the organisation: a user, a group with a member, and a key issued and revoked in the console', async () => {
    const page = await openConsole();
    await signIn(page, ADMIN_KEY);
    await page.getByRole('button', { name: 'Keys and people' }).click();
    await page.getByRole('textbox', { name: 'Username' }).fill('frank');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByTestId('users').getByRole('cell', { name: 'frank', exact: true }).waitFor();

    await page.getByRole('textbox', { name: 'Group name' }).fill('ops');
    await page.getByRole('button', { name: 'Add group' }).click();
    await page.getByTestId('groups').getByRole('cell', { name: 'ops', exact: true }).waitFor();
    await page.getByRole('combobox', { name: 'Group' }).selectOption({ label: 'ops' });
    await page.getByRole('combobox', { name: 'Member' }).selectOption({ label: 'frank' });
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByTestId('groups').getByText('frank (viewer)').waitFor();

    await page.getByRole('button', { name: 'Issue a key for frank' }).click();
    const issued = (await page.getByTestId('new-key').textContent())!;
    expect(issued).toMatch(/^plur_sk_/);
    const me = await server.request('GET', '/api/v1/me', { token: issued });
    expect(me.status).toBe(200);
    expect(me.json.username).toBe('frank');
    const row = page.getByTestId('org-keys').getByRole('row').filter({ hasText: 'frank' });
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await row.getByText('revoked').waitFor();
    expect((await server.request('GET', '/api/v1/me', { token: issued })).status).toBe(401);
  });

  it('shows health, and readiness and metrics as available or not', async () => {
    const page = await openConsole('dark');
    await signIn(page, ADMIN_KEY);
    await page.getByRole('button', { name: 'System' }).click();
    await page.getByTestId('health').getByText('database').waitFor();
    expect(await page.getByTestId('health').textContent()).toContain('ok');
    const readyz = await server.request('GET', '/readyz');
    const readiness = page.getByTestId('readiness');
    if (readyz.status === 404) await readiness.getByText('Not available on this server.').waitFor();
    else await readiness.getByText(/ready/).first().waitFor();
    await page
      .getByTestId('indexes')
      .getByText(/loaded/)
      .waitFor();
    await shot(page, 'system-dark');
  });
});

describe('the engram views', () => {
  it('lists, searches, promotes, pins and retires engrams, with feedback counts', async () => {
    const org = new Org(server, 'console-engrams');
    const admin = await org.user('erin', 'admin');
    const deploys = await org.engram(admin, {
      statement: 'Deploys must run migrations first.',
      type: 'procedural',
      scope: `org:${org.id}`,
    });
    // Learnings of an ended session become candidates: the one way an engram starts as a candidate.
    const session = await org.as(admin, 'POST', '/api/v1/sessions', { task: 'tidy the flags' });
    const ended = await org.as(admin, 'POST', `/api/v1/sessions/${session.json.session_id}/end`, {
      summary: 'flags tidied',
      learnings: ['Feature flags are removed within a month.'],
    });
    expect(ended.status).toBe(200);
    const id = ended.json.candidate_ids[0] as string;
    const page = await openConsole();
    await signIn(page, admin.key);
    await page.getByRole('button', { name: 'Engrams' }).click();
    const table = page.getByTestId('engrams');
    await table.getByText('Deploys must run migrations first.').waitFor();

    await page.getByLabel('Search engrams').fill('migrations deploy');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page
      .getByText('1 search results')
      .or(page.getByText(/\d+ search results/))
      .first()
      .waitFor();
    expect(await table.textContent()).toContain('Deploys must run migrations first.');
    await shot(page, 'engrams');

    await page.getByLabel('Search engrams').fill('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('button', { name: `Promote ${id}` }).click();
    await page.getByText(`Promoted ${id}.`).waitFor();
    await page.getByRole('button', { name: `Pin ${id}` }).click();
    await page.getByText(`Pinned ${id}.`).waitFor();
    await page.getByRole('button', { name: `Helpful: ${id}`, exact: true }).click();
    await page.getByText(`Feedback recorded for ${id}.`).waitFor();
    await page.getByRole('button', { name: `Edit ${deploys.id}` }).click();
    await page.getByLabel(`Statement of ${deploys.id}`).fill('Deploys run migrations before the code.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Saved ${deploys.id}.`).waitFor();
    const edited = (await org.as(admin, 'GET', `/api/v1/engrams/${deploys.id}`)).json;
    expect(edited.data.statement).toBe('Deploys run migrations before the code.');
    await page.getByRole('button', { name: `Retire ${id}` }).click();
    await page.getByText(`Retired ${id}.`).waitFor();
    const row = (await org.as(admin, 'GET', `/api/v1/engrams/${id}`)).json;
    expect(row.status).toBe('retired');
    expect(row.data.pinned).toBe(true);
    expect(row.data.feedback_signals.positive).toBe(1);
  });
});
