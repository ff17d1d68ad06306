import path from 'node:path';
import type { Logger } from '../log.js';
import { PROJECT_ROOT } from '../paths.js';
import { loadStaticSite, type StaticSite } from './static-site.js';

/** Where the admin console is mounted. */
export const CONSOLE_PREFIX = '/ui';

/** The build output of `ui/` (vite.config.ts writes it there). */
export const DEFAULT_CONSOLE_DIR = path.join(PROJECT_ROOT, 'dist', 'ui');

/**
 * The admin console as a static site, from MNEMO_CONSOLE_DIR (empty: the package's own build; `off`: no
 * console at all, so /ui/ answers the API's 404). A missing build is not fatal: /ui/ then says how to build it.
 */
export async function loadConsole(setting: string, log: Logger): Promise<StaticSite[]> {
  if (setting.trim().toLowerCase() === 'off') return [];
  const dir = setting.trim() === '' ? DEFAULT_CONSOLE_DIR : path.resolve(setting.trim());
  const site = await loadStaticSite(dir, CONSOLE_PREFIX);
  if (site.missing) log.warn({ dir }, 'admin console not built: /ui/ says so (run npm run build)');
  return [site];
}
