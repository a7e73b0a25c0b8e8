// What the soak run samples over time: the row count of every table of every service's D1, how
// many Durable Objects of each class hold storage (object-storage.mjs, read from workerd's files),
// and the resident memory of workerd (from /proc).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, serviceWorkers } from '../../scripts/workers.mjs';
import { childPids } from '../lib/process-cpu.mjs';

/** Every table of every service's D1 (the catalog's canary shares the catalog's): `orders.inbox` → rows. */
export async function d1RowCounts(suite) {
  const counts = {};
  const done = new Set();
  for (const service of serviceWorkers()) {
    for (const d1 of service.d1) {
      if (done.has(d1.database_name)) continue;
      done.add(d1.database_name);
      const name = d1.database_name.replace(/^stratus-/, '');
      const db = suite.db(name);
      if (!db) continue;
      const tables = (
        await db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name != 'd1_migrations' ORDER BY name")
          .all()
      ).results.map((row) => row.name);
      // One batch per database: the counts of one instant.
      const results = await db.batch(tables.map((name) => db.prepare(`SELECT count(*) AS n FROM "${name}"`)));
      tables.forEach((table, i) => (counts[`${name}.${table}`] = results[i].results[0].n));
    }
  }
  return counts;
}

/**
 * The object counter (object-storage.mjs under Bun, a dev dependency), kept running so it
 * remembers which files it has read. `scan()` answers `{ "<worker>-<Class>": { files, withStorage } }`.
 */
export function startObjectCounter(objectsDir) {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'bun'), [join(ROOT, 'bench', 'soak', 'object-storage.mjs'), objectsDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the object counter exited (${code})`));
  });
  return {
    pid: child.pid,
    scan: () =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write('scan\n');
      }),
    close: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

/** The folder Miniflare keeps Durable Objects in when started with TMPDIR=`tmp`: `<tmp>/miniflare-*\/do`. */
export function objectsFolder(tmp) {
  const miniflare = readdirSync(tmp).filter((name) => name.startsWith('miniflare-'));
  if (miniflare.length !== 1) throw new Error(`expected one Miniflare folder in ${tmp}, found ${miniflare.length}`);
  return join(tmp, miniflare[0], 'do');
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
