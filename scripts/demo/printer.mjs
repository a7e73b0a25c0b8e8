// How the demo talks: a heading per step with its progress ([3/9]) and the pattern it shows, one
// line per request and per answer, and a verdict. Colours only on a terminal (and never with
// NO_COLOR set), so a CI log or a file gets plain text.
import { styleText } from 'node:util';

const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (style) => (text) => (colour ? styleText(style, text) : text);
export const style = {
  bold: paint('bold'),
  dim: paint('dim'),
  cyan: paint('cyan'),
  green: paint('green'),
  red: paint('red'),
  yellow: paint('yellow'),
};

const BODY_EXCERPT = 110;

/** A body cut to one readable line: JSON compacted, long text ended with an ellipsis. */
export function excerpt(body, max = BODY_EXCERPT) {
  if (body === undefined || body === null || body === '') return '';
  const text = (typeof body === 'string' ? body : JSON.stringify(body)).replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const statusColour = (status) => (status >= 500 ? style.red : status >= 400 ? style.yellow : style.green);

export const printer = {
  line: (text = '') => console.log(text),
  heading(index, total, title, pattern) {
    console.log(`\n${style.bold(style.cyan(`[${index}/${total}]`))} ${style.bold(title)}`);
    console.log(`      ${style.dim(`pattern: ${pattern}`)}`);
  },
  /** `→ GET /path` then `← 200 (12 ms)  x-cache: MISS  {"id":…}`. */
  exchange(method, path, answer, headerNames = [], bodyOverride) {
    const headers = headerNames
      .map((name) => [name, answer.headers.get(name)])
      .filter(([, value]) => value !== null)
      .map(([name, value]) => `${style.dim(`${name}:`)} ${value}`);
    const body = excerpt(bodyOverride === undefined ? answer.body : bodyOverride);
    console.log(`      ${style.dim('→')} ${method} ${path}`);
    console.log(`      ${style.dim('←')} ${statusColour(answer.status)(String(answer.status))} ${style.dim(`(${answer.ms} ms)`)}  ${[...headers, body && style.dim(body)].filter(Boolean).join('  ')}`);
  },
  note: (text) => console.log(`      ${text}`),
  passed: (text) => console.log(`      ${style.green('✓')} ${text}`),
  failed: (text) => console.log(`      ${style.red('✗')} ${style.red(text)}`),
};
