import type { JWK } from 'jose';
import { ORDERS_SERVICE_TOKEN_ISSUER, SERVICE_TOKEN_HEADER, ServiceTokenSigner } from '../../shared/security/service-token';
import type { StepOutcome } from '../../shared/saga/saga';
import { recordCall } from '../../shared/adapters/cloudflare/service-metrics';
import { outcomeOfError } from '../../shared/metrics/red-metrics';
import { tracedCall } from '../../shared/observability/client-span';
import type { Span } from '../../shared/observability/span';
import { telemetryFor } from '../../shared/observability/telemetry';
import type { OrdersBindings } from './env';

/** One signer per configured key, per isolate (the key is imported once). */
const signers = new Map<string, ServiceTokenSigner>();

function signerFor(env: OrdersBindings): ServiceTokenSigner {
  const raw = env.SERVICE_TOKEN_PRIVATE_JWK;
  if (!raw) throw new Error('SERVICE_TOKEN_PRIVATE_JWK is not set: the saga cannot call catalog or payments');
  let signer = signers.get(raw);
  if (!signer) {
    signer = new ServiceTokenSigner(JSON.parse(raw) as JWK, ORDERS_SERVICE_TOKEN_ISSUER);
    signers.set(raw, signer);
  }
  return signer;
}

export interface ParticipantCall {
  service: 'catalog' | 'payments';
  path: string;
  body?: unknown;
  /** Every saga call carries one (`<orderId>:<step>`): the participant applies it once. */
  idempotencyKey: string;
  requestId: string;
  /** The trace to continue when no step span is recording (the request that placed the order). */
  traceparent?: string;
  /** The saga step's span: the call is a CLIENT span under it, and the participant continues from that. */
  span?: Span;
  timeoutMs: number;
}

/** What a participant answered: the outcome the saga core understands, and the JSON body if any. */
export interface ParticipantAnswer {
  outcome: StepOutcome;
  status: number;
  body: unknown;
}

/**
 * Which failures are worth retrying. 408, 425, 429 and 5xx say "later"; 401/403 mean this
 * service's key or trust is misconfigured, which an operator fixes, not the customer's order;
 * any other 4xx (409 out of stock, 422, 404 unknown product) is the participant's final no.
 */
export const isTransientStatus = (status: number) => status >= 500 || [401, 403, 408, 425, 429].includes(status);

/** The last segment of a problem+json `type` (`/problems/out-of-stock` → `out-of-stock`). */
function problemType(body: unknown): string | undefined {
  const type = body && typeof body === 'object' ? (body as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type.replace(/^.*\//, '') : undefined;
}

/** The problem+json `type` (or title) of a refusal, for the saga's timeline. */
function reasonOf(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const { type, title, detail } = body as Record<string, unknown>;
    const name = typeof type === 'string' && type !== 'about:blank' ? type.replace(/^.*\//, '') : typeof title === 'string' ? title : undefined;
    if (name) return typeof detail === 'string' ? `${name}: ${detail}` : name;
  }
  return `HTTP ${status}`;
}

/**
 * Calls a participant over its service binding with this service's own service token (issuer
 * stratus-orders), a deadline, and the step's idempotency key; never throws.
 */
export async function callParticipant(env: OrdersBindings, call: ParticipantCall): Promise<ParticipantAnswer> {
  const binding = call.service === 'catalog' ? env.CATALOG : env.PAYMENTS;
  const started = Date.now();
  // service_call_duration_seconds{from="orders"}: no lifetime is passed (the saga's object stays
  // alive past the call; a route's flush that is cut short is sent by the isolate's next flush).
  const timed = (outcome: 'ok' | 'error' | 'timeout') => recordCall(env, undefined, { from: 'orders', to: call.service, outcome, durationMs: Date.now() - started });
  try {
    // The same token for every saga call to this participant for half its life (service-token.ts);
    // the request id goes in x-request-id.
    const token = await signerFor(env).sign({ service: call.service, roles: [] });
    const headers = new Headers({
      [SERVICE_TOKEN_HEADER]: token,
      'idempotency-key': call.idempotencyKey,
      'x-request-id': call.requestId,
      'content-type': 'application/json',
    });
    if (call.traceparent) headers.set('traceparent', call.traceparent);
    const send = () => binding.fetch(`https://${call.service}.internal${call.path}`, { method: 'POST', headers, body: JSON.stringify(call.body ?? {}), signal: AbortSignal.timeout(call.timeoutMs) });
    // Under the step's span, the call is its CLIENT child (as the gateway's calls are:
    // shared/observability/client-span.ts; with tracing off `tracedCall` only sends) and the
    // participant's server span is that call's child.
    const response = call.span
      ? await tracedCall(telemetryFor('orders', env).tracer, call.span, headers, () => ({ name: `POST ${call.service}`, attributes: { 'http.request.method': 'POST', 'url.path': call.path, 'upstream.service': call.service, 'saga.idempotency_key': call.idempotencyKey } }), send)
      : await send();
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    timed(response.ok ? 'ok' : 'error');
    if (response.ok) return { outcome: { kind: 'ok' }, status: response.status, body };
    const error = reasonOf(response.status, body);
    if (isTransientStatus(response.status)) {
      const retryAfter = Number(response.headers.get('retry-after'));
      return { outcome: { kind: 'transient', error, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) }, status: response.status, body };
    }
    // "This key already did something else" is not a no: the key's first request may have taken
    // effect (a charge made by an earlier build, say). Retried until the deadline, then undone.
    if (problemType(body) === 'idempotency-key-reused') return { outcome: { kind: 'transient', error }, status: response.status, body };
    return { outcome: { kind: 'business', error }, status: response.status, body };
  } catch (error) {
    timed(outcomeOfError(error));
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { outcome: { kind: 'transient', error: message }, status: 0, body: null };
  }
}
