// A fresh TCP connection per request for everything this Node process sends with `fetch`.
//
// Why: workerd's HTTP server (Cap'n Proto's kj) closes a kept-alive connection when the next
// request's first byte has not arrived within 5 s of the previous response, and it measures that
// on its own event loop. The whole local suite runs on ONE workerd thread, so when that thread is
// busy for a few seconds (a loaded machine, a long waitUntil), the timer fires as soon as it is
// free, even though Node's fetch (undici) sent the next request on that connection long before:
// the request is dropped unread, with no answer and no log line, and the client sees "other side
// closed" or ECONNRESET. It is not configurable in workerd or Miniflare. Connections to loopback
// are cheap, so processes that drive the local suite (tests, the demo, the benchmarks' Node
// clients) open one per request: `pipelining: 0` turns keep-alive off in undici's Agent, and the
// global dispatcher is the one Node's built-in fetch uses. autocannon has its own client.
import { Agent, setGlobalDispatcher } from 'undici';

let installed = false;

export function useFreshConnections() {
  if (installed) return;
  installed = true;
  setGlobalDispatcher(new Agent({ pipelining: 0 }));
}
