// QStash's notions of time: durations in headers ("50s", "3m", "10h", "1d"), the default retry
// backoff and the Upstash-Retry-Delay expression language.

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Upstash-Delay / Upstash-Timeout values: a whole number and one unit, `s`, `m`, `h` or `d`
 * ("50s", "3m", "10h", "1d"), the forms QStash documents. Anything else ("500ms", "1.5s",
 * "1h30m", a bare "10") is undefined and the publish is refused with 400: whether the real API
 * accepts other forms is not documented, so this server takes the stricter side and code that
 * passes here cannot depend on an undocumented form. Returns milliseconds.
 */
export function parseDuration(text) {
  const match = /^(\d+)([smhd])$/.exec(String(text).trim());
  return match ? Number(match[1]) * UNIT_MS[match[2]] : undefined;
}

/**
 * QStash's default delay before retry number n (n = 1 for the first retry): min(1 day, e^(2.5 n))
 * seconds, so 12 s, 2 m 28 s, 30 m 8 s, 6 h 7 m, then a day. In milliseconds.
 */
export function defaultBackoffMs(n) {
  return Math.min(86_400, Math.exp(2.5 * n)) * 1_000;
}

const FUNCTIONS = {
  pow: [2, 2, Math.pow],
  sqrt: [1, 1, Math.sqrt],
  abs: [1, 1, Math.abs],
  exp: [1, 1, Math.exp],
  floor: [1, 1, Math.floor],
  ceil: [1, 1, Math.ceil],
  round: [1, 1, Math.round],
  min: [1, Infinity, Math.min],
  max: [1, Infinity, Math.max],
};

/**
 * Compiles an Upstash-Retry-Delay expression (milliseconds; numbers, `retried`, + - * / %,
 * parentheses and pow sqrt abs exp floor ceil round min max, as QStash documents it) into
 * `(retried) => ms`. `retried` is how many retries came before the one being scheduled (0 for the
 * first retry), so "1000 * (1 + retried)" waits 1 s, 2 s, 3 s. Throws on anything else: the
 * publish is then refused with 400 instead of failing later.
 */
export function compileRetryDelay(expression) {
  const tokens = String(expression).match(/\d+(\.\d+)?|[A-Za-z_]\w*|[-+*/%(),]|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected) => {
    const token = tokens[at];
    if (expected !== undefined && token !== expected) throw new Error(`expected "${expected}" but found ${token ? `"${token}"` : 'the end'} in retry delay "${expression}"`);
    at++;
    return token;
  };

  const sum = () => {
    let node = product();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const [left, right] = [node, product()];
      node = op === '+' ? (r) => left(r) + right(r) : (r) => left(r) - right(r);
    }
    return node;
  };
  const product = () => {
    let node = unary();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const op = take();
      const [left, right] = [node, unary()];
      node = op === '*' ? (r) => left(r) * right(r) : op === '/' ? (r) => left(r) / right(r) : (r) => left(r) % right(r);
    }
    return node;
  };
  const unary = () => {
    if (peek() === '-') {
      take();
      const inner = unary();
      return (r) => -inner(r);
    }
    if (peek() === '+') take();
    return primary();
  };
  const primary = () => {
    const token = take();
    if (token === undefined) throw new Error(`retry delay "${expression}" ends too early`);
    if (/^\d/.test(token)) {
      const value = Number(token);
      return () => value;
    }
    if (token === '(') {
      const inner = sum();
      take(')');
      return inner;
    }
    if (token === 'retried') return (r) => r;
    const fn = FUNCTIONS[token];
    if (!fn) throw new Error(`unknown name "${token}" in retry delay "${expression}"`);
    take('(');
    const args = [sum()];
    while (peek() === ',') {
      take();
      args.push(sum());
    }
    take(')');
    const [minArgs, maxArgs, impl] = fn;
    if (args.length < minArgs || args.length > maxArgs) throw new Error(`${token}() takes ${minArgs === maxArgs ? minArgs : `${minArgs} or more`} arguments in retry delay "${expression}"`);
    return (r) => impl(...args.map((arg) => arg(r)));
  };

  const compiled = sum();
  if (at !== tokens.length) throw new Error(`unexpected "${tokens[at]}" in retry delay "${expression}"`);
  return (retried) => {
    const ms = compiled(retried);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  };
}
