// Cron expressions as QStash schedules take them: five fields (minute, hour, day of month, month,
// day of week), each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a list of those,
// evaluated in UTC. Hand-written (no cron library is among the dependencies, and the rules fit in
// a page); names (`MON`, `JAN`), `?`, `L`, `W`, `#` and a `CRON_TZ=` prefix are refused rather
// than guessed at.

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 }, // 0 and 7 are both Sunday
];

/**
 * Parses an expression; throws an Error naming the bad field. The result holds each field's
 * allowed values and whether day of month / day of week were restricted (standard cron: when both
 * are, a day matching either one fires).
 */
export function parseCron(expression) {
  const text = String(expression).trim();
  if (/^CRON_TZ=/i.test(text)) throw new Error(`cron "${text}": a CRON_TZ time zone is not supported by the local server; write the time in UTC`);
  const parts = text.split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${text}" must have five fields (minute hour day-of-month month day-of-week), not ${parts.length}`);
  const sets = parts.map((part, index) => parseField(part, FIELDS[index], text));
  const weekdays = sets[4];
  if (weekdays.has(7)) weekdays.add(0);
  return { minutes: sets[0], hours: sets[1], days: sets[2], months: sets[3], weekdays, anyDay: parts[2] === '*', anyWeekday: parts[4] === '*' };
}

function parseField(part, field, text) {
  const values = new Set();
  for (const item of part.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!match) throw new Error(`cron "${text}": ${field.name} "${item}" is not a number, range, step or *`);
    const [, , from, to, step] = match;
    const low = from === undefined ? field.min : Number(from);
    const high = to !== undefined ? Number(to) : from === undefined || step !== undefined ? field.max : low;
    const by = step === undefined ? 1 : Number(step);
    if (low < field.min || high > field.max || low > high || by < 1) throw new Error(`cron "${text}": ${field.name} "${item}" is outside ${field.min}-${field.max}`);
    for (let value = low; value <= high; value += by) values.add(value);
  }
  return values;
}

function dayMatches(cron, date) {
  const inMonth = cron.days.has(date.getUTCDate());
  const inWeek = cron.weekdays.has(date.getUTCDay());
  if (cron.anyDay && cron.anyWeekday) return true;
  if (cron.anyDay) return inWeek;
  if (cron.anyWeekday) return inMonth;
  return inMonth || inWeek;
}

/** The first minute strictly after `afterMs` that the expression fires at (unix ms), or undefined within 5 years. */
export function nextCronTime(cron, afterMs) {
  const date = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
  const limit = afterMs + 5 * 366 * 86_400_000;
  while (date.getTime() <= limit) {
    if (!cron.months.has(date.getUTCMonth() + 1)) {
      date.setUTCMonth(date.getUTCMonth() + 1, 1);
      date.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, date)) {
      date.setUTCDate(date.getUTCDate() + 1);
      date.setUTCHours(0, 0, 0, 0);
    } else if (!cron.hours.has(date.getUTCHours())) {
      date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0);
    } else if (!cron.minutes.has(date.getUTCMinutes())) {
      date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0);
    } else {
      return date.getTime();
    }
  }
  return undefined;
}
