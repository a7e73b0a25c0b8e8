// Run with Bun (`bun bench/soak/object-storage.mjs <durable objects folder>`), by the soak run:
// Node 20 has no SQLite module and Bun, a dev dependency, has one (bun:sqlite).
//
// How many Durable Objects of each class hold storage, read from workerd's own files. Miniflare
// keeps each SQLite-backed object in `<folder>/<worker>-<Class>/<id>.sqlite` (with -wal and -shm
// beside it), and a file stays after the object calls `deleteAll()`: emptied (no tables at all,
// or only workerd's `_cf_METADATA`), not removed. So counting files counts every object ever
// made; an object has storage when one of its tables (the KV API's `_cf_KV`, or a table of its
// own SQL) has a row. Each file is opened read-only (workerd keeps its WAL; a reader never blocks
// it) and only again once it or its WAL changed (mtime and size), so a run of thousands of ended
// sagas reads only the objects that moved.
//
// Line protocol on stdin/stdout: each line in (any text) → one JSON line out:
// { "<worker>-<Class>": { "files": n, "withStorage": n }, ... }, answered in order.
import { Database } from 'bun:sqlite';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = process.argv[2];
if (!root) throw new Error('usage: bun bench/soak/object-storage.mjs <durable objects folder>');

/** path → { stamp, hasStorage } */
const seen = new Map();

const stampOf = (path) => {
  const parts = [path, `${path}-wal`].map((p) => {
    try {
      const s = statSync(p);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return '-';
    }
  });
  return parts.join('|');
};

function hasStorage(path) {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db
      .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('_cf_METADATA')")
      .all()
      .map((row) => row.name);
    // Names come from the file's own schema, quoted as identifiers.
    return tables.some((name) => db.query(`SELECT 1 FROM "${name.replaceAll('"', '""')}" LIMIT 1`).get() !== null);
  } finally {
    db.close();
  }
}

function scan() {
  const out = {};
  let folders = [];
  try {
    folders = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  } catch {
    return out; // not made yet: no object has run
  }
  for (const folder of folders) {
    const dir = join(root, folder.name);
    const counts = { files: 0, withStorage: 0 };
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.sqlite') || file === 'metadata.sqlite') continue;
      const path = join(dir, file);
      counts.files++;
      const stamp = stampOf(path);
      let known = seen.get(path);
      if (!known || known.stamp !== stamp) {
        try {
          known = { stamp, hasStorage: hasStorage(path) };
        } catch {
          // Busy or half-written this instant: counted as it was last seen, read again next time.
          known = { stamp: '', hasStorage: known?.hasStorage ?? true };
        }
        seen.set(path, known);
      }
      if (known.hasStorage) counts.withStorage++;
    }
    out[folder.name] = counts;
  }
  return out;
}

for await (const _line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(scan())}\n`);
}
