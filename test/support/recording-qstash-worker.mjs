// A QStash stand-in for workerd tests: a tiny worker that accepts what the official client's
// publish, enqueue and batch calls send (as QStash documents them), answers as QStash does, and remembers
// every message so a test can read what a service's outbox relay published. It never delivers.
// Bound as a worker's `outboundService`, it receives that worker's outgoing fetches (its
// Durable Objects' too) whatever host they name; a test reads it through a service binding:
//   GET /__published  -> [{ kind, queue?, urlGroup?, url?, body, deduplicationId, contentType }]
//   POST /__fail {count} -> the next `count` publish calls answer 500 (a broker outage)
const published = [];
let failNext = 0;

const messageId = () => `msg_${crypto.randomUUID().replace(/-/g, '')}`;

/** The destination URL from the path; on the way here `http://` may arrive as `http:/` (a path's `//` is merged). */
const destination = (text) => text.replace(/^(https?:)\/(?!\/)/, '$1//');

/**
 * One item of `POST /v2/batch` ({destination, headers, body, queue?}, headers as the client sends
 * them, lower-cased): recorded as its own publish or enqueue would be, answered as QStash answers it.
 */
function recordBatchItem(item) {
  const header = (name) => item.headers?.[name] ?? null;
  const common = { body: item.body, deduplicationId: header('upstash-deduplication-id'), contentType: header('content-type') };
  if (item.queue) {
    published.push({ kind: 'queue', queue: item.queue, url: item.destination, ...common });
    return { messageId: messageId() };
  }
  if (/^https?:\/\//.test(item.destination)) {
    published.push({ kind: 'url', url: item.destination, ...common });
    return { messageId: messageId() };
  }
  published.push({ kind: 'topic', urlGroup: item.destination, ...common });
  return [{ messageId: messageId(), url: item.destination }];
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__published') return Response.json(published);
    if (url.pathname === '/__fail') {
      failNext = Number((await request.json()).count ?? 1);
      return Response.json({ failNext });
    }
    if (request.method !== 'POST') return new Response('not found', { status: 404 });
    // The client joins its base URL and the destination unencoded: /v2/enqueue/<queue>/<url...>.
    const enqueue = /^\/v2\/enqueue\/([^/]+)\/(.+)$/.exec(url.pathname);
    const publish = /^\/v2\/publish\/(.+)$/.exec(url.pathname);
    const batch = url.pathname === '/v2/batch';
    if (!enqueue && !publish && !batch) return new Response('not found', { status: 404 });
    // Read the body before any answer: workerd faults a request whose body is left unread.
    const body = await request.text();
    if (failNext > 0) {
      failNext -= 1;
      return Response.json({ error: 'recording-qstash: failing on request' }, { status: 500 });
    }
    if (batch) return Response.json(JSON.parse(body).map(recordBatchItem));
    const common = {
      body,
      deduplicationId: request.headers.get('upstash-deduplication-id'),
      contentType: request.headers.get('content-type'),
    };
    if (enqueue) {
      published.push({ kind: 'queue', queue: enqueue[1], url: destination(enqueue[2]), ...common });
      return Response.json({ messageId: messageId() });
    }
    const target = destination(publish[1]);
    const isUrl = /^https?:\/\//.test(target);
    published.push(isUrl ? { kind: 'url', url: target, ...common } : { kind: 'topic', urlGroup: target, ...common });
    return Response.json(isUrl ? { messageId: messageId() } : [{ messageId: messageId(), url: target }]);
  },
};
