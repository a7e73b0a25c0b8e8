import { timeout } from '../resilience/timeout';

/**
 * Readiness: run every dependency check at once, each under a deadline, and report per
 * dependency in docs/api.md's shape. A check is a function that resolves when the dependency answers
 * and throws (with a reason) when it does not.
 */

export type ReadinessCheck = (signal: AbortSignal) => Promise<void | Record<string, CheckResult>>;

export interface CheckResult {
  status: 'up' | 'down';
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, CheckResult>;
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * A check may return nested results (a service reporting its own dependencies); they are listed
 * as `<check>.<dependency>` so one report shows exactly which database of which service is down.
 */
export async function checkReadiness(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult][]> => {
      try {
        // The same deadline policy as any upstream call: the check's signal is really aborted.
        const nested = await timeout(timeoutMs).execute(({ signal }) => check(signal));
        const rows: [string, CheckResult][] = [[name, { status: 'up' }]];
        for (const [dependency, result] of Object.entries(nested ?? {})) rows.push([`${name}.${dependency}`, result]);
        return rows;
      } catch (error) {
        const rows: [string, CheckResult][] = [[name, { status: 'down', error: reason(error) }]];
        // A check may reject with no reason at all (`reject()`); that is a down check, not a crash.
        const nested = (error as { checks?: Record<string, CheckResult> } | null | undefined)?.checks;
        for (const [dependency, result] of Object.entries(nested ?? {})) rows.push([`${name}.${dependency}`, result]);
        return rows;
      }
    }),
  );
  const flat = Object.fromEntries(entries.flat());
  const ready = Object.values(flat).every((result) => result.status === 'up');
  return { status: ready ? 'ready' : 'not_ready', checks: flat };
}

export const readinessResponse = (report: ReadinessReport): Response =>
  Response.json(report, { status: report.status === 'ready' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
