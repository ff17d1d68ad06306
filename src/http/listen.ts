import * as uWS from 'uWebSockets.js';
import { listenProblem, portRefused } from '../net.js';

/**
 * uWS listens with SO_REUSEPORT unless told LIBUS_LISTEN_EXCLUSIVE_PORT, and then a second server on the
 * same port silently shares it. Only the processes of one MNEMO_PROCESSES group may share (`shared`);
 * everyone else takes the port exclusively, so a second mnemo on it fails. The package's typings lack the
 * (host, port, options, cb) form the native listen accepts, and the option values (uSockets' enum).
 */
const LIBUS_LISTEN_DEFAULT = 0;
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

type ListenWithOptions = (
  host: string,
  port: number,
  options: number,
  cb: (socket: uWS.us_listen_socket | false) => void,
) => uWS.TemplatedApp;

/** Listens on host:port; rejects with the OS's reason (e.g. "port 7700 is in use (EADDRINUSE ...)"). */
export function listenOn(
  app: uWS.TemplatedApp,
  host: string,
  port: number,
  shared: boolean,
): Promise<uWS.us_listen_socket> {
  return new Promise((resolve, reject) => {
    const listen = app.listen.bind(app) as unknown as ListenWithOptions;
    listen(host, port, shared ? LIBUS_LISTEN_DEFAULT : LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket) return resolve(socket);
      // uWS says only "no": ask the OS why (EADDRINUSE, EACCES, EADDRNOTAVAIL, ...).
      void listenProblem(host, port).then((problem) => reject(portRefused(host, port, problem ?? 'unknown')));
    });
  });
}
