// CPU time of processes, from /proc (Linux): what a benchmark's targets spent, as a figure that
// holds still while other work on a shared machine moves throughput about. Elsewhere (no /proc)
// every figure is 0 and the reports say n/a.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The direct children of `parent`. */
export function childPids(parent) {
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => Number(statFields(pid)?.[1]) === parent);
}

/** User plus system CPU time, in milliseconds, of `pids` together (a process that is gone counts 0). */
export function processCpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // After the name: state(0) ppid(1) … utime(11) stime(12).
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
