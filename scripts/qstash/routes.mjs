// The HTTP side of the local QStash: QStash's REST paths, as @upstash/qstash 2.12 calls them
// (read from its source), mapped onto the engine. Every path needs `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readBulkFilter } from './filters.mjs';
import { QStashError } from './messages.mjs';
import { readBody } from '../read-body.mjs';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
// Parts of QStash this server does not have: named in the answer so nobody hunts a bug in their code.
const UNSUPPORTED = /^\/v2\/(flowControl|globalParallelism|events|logs|workflows|llm|api)(\/|$)/;

/**
 * The destination of /v2/publish/<destination> and /v2/enqueue/<queue>/<destination>, from the raw
 * request target: the client puts the URL in the path unencoded, and its own query string (if any)
 * arrives as the request's query, so everything after the prefix is the destination.
 */
function destinationOf(rest) {
  let destination = rest;
  if (/^https?%3a/i.test(destination)) destination = decodeURIComponent(destination);
  // A proxy or a path normaliser may have merged the '//' of the scheme.
  return destination.replace(/^(https?):\/(?!\/)/i, '$1://');
}

function parseJson(body) {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new QStashError(400, 'the request body is not valid JSON');
  }
}

async function route(engine, req, body) {
  const raw = req.url ?? '/';
  const method = req.method ?? 'GET';
  const callerIp = req.socket.remoteAddress;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }

  if (method === 'POST' && raw.startsWith('/v2/publish/')) {
    const { status, answer } = engine.publish({ destination: destinationOf(raw.slice('/v2/publish/'.length)), headers, body, callerIp });
    return [status, answer];
  }
  if (method === 'POST' && raw.startsWith('/v2/schedules/')) {
    return [200, engine.schedules.create({ destination: destinationOf(raw.slice('/v2/schedules/'.length)), headers, body, callerIp })];
  }
  if (method === 'POST' && raw.startsWith('/v2/enqueue/')) {
    const rest = raw.slice('/v2/enqueue/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) throw new QStashError(400, 'expected /v2/enqueue/<queue>/<destination>');
    const queueName = decodeURIComponent(rest.slice(0, slash));
    const { status, answer } = engine.publish({ destination: destinationOf(rest.slice(slash + 1)), queueName, headers, body, callerIp });
    return [status, answer];
  }

  const url = new URL(`http://qstash.invalid${raw}`); // not new URL(raw, base): '//x' would be a host there
  const path = url.pathname.replace(/\/+$/, '');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [v2, resource, id, action] = segments;
  if (v2 !== 'v2') throw new QStashError(404, `no such path: ${method} ${url.pathname}`);
  const query = url.searchParams;

  switch (`${method} ${resource}${id === undefined ? '' : '/:id'}${action === undefined ? '' : `/${action}`}`) {
    case 'POST batch': {
      const items = parseJson(body);
      if (!Array.isArray(items)) throw new QStashError(400, 'a batch is a JSON array of {destination, headers, body, queue?}');
      const answers = items.map((item) => {
        try {
          if (typeof item?.destination !== 'string') throw new QStashError(400, 'every batch item needs a destination');
          const text = typeof item.body === 'string' ? item.body : item.body === undefined ? '' : JSON.stringify(item.body);
          return engine.publish({ destination: item.destination, queueName: item.queue, headers: new Headers(item.headers ?? {}), body: Buffer.from(text), callerIp }).answer;
        } catch (error) {
          if (error instanceof QStashError) return { error: error.message };
          throw error;
        }
      });
      return [200, answers];
    }

    case 'GET messages/:id':
      return [200, engine.getMessage(id)];
    case 'DELETE messages/:id':
      return [200, engine.cancelMessage(id)];
    case 'DELETE messages': {
      const { filter, count } = readBulkFilter('cancel', query, parseJson(body));
      return [200, engine.cancelMessages(filter, { count })];
    }

    case 'GET dlq': {
      const { filter, count, cursor } = readBulkFilter('dlq', query);
      return [200, engine.listDlq(filter, { count, cursor })];
    }
    case 'GET dlq/:id':
      return [200, engine.getDlq(id)];
    case 'DELETE dlq/:id':
      engine.deleteDlq(id);
      return [200, undefined];
    case 'DELETE dlq': {
      const { filter, count, cursor } = readBulkFilter('dlq', query, parseJson(body));
      return [200, engine.deleteDlqMany(filter, { count, cursor })];
    }
    case 'POST dlq/:id': {
      if (id !== 'retry') break;
      const { filter, count, cursor } = readBulkFilter('dlq', query, parseJson(body));
      return [200, engine.retryDlq(filter, { count, cursor })];
    }

    case 'POST queues': {
      const json = parseJson(body) ?? {};
      engine.upsertQueue({ queueName: json.queueName, parallelism: json.parallelism ?? 1, paused: json.paused ?? false });
      return [200, undefined];
    }
    case 'GET queues':
      return [200, engine.listQueues()];
    case 'GET queues/:id':
      return [200, engine.getQueue(id)];
    case 'DELETE queues/:id':
      engine.deleteQueue(id);
      return [200, undefined];
    case 'POST queues/:id/pause':
    case 'POST queues/:id/resume':
      engine.setQueuePaused(id, action === 'pause');
      return [200, undefined];

    case 'POST topics/:id/endpoints':
      engine.urlGroups.add(id, parseJson(body)?.endpoints);
      return [200, undefined];
    case 'DELETE topics/:id/endpoints':
      engine.urlGroups.remove(id, parseJson(body)?.endpoints);
      return [200, undefined];
    case 'GET topics':
      return [200, engine.urlGroups.list()];
    case 'GET topics/:id':
      return [200, engine.urlGroups.get(id)];
    case 'DELETE topics/:id':
      engine.urlGroups.delete(id);
      return [200, undefined];

    case 'GET schedules':
      return [200, engine.schedules.list()];
    case 'GET schedules/:id':
      return [200, engine.schedules.get(id)];
    case 'DELETE schedules/:id':
      engine.schedules.delete(id);
      return [200, undefined];
    case 'PATCH schedules/:id/pause':
    case 'PATCH schedules/:id/resume':
    case 'POST schedules/:id/pause':
    case 'POST schedules/:id/resume':
      engine.schedules.setPaused(id, action === 'pause');
      return [200, undefined];

    case 'GET keys':
      return [200, { ...engine.keys }];
    case 'POST keys/:id':
      if (id !== 'rotate') break;
      return [200, engine.rotateKeys()];
  }
  if (UNSUPPORTED.test(path)) throw new QStashError(501, `${url.pathname} is not supported by the local QStash server`);
  throw new QStashError(404, `no such path: ${method} ${url.pathname}`);
}


export function createHandler(engine, { token, log }) {
  const expected = createHash('sha256').update(token).digest();
  const authorized = (req) => {
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    return given !== undefined && timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  };
  return async (req, res) => {
    const reply = (status, value, extra = {}) => {
      const text = value === undefined ? '' : JSON.stringify(value);
      res.writeHead(status, { ...(text && { 'content-type': 'application/json' }), 'content-length': Buffer.byteLength(text), ...extra });
      res.end(text);
    };
    try {
      if (!authorized(req)) return reply(401, { error: 'Unauthorized' });
      const body = await readBody(req, { maxBytes: MAX_BODY_BYTES, error: (status, message) => new QStashError(status, message) });
      const [status, value] = await route(engine, req, body);
      reply(status, value);
    } catch (error) {
      if (error instanceof QStashError) return reply(error.status, { error: error.message }, error.status === 413 ? { connection: 'close' } : {});
      log?.(`internal error on ${req.method} ${req.url}: ${error.stack ?? error}`);
      reply(500, { error: `the local QStash server failed: ${error.message}` });
    }
  };
}
