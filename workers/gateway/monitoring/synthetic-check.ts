import type { SyntheticStep } from './synthetic-metrics';

export interface SyntheticCheckOptions {
  /** Calls the gateway: in-process (the app's own fetch) or over HTTP to a base URL. */
  call(path: string, init?: RequestInit): Promise<Response>;
  email: string;
  password: string;
  /** How long to wait for the order to reach COMPLETED. */
  orderTimeoutMs: number;
  /** Between two reads of the order; default 250 ms. */
  pollIntervalMs?: number;
  record(step: SyntheticStep, result: 'success' | 'failure', durationMs: number): void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The order's idempotency key; a new one per run by default. */
  idempotencyKey?: string;
}

export interface SyntheticCheckResult {
  ok: boolean;
  /** The step that failed, and why. */
  failedStep?: SyntheticStep;
  detail?: string;
  orderId?: string;
}

class StepFailed extends Error {
  constructor(readonly step: SyntheticStep, detail: string) {
    super(detail);
  }
}

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;

/**
 * A robot customer's path through the shop, as a person takes it: sign in, read the catalog,
 * order the product with the most stock (one unit, the default test card) and wait for the saga
 * to reach COMPLETED. Each step is timed and recorded (success or failure), the first failure
 * ends the run, and `check` records the run as a whole. Only public routes, as a customer calls
 * them, so it works the same against this gateway or a deployed one.
 */
export async function runSyntheticCheck(options: SyntheticCheckOptions): Promise<SyntheticCheckResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  let orderId: string | undefined;

  const step = async <T>(name: SyntheticStep, run: () => Promise<T>): Promise<T> => {
    const begun = now();
    try {
      const value = await run();
      options.record(name, 'success', now() - begun);
      return value;
    } catch (error) {
      options.record(name, 'failure', now() - begun);
      throw error instanceof StepFailed ? error : new StepFailed(name, error instanceof Error ? error.message : String(error));
    }
  };
  const expectStatus = async (name: SyntheticStep, response: Response, ok: number[]) => {
    if (ok.includes(response.status)) return;
    await response.body?.cancel();
    throw new StepFailed(name, `HTTP ${response.status}`);
  };

  try {
    const token = await step('login', async () => {
      const response = await options.call('/api/users/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: options.email, password: options.password }),
      });
      await expectStatus('login', response, [200]);
      return (await json<{ accessToken: string }>(response)).accessToken;
    });
    const auth = { authorization: `Bearer ${token}` };

    const productId = await step('catalog', async () => {
      const response = await options.call('/api/catalog/products?limit=20', { headers: auth });
      await expectStatus('catalog', response, [200]);
      const { items } = await json<{ items: { id: string; stock: number }[] }>(response);
      const best = [...items].sort((a, b) => b.stock - a.stock)[0];
      if (!best || best.stock < 1) throw new StepFailed('catalog', 'no product in stock on the first page');
      return best.id;
    });

    orderId = await step('order', async () => {
      const response = await options.call('/api/orders', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': options.idempotencyKey ?? `synthetic-${crypto.randomUUID()}` },
        body: JSON.stringify({ items: [{ productId, quantity: 1 }] }),
      });
      await expectStatus('order', response, [200, 202]);
      return (await json<{ orderId: string }>(response)).orderId;
    });

    await step('complete', async () => {
      const deadline = now() + options.orderTimeoutMs;
      for (;;) {
        const response = await options.call(`/api/orders/${encodeURIComponent(orderId!)}`, { headers: auth });
        await expectStatus('complete', response, [200]);
        const { status } = await json<{ status: string }>(response);
        if (status === 'COMPLETED') return;
        if (status === 'CANCELLED') throw new StepFailed('complete', 'the order was CANCELLED');
        if (now() >= deadline) throw new StepFailed('complete', `still ${status} after ${options.orderTimeoutMs} ms`);
        await sleep(options.pollIntervalMs ?? 250);
      }
    });
    options.record('check', 'success', now() - started);
    return { ok: true, orderId };
  } catch (error) {
    options.record('check', 'failure', now() - started);
    const failed = error instanceof StepFailed ? error : new StepFailed('check', String(error));
    return { ok: false, failedStep: failed.step, detail: failed.message, ...(orderId ? { orderId } : {}) };
  }
}
