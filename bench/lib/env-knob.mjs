// A benchmark's knob from the environment (BENCH_ROUNDS, BENCH_DURATION_S, ...): every run reads
// its knobs the same way and refuses a bad value before it starts anything.

/**
 * The positive number in `process.env[name]`, else `fallback`; throws when it is not positive
 * (or, with `integer`, not a whole number), naming the variable.
 */
export function positiveKnob(name, fallback, { integer = false } = {}) {
  const value = Number(process.env[name] ?? fallback);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${process.env[name]}`);
  return value;
}
