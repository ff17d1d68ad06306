import { fileURLToPath } from 'node:url';
import { startMnemo } from './app.js';
import { CHILD_ENV, ServerProcessExited, superviseProcesses } from './cluster.js';
import { loadConfigOrExit } from './config.js';
import { createLogger } from './log.js';
import { assertPortFree } from './net.js';
import { RedisServerUnavailable } from './redis/embedded.js';
import { StartupRefused } from './startup-refused.js';
import { VERSION } from './version.js';

/** Process entry: load config, start, and stop gracefully on SIGINT/SIGTERM (a second signal exits at once). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  const isGroupMember = process.env[CHILD_ENV] !== undefined;
  let mnemo: { close(): Promise<void> };
  try {
    // Before anything starts (the embedded Redis takes a while): is the port ours to take? The listen
    // itself is exclusive too, so a mnemo that starts in the same moment still fails there.
    if (!isGroupMember) await assertPortFree(config.host, config.port);
    if (!isGroupMember) {
      mnemo = await superviseProcesses(config, log, fileURLToPath(import.meta.url));
    } else {
      // Only a group of several shares the port (SO_REUSEPORT); a lone server process listens exclusively.
      const sharedPort = Number(process.env[CHILD_ENV]) > 1;
      const started = await startMnemo(config, log, { sharedPort });
      mnemo = started;
      log.info(
        {
          url: started.url,
          version: VERSION,
          env: config.env,
          redis: config.redis.kind === 'embedded' ? 'embedded' : 'external',
        },
        'mnemo is listening',
      );
      process.send?.({ type: 'ready' });
    }
  } catch (err) {
    if (err instanceof RedisServerUnavailable) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    // The server process has already said why (its "mnemo cannot start" lines); exit as it did.
    if (err instanceof ServerProcessExited) process.exit(err.exitCode);
    if (err instanceof StartupRefused) {
      log.fatal({ reason: err.message }, 'mnemo cannot start');
      process.stderr.write(`mnemo cannot start: ${err.message}\n`);
      process.exit(1);
    }
    log.fatal({ err }, 'mnemo failed to start');
    process.exit(1);
  }

  // `npm start` forwards the terminal's SIGINT to us while the terminal also sends it to our process group,
  // so one Ctrl-C can arrive twice: only a signal more than a second after the first one forces the exit.
  let stoppingSince = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (stoppingSince > 0) {
      if (Date.now() - stoppingSince < 1000) return;
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal }, 'shutting down: draining requests');
    mnemo
      .close()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A server process of a group: when its supervisor is gone (even killed with -9) the IPC channel
  // closes, and this process must not keep serving on its own.
  if (isGroupMember) {
    const orphaned = (): void => {
      log.warn('the supervisor is gone: shutting down');
      stop('SIGTERM');
    };
    if (process.connected) process.once('disconnect', orphaned);
    else orphaned();
  }
}

void main();
