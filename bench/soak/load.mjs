// The soak run's load: orders and ledger commands at a steady rate for the whole run, through the
// gateway as clients send them. Open loop (a request is due every 1/rate s, whether or not the
// last one answered) with a cap on requests in flight, so a slow suite is offered the same load and
// shows it as a backlog (`behind`) instead of the load quietly easing off.
import { seededRandom } from '../../scripts/qstash-server.mjs';
import { PRODUCTS } from '../orders/orders.mjs';

/** The test card payment processors document as declined (decided when it is tokenized). */
const DECLINED_CARD = '4000000000000002';

/**
 * Calls `job(i)` for i = 0, 1, 2, ... at `ratePerS`, at most `maxInFlight` at once, until
 * stopped. `job` answers an outcome label (a status, `timeout`); each is counted.
 */
export function pacedLoad({ ratePerS, maxInFlight, job }) {
  const startedAt = performance.now();
  const outcomes = {};
  let launched = 0;
  let inFlight = 0;
  let peakBehind = 0;
  const running = new Set();
  const tick = () => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * ratePerS);
    peakBehind = Math.max(peakBehind, due - launched);
    while (launched < due && inFlight < maxInFlight) {
      const i = launched++;
      inFlight++;
      const call = Promise.resolve()
        .then(() => job(i))
        .catch((error) => (error?.name === 'TimeoutError' ? 'timeout' : `error: ${error?.message ?? error}`))
        .then((outcome) => {
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          inFlight--;
          running.delete(call);
        });
      running.add(call);
    }
  };
  const timer = setInterval(tick, 50);
  return {
    stats: () => ({ launched, inFlight, behind: Math.max(0, Math.floor(((performance.now() - startedAt) / 1000) * ratePerS) - launched), peakBehind, outcomes: { ...outcomes } }),
    /** Stops launching and waits for the requests in flight. */
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...running]);
    },
  };
}

/** A bearer per user, signed once; users of past rotations are forgotten (the soak's own memory stays flat too). */
function bearers(suite) {
  const cache = new Map();
  return (user, generation) => {
    if (!cache.has(user)) {
      for (const [key, entry] of cache) if (entry.generation < generation - 1) cache.delete(key);
      cache.set(user, { generation, token: suite.bearer(user) });
    }
    return cache.get(user).token;
  };
}

async function send(suite, method, path, { bearer, key, body }) {
  const response = await fetch(suite.url(path), {
    method,
    headers: { authorization: bearer, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  await response.arrayBuffer(); // read to its end: a body cancelled half-read closes the connection under workerd
  return response.status;
}

/**
 * Orders: 1 or 2 lines of the bench products; a share with the declined test card (the saga
 * compensates: a release, a void, a CANCELLED order); a share sent twice with the same
 * Idempotency-Key, as a client retrying after a lost answer does. The callers rotate: every
 * `rotateMs` a new set of `usersPerRotation` users takes over, so rate-limiter objects keep being
 * made for new callers and the old ones go quiet (their own alarm must clean them up).
 */
export function orderJob(suite, { runId, seed, rotateMs, usersPerRotation, declinedShare, repeatShare, startedAt }) {
  const random = seededRandom(seed);
  const bearerOf = bearers(suite);
  return async (i) => {
    const generation = Math.floor((Date.now() - startedAt) / rotateMs);
    const user = `usr_soak_${generation}_${i % usersPerRotation}`;
    const lines = random() < 0.3 ? 2 : 1;
    const items = new Map();
    for (let l = 0; l < lines; l++) {
      const product = PRODUCTS[Math.floor(random() * PRODUCTS.length)].id;
      items.set(product, (items.get(product) ?? 0) + 1 + Math.floor(random() * 3));
    }
    const declined = random() < declinedShare;
    const repeat = random() < repeatShare;
    const body = { items: [...items].map(([productId, quantity]) => ({ productId, quantity })), ...(declined ? { paymentMethod: { card: DECLINED_CARD } } : {}) };
    const request = { bearer: await bearerOf(user, generation), key: `soak-${runId}-order-${i}`, body };
    const status = await send(suite, 'POST', '/api/orders', request);
    if (repeat && status === 202) {
      const again = await send(suite, 'POST', '/api/orders', request);
      return again === 202 ? '202 (+ repeat 202)' : `202 (+ repeat ${again})`;
    }
    return String(status);
  };
}

/** Opens `accounts` ledger accounts, each held by its own user, with a first deposit. */
export async function openLedgerAccounts(suite, { accounts }) {
  const opened = [];
  for (let k = 0; k < accounts; k++) {
    const user = `usr_soak_ledger_${k}`;
    const bearer = await suite.bearer(user);
    const response = await fetch(suite.url('/api/ledger/accounts'), {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ owner: user, currency: 'USD', initialDepositCents: 100_000 }),
      signal: AbortSignal.timeout(30_000),
    });
    const json = await response.json();
    if (response.status !== 201) throw new Error(`open ledger account: ${response.status} ${JSON.stringify(json)}`);
    opened.push({ id: json.accountId, bearer });
  }
  return opened;
}

/**
 * Ledger commands on the opened accounts: deposits, and a share of withdrawals (smaller, so the
 * accounts rarely run dry; a 422 for insufficient funds is an outcome like any other), each with
 * an Idempotency-Key (each key is a `command_keys` row until its retention), a share sent twice.
 */
export function ledgerJob(suite, { accounts, runId, seed, withdrawShare, repeatShare }) {
  const random = seededRandom(seed);
  return async (i) => {
    const account = accounts[i % accounts.length];
    const withdraw = random() < withdrawShare;
    const repeat = random() < repeatShare;
    const path = `/api/ledger/accounts/${account.id}/${withdraw ? 'withdrawals' : 'deposits'}`;
    const request = { bearer: account.bearer, key: `soak-${runId}-ledger-${i}`, body: { amountCents: withdraw ? 300 : 500 } };
    const status = await send(suite, 'POST', path, request);
    if (repeat && status < 300) {
      const again = await send(suite, 'POST', path, request);
      return `${status} (+ repeat ${again})`;
    }
    return String(status);
  };
}
