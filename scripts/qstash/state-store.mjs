// Where the local QStash keeps what must survive a restart (messages waiting, delayed, between
// retries or in flight; the DLQ; queues; URL groups; deduplication ids; signing keys): records by
// kind and id, in a folder. Every change is one line appended to a journal before the API
// answers, so a publish that got its 201 is on disk even if the process is killed a moment later;
// the journal is folded into a snapshot (written to a temp file and renamed over the old one, so a
// crash leaves the old snapshot or the new, never half of one) when it has grown well past the
// live state, and on every start.
//
// Hand-written rather than SQLite or a KV library: node 20 has no built-in SQLite, and the needs
// are a map of JSON records with put/delete, which one append-only file and one rename cover.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const SNAPSHOT = 'snapshot.json';
const LOCK = 'lock';
const JOURNAL = 'journal.jsonl';
const FORMAT = 1;
/** Compact once the journal has this many lines and more than twice as many as live records. */
const COMPACT_AFTER_LINES = 2_000;

export class StateStore {
  #dir;
  #records = new Map(); // kind -> Map(id -> record): the live state, what a snapshot holds
  #journal;
  #journalLines = 0;

  /** Opens (creating) the folder, reads what an earlier run left, and compacts it. */
  constructor(dir) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
    lock(dir);
    try {
      this.#load();
      this.compact();
    } catch (error) {
      unlock(dir);
      throw error;
    }
  }

  /** The records of one kind, as the last run left them (id -> record). */
  all(kind) {
    return new Map(this.#records.get(kind) ?? []);
  }

  put(kind, id, record) {
    this.#kind(kind).set(id, record);
    this.#append({ op: 'put', kind, id, record });
  }

  delete(kind, id) {
    if (!this.#kind(kind).delete(id)) return;
    this.#append({ op: 'delete', kind, id });
  }

  /** Writes the live state as the snapshot (temp file, fsync, rename) and starts an empty journal. */
  compact() {
    const snapshot = { format: FORMAT, records: Object.fromEntries([...this.#records].map(([kind, records]) => [kind, Object.fromEntries(records)])) };
    writeAtomically(join(this.#dir, SNAPSHOT), JSON.stringify(snapshot));
    if (this.#journal !== undefined) closeSync(this.#journal);
    // The snapshot now holds every journal line; should the process die before the empty journal
    // replaces the old one, replaying the old one on top of the snapshot ends in the same state.
    writeAtomically(join(this.#dir, JOURNAL), '');
    this.#journal = openSync(join(this.#dir, JOURNAL), 'a');
    this.#journalLines = 0;
  }

  close() {
    if (this.#journal === undefined) return;
    closeSync(this.#journal);
    this.#journal = undefined;
    unlock(this.#dir);
  }

  #kind(kind) {
    let records = this.#records.get(kind);
    if (!records) this.#records.set(kind, (records = new Map()));
    return records;
  }

  #append(entry) {
    if (this.#journal === undefined) return; // closed: the server is stopping, nothing more is kept
    writeSync(this.#journal, `${JSON.stringify(entry)}\n`);
    this.#journalLines++;
    const live = [...this.#records.values()].reduce((sum, records) => sum + records.size, 0);
    if (this.#journalLines >= COMPACT_AFTER_LINES && this.#journalLines > 2 * live) this.compact();
  }

  #load() {
    const snapshotFile = join(this.#dir, SNAPSHOT);
    if (existsSync(snapshotFile)) {
      const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8'));
      if (snapshot.format !== FORMAT) throw new Error(`${snapshotFile} is in format ${snapshot.format}, not ${FORMAT}; move it away to start empty`);
      for (const [kind, records] of Object.entries(snapshot.records)) this.#records.set(kind, new Map(Object.entries(records)));
    }
    const journalFile = join(this.#dir, JOURNAL);
    if (!existsSync(journalFile)) return;
    const lines = readFileSync(journalFile, 'utf8').split('\n');
    for (const [index, line] of lines.entries()) {
      if (line === '') continue;
      let entry;
      try {
        entry = JSON.parse(line);
      } catch (error) {
        // Only the last line can be cut short (the process died mid-write); anywhere else the
        // file is damaged and starting would silently drop state.
        if (index >= lines.length - 2) break;
        throw new Error(`${journalFile} line ${index + 1} is not JSON (${error.message}); move the folder away to start empty`);
      }
      if (entry.op === 'put') this.#kind(entry.kind).set(entry.id, entry.record);
      else if (entry.op === 'delete') this.#kind(entry.kind).delete(entry.id);
    }
  }
}

/**
 * One server per folder: two appending to one journal would interleave their states. The lock
 * file holds the owner's pid; one left by a process that is gone (killed) is taken over.
 */
function lock(dir) {
  const file = join(dir, LOCK);
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(file, 'utf8'));
    if (owner !== process.pid && isAlive(owner)) throw new Error(`${dir} is in use by another local QStash (pid ${owner}); stop it or give this one another --state-dir`);
    rmSync(file, { force: true });
  }
}

function unlock(dir) {
  const file = join(dir, LOCK);
  if (existsSync(file) && Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function writeAtomically(file, text) {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
