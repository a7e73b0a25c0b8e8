// What the soak run samples over time: the row count of every table of every service's D1 and
// how many Durable Objects of each class hold storage (storage-files.mjs, read from workerd's own
// files), and the resident memory of workerd (from /proc).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../scripts/workers.mjs';
import { childPids } from '../lib/process-cpu.mjs';

/**
 * The storage reader (storage-files.mjs under Bun, a dev dependency), kept running so it
 * remembers which object files it has read. `scan()` answers
 * `{ objects: { "<worker>-<Class>": { files, withStorage } }, tables: { "<db>.<table>": rows }, unfinishedOrders }`.
 */
export function startStorageReader(miniflareDir) {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'bun'), [join(ROOT, 'bench', 'soak', 'storage-files.mjs'), miniflareDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line);
    const waiter = waiting.shift();
    if (answer.error) waiter?.reject(new Error(`storage reader: ${answer.error}`));
    else waiter?.resolve(answer);
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the storage reader exited (${code})`));
  });
  return {
    pid: child.pid,
    scan: () =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write('scan\n');
      }),
    close: () => child.stdin.end(), // it exits at the end of its input and removes its copies
  };
}

/** The folder Miniflare keeps its storage in (Durable Objects in `do/`, D1 in `d1/`) when started with TMPDIR=`tmp`. */
export function miniflareFolder(tmp) {
  const miniflare = readdirSync(tmp).filter((name) => name.startsWith('miniflare-'));
  if (miniflare.length !== 1) throw new Error(`expected one Miniflare folder in ${tmp}, found ${miniflare.length}`);
  return join(tmp, miniflare[0]);
}

/** Every process under `pid` (children, their children, ...). */
function descendants(pid) {
  return childPids(pid).flatMap((child) => [child, ...descendants(child)]);
}

/** Resident memory (VmRSS) of every workerd process this process started, in bytes; null without /proc. */
export function workerdRssBytes() {
  let total = 0;
  let found = false;
  for (const pid of descendants(process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'workerd') continue;
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb) {
        total += Number(kb) * 1024;
        found = true;
      }
    } catch {
      // gone
    }
  }
  return found ? total : null;
}
