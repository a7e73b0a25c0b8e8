import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { badGateway, HttpError, notFound } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { OtlpTracesRequest } from '../../../shared/observability/otlp-json';
import { validate } from '../../../shared/validation/validate';
import type { GatewayBindings } from '../env';
import { waterfallPage } from './trace-waterfall';

type OpsContext = Context<AppEnv<GatewayBindings>>;

/**
 * `/_ops/traces`, `/_ops/traces/:traceId` and `/_ops/logs`: the spans and log lines every worker
 * exports, read back from the OTLP receiver at OTEL_QUERY_URL (scripts/otel-receiver.mjs, which
 * `npm run dev` and the local suite start). A development view: a deployment exports to a real
 * collector (Jaeger, Tempo, Honeycomb) and is looked at there, so without OTEL_QUERY_URL these
 * answer 503 and say so. Mounted under opsRoutes, behind the admin token.
 */
export const telemetryRoutes = new Hono<AppEnv<GatewayBindings>>();

const TRACE_ID = /^[0-9a-f]{32}$/;

const tracesQuery = z.object({
  route: z.string().min(1).max(200).optional(),
  status: z
    .string()
    .regex(/^(?:[1-5]\d\d|[1-5]xx)$/, 'a status code (201) or a class (5xx)')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const logsQuery = z.object({
  requestId: z.string().min(1).max(128).optional(),
  traceId: z.string().regex(TRACE_ID, '32 lowercase hex digits').optional(),
  service: z.string().min(1).max(64).optional(),
  level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  q: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const traceParam = z.object({ traceId: z.string().regex(TRACE_ID, '32 lowercase hex digits') });

/** GET `path` on the receiver; its 404 is ours, anything else unexpected is a 502. */
async function fromReceiver(c: OpsContext, path: string, query: Record<string, string | number | undefined>): Promise<unknown> {
  const base = c.env.OTEL_QUERY_URL;
  if (!base) {
    throw new HttpError(503, {
      type: 'no-trace-store',
      detail:
        'OTEL_QUERY_URL is not set: traces and logs are viewed here in local development only (`npm run dev` starts a receiver and sets it). A deployment sends them to the collector OTEL_EXPORTER_OTLP_ENDPOINT names; look there.',
    });
  }
  const url = new URL(path, base);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw badGateway(`The trace store at ${url.origin} could not be reached.`, error);
  }
  if (response.status === 404) throw notFound((((await response.json().catch(() => ({}))) as { error?: string }).error) ?? `Nothing at ${path}.`);
  if (!response.ok) throw badGateway(`The trace store answered ${response.status}.`);
  return response.json();
}

telemetryRoutes.get('/traces', validate('query', tracesQuery), async (c) => c.json(await fromReceiver(c, '/api/traces', c.req.valid('query'))));

/** With `Accept: application/json`, the trace as OTLP/JSON; otherwise its waterfall page. */
telemetryRoutes.get('/traces/:traceId', validate('param', traceParam), async (c) => {
  const { traceId } = c.req.valid('param');
  const trace = (await fromReceiver(c, `/api/traces/${traceId}`, {})) as OtlpTracesRequest;
  if ((c.req.header('accept') ?? '').includes('application/json')) return c.json(trace);
  return c.html(waterfallPage(traceId, trace), 200, {
    // Markup and inline styles only: the page runs nothing.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  });
});

telemetryRoutes.get('/logs', validate('query', logsQuery), async (c) => c.json(await fromReceiver(c, '/api/logs', c.req.valid('query'))));
