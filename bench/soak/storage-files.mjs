// Run with Bun (`bun bench/soak/storage-files.mjs <Miniflare folder>`), by the soak run: Node 20
// has no SQLite module and Bun, a dev dependency, has one (bun:sqlite). Everything the soak
// counts is read here, from workerd's own files, never through the suite: sampling must not
// load what it measures, and Miniflare's D1 proxy drops its connection when workerd is saturated.
//
// Durable Objects: how many of each class hold storage. Miniflare keeps each SQLite-backed object
// in `<folder>/do/<worker>-<Class>/<id>.sqlite` (with -wal and -shm beside it), and a file stays
// after the object calls `deleteAll()`: emptied (no tables at all, or only workerd's
// `_cf_METADATA`), not removed. So counting files counts every object ever made; an object has
// storage when one of its tables (the KV API's `_cf_KV`, or a table of its own SQL) has a row.
// A file is read again only once it or its WAL changed (mtime and size), so thousands of ended
// sagas cost a stat each.
//
// Never opened where workerd has it: each file is copied with its WAL and the copy is read, so
// nothing here can take a lock or rewrite a WAL index under workerd (whose SQLite runs behind its
// own VFS). A run that opened workerd's files read-only lost its workerd 2.5 minutes in; a later
// run reading copies lost it too (a segfault inside workerd's Durable Object container), so the
// reader was likely not the cause, but copies keep it out of the question. A copy made mid-write has a torn
// WAL tail, which SQLite drops by its checksums; a copy that cannot be read keeps the last answer.
//
// D1: every database is one SQLite file under `<folder>/d1/`, named by a hash; each is known by a
// table only it has (SIGNATURES), and every table's rows are counted.
//
// Line protocol on stdin/stdout: each line in (any text) → one JSON line out, in order:
// { objects: { "<worker>-<Class>": { files, withStorage } }, tables: { "<db>.<table>": rows }, unfinishedOrders }.
import { Database } from 'bun:sqlite';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = process.argv[2];
if (!root) throw new Error('usage: bun bench/soak/storage-files.mjs <Miniflare folder>');
const objectsRoot = join(root, 'do');
const d1Root = join(root, 'd1');
const scratch = mkdtempSync(join(tmpdir(), 'stratus-soak-read-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
process.on('SIGTERM', () => process.exit(0));

/** Opens a copy of `path` (and its WAL): workerd's own files are never opened here. */
function openCopy(path) {
  const copy = join(scratch, 'read.sqlite');
  for (const suffix of ['-wal', '-shm', '']) rmSync(`${copy}${suffix}`, { force: true });
  copyFileSync(path, copy);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
  return new Database(copy);
}

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
  const db = openCopy(path);
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

function scanObjects() {
  const out = {};
  let folders = [];
  try {
    folders = readdirSync(objectsRoot, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  } catch {
    return out; // not made yet: no object has run
  }
  for (const folder of folders) {
    const dir = join(objectsRoot, folder.name);
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

/** A table only that service's D1 has → the database's name. */
const SIGNATURES = { products: 'catalog', orders: 'orders', payments: 'payments', notifications: 'notifications', events: 'ledger', users: 'users' };
const UNFINISHED_ORDERS = "SELECT count(*) AS n FROM orders WHERE status NOT IN ('COMPLETED', 'CANCELLED')";

/** Every .sqlite file under `dir`, at any depth. */
function sqliteFiles(dir) {
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) =>
    entry.isDirectory() ? sqliteFiles(join(dir, entry.name)) : entry.name.endsWith('.sqlite') && entry.name !== 'metadata.sqlite' ? [join(dir, entry.name)] : [],
  );
}

function scanDatabases() {
  const tables = {};
  let unfinishedOrders = null;
  for (const path of sqliteFiles(d1Root)) {
    const db = openCopy(path);
    try {
      const names = db
        .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name != 'd1_migrations' ORDER BY name")
        .all()
        .map((row) => row.name);
      const service = names.map((name) => SIGNATURES[name]).find(Boolean);
      if (!service) continue;
      // One read transaction: the counts of one instant.
      db.transaction(() => {
        for (const name of names) tables[`${service}.${name}`] = db.query(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get().n;
        if (service === 'orders') unfinishedOrders = db.query(UNFINISHED_ORDERS).get().n;
      })();
    } finally {
      db.close();
    }
  }
  return { tables, unfinishedOrders };
}

for await (const _line of createInterface({ input: process.stdin })) {
  let answer;
  try {
    answer = { objects: scanObjects(), ...scanDatabases() };
  } catch (error) {
    answer = { error: String(error?.message ?? error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
