// The whole suites (scripts/local-suite.mjs: every worker in workerd plus the local QStash) a
// benchmark has running, so its end, an error, SIGINT/SIGTERM or its watchdog disposes each one:
// a workerd left behind would hold ports and CPU the next run measures.
import { startLocalSuite } from '../../scripts/local-suite.mjs';

const live = new Set();

/** startLocalSuite, the suite remembered until it is disposed. */
export async function startLiveSuite(options) {
  const suite = await startLocalSuite(options);
  live.add(suite);
  return suite;
}

export async function disposeSuite(suite) {
  live.delete(suite);
  await suite.dispose();
}

export async function disposeLive() {
  await Promise.allSettled([...live].map((suite) => suite.dispose()));
  live.clear();
}

/**
 * The backstop of a run: past `budgetMs`, or on SIGINT/SIGTERM, every live suite is disposed and
 * the process exits 1. Answers the function that disarms the watchdog once the run is over.
 */
export function guardRun(name, budgetMs) {
  const stop = async (why) => {
    console.error(why);
    await disposeLive();
    process.exit(1);
  };
  const watchdog = setTimeout(() => stop(`${name} benchmark still running after ${Math.round(budgetMs / 1000)} s; stopping`), budgetMs);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop(`${signal}: disposing the suite`));
  return () => clearTimeout(watchdog);
}
