// The dashboard's socket (GET /_ops/live): the breakers and sagas panels as they change, and who
// else is watching. A browser cannot set Authorization on a WebSocket, so a one-time ticket is
// asked first with the token (POST /_ops/live/ticket), and the socket opened with it. While the
// socket is down the page polls those panels as before (`isLive` false), and reconnects later.
import { ops } from './api.js';

const RECONNECT_MS = 5000;

/**
 * Keeps one socket open while `running()` holds. `onMessage` gets each parsed message;
 * `onChange(live)` is told when the socket opens or drops.
 */
export function liveSocket({ name, running, onMessage, onChange }) {
  let socket = null;
  let live = false;
  let retry = null;

  function setLive(value) {
    if (live === value) return;
    live = value;
    onChange(value);
  }

  async function connect() {
    retry = null;
    if (!running() || socket) return;
    try {
      const { ticket } = await ops('/live/ticket', { method: 'POST', body: { name: name() } });
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      socket = new WebSocket(`${scheme}://${location.host}/_ops/live?ticket=${encodeURIComponent(ticket)}`);
    } catch {
      schedule();
      return;
    }
    socket.addEventListener('open', () => setLive(true));
    socket.addEventListener('message', (event) => {
      try {
        onMessage(JSON.parse(event.data));
      } catch {
        // Not JSON (a `pong`): nothing to draw.
      }
    });
    socket.addEventListener('close', () => {
      socket = null;
      setLive(false);
      schedule();
    });
  }

  function schedule() {
    if (running() && !retry) retry = setTimeout(connect, RECONNECT_MS);
  }

  return {
    start: () => void connect(),
    stop() {
      clearTimeout(retry);
      retry = null;
      socket?.close(1000, 'signed out');
      socket = null;
      setLive(false);
    },
    isLive: () => live,
  };
}
