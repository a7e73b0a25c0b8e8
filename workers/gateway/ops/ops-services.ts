import type { Context } from 'hono';
import { HttpError } from '../../../shared/http/problem';
import { FORWARDED_PREFIX_HEADERS } from '../../../shared/http/public-path';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { tracedCall } from '../../../shared/observability/client-span';
import { withPropagation } from '../../../shared/observability/propagation';
import { gatewayConfig } from '../config';
import type { GatewayBindings, ServiceBindings } from '../env';
import { platformOf } from '../platform';
import type { ServiceTarget } from '../traffic/route-versions';
import { serviceTokenHeader } from '../auth/service-tokens';

/**
 * The service an operator call goes to: a binding (the service of that name), or one of
 * serviceTargets() (traffic/route-versions.ts), whose name and token audience may differ from its
 * binding's (a canary runs the catalog's code, so its tokens name the catalog).
 */
export type OpsTarget = keyof ServiceBindings | ServiceTarget;

const targetOf = (to: OpsTarget): ServiceTarget => (typeof to === 'string' ? { name: to.toLowerCase(), binding: to, audience: to.toLowerCase() } : to);

/** What opsForward answers: the service's own status and JSON body, to hand to the operator as they are. */
export interface OpsAnswer {
  status: number;
  /** undefined when the service answered no body. */
  body: unknown;
  /** The service's content type (`application/json`, or `application/problem+json` for a problem). */
  contentType: string;
  /** The headers an operator's client follows, when the service sent them (a 202's Location, Retry-After). */
  headers: Record<string, string>;
}

/** Headers of a service's answer that pass through to the operator. */
const FORWARDED_ANSWER_HEADERS = ['location', 'retry-after'];

export interface OpsForwardOptions {
  /** POST (the default: the endpoint may start work), or another method. */
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Deadline for the service's answer; default READY_TIMEOUT_MS (a long job needs more). */
  timeoutMs?: number;
  /** A JSON body; none by default. */
  body?: unknown;
  /**
   * Public and upstream prefixes (shared/http/public-path.ts), so a problem the service answers
   * names the operator's path (`/_ops/...`) as its `instance`, not the internal one.
   */
  prefixes?: { public: string; upstream: string };
}

/**
 * A call to a service's operator endpoint (e.g. the ledger's projection rebuild, POST, and its
 * progress, GET), with a service token carrying the ops scope. The service's status and JSON body
 * come back as they are (a 404 stays a 404, a 409 a 409, a 202 with its Location) for the
 * operator to see. What is the gateway's trouble, not the
 * operator's, is a 502 naming the service: it cannot be reached or did not answer in time, it
 * refused the gateway's own token (401/403: a key or configuration fault, not the admin token),
 * or its answer is not JSON. Never retried: the endpoint may start work.
 */
export async function opsForward(c: Context<AppEnv<GatewayBindings>>, to: OpsTarget, path: string, options: OpsForwardOptions = {}): Promise<OpsAnswer> {
  const { name: service, binding, audience } = targetOf(to);
  const headers = withPropagation(new Headers(options.body === undefined ? {} : { 'content-type': 'application/json' }), c.get('requestId'), c.get('trace'));
  if (options.prefixes) {
    headers.set(FORWARDED_PREFIX_HEADERS.public, options.prefixes.public);
    headers.set(FORWARDED_PREFIX_HEADERS.upstream, options.prefixes.upstream);
  }
  const token = await serviceTokenHeader(c.env, { service: audience, identity: null, scope: 'ops' });
  for (const [name, value] of Object.entries(token)) headers.set(name, value);
  const timeoutMs = options.timeoutMs ?? gatewayConfig(c.env).READY_TIMEOUT_MS;
  let response: Response;
  let text: string;
  try {
    const method = options.method ?? 'POST';
    // A span of the operator's request, the service's own span its child.
    response = await tracedCall(
      c.get('telemetry').tracer,
      c.get('trace'),
      headers,
      () => ({ name: `${method} ${service}`, attributes: { 'http.request.method': method, 'url.path': path, 'upstream.service': service } }),
      () =>
        platformOf(c.env).service(binding).fetch(
          new Request(`https://${service}.internal${path}`, {
            method,
            headers,
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
            signal: AbortSignal.timeout(timeoutMs),
          }),
        ),
    );
    text = await response.text();
  } catch (error) {
    c.get('log').warn('ops call unreachable', { upstream: service, path, timeoutMs, error });
    throw new HttpError(502, { detail: `The ${service} service could not be reached, or did not answer within ${timeoutMs} ms.` });
  }
  if (response.status === 401 || response.status === 403) {
    c.get('log').warn('ops call refused', { upstream: service, path, status: response.status });
    throw new HttpError(502, { detail: `The ${service} service refused the gateway's call (${response.status}).` });
  }
  const contentType = response.headers.get('content-type') ?? '';
  const answerHeaders = Object.fromEntries(FORWARDED_ANSWER_HEADERS.flatMap((name) => (response.headers.has(name) ? [[name, response.headers.get(name)!]] : [])));
  // No body (204, say): the status alone is the answer.
  if (text === '') return { status: response.status, body: undefined, contentType, headers: answerHeaders };
  let body: unknown;
  try {
    if (!/^application\/(problem\+)?json\b/i.test(contentType)) throw new Error(`content type ${contentType || 'none'}`);
    body = JSON.parse(text);
  } catch (error) {
    c.get('log').warn('ops call answered no JSON', { upstream: service, path, status: response.status, error });
    throw new HttpError(502, { detail: `The ${service} service answered ${response.status} without a JSON body.` });
  }
  return { status: response.status, body, contentType, headers: answerHeaders };
}

/**
 * opsForward for a call that must succeed (the orders service's /sagas, a chaos switch): any
 * answer but a 2xx is the gateway's trouble too, a 502 naming the service.
 */
export async function opsCall(c: Context<AppEnv<GatewayBindings>>, to: OpsTarget, path: string, options: OpsForwardOptions = {}): Promise<OpsAnswer> {
  const answer = await opsForward(c, to, path, options);
  if (answer.status < 200 || answer.status >= 300) {
    const service = targetOf(to).name;
    c.get('log').warn('ops call refused', { upstream: service, path, status: answer.status });
    throw new HttpError(502, { detail: `The ${service} service answered ${answer.status}.` });
  }
  return answer;
}

/** A GET of a service's operator endpoint that must succeed with JSON: the parsed body. */
export async function opsGet<T>(c: Context<AppEnv<GatewayBindings>>, to: OpsTarget, path: string): Promise<T> {
  const answer = await opsCall(c, to, path, { method: 'GET' });
  if (answer.body === undefined) throw new HttpError(502, { detail: `The ${targetOf(to).name} service answered ${answer.status} without a body.` });
  return answer.body as T;
}
