// Edits of a wrangler.toml that keep everything else byte for byte: comments, order, spacing.
// A TOML library would round-trip the data and drop the comments these files explain themselves
// with, so the two edits setup:cloudflare makes are done on the text, and checked by parsing.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'smol-toml';

const tomlString = (value) => JSON.stringify(String(value)); // a JSON string is a TOML basic string

/** The [[...d1_databases]] table whose database_name is `databaseName`: its database_id set to `id`. */
export function setDatabaseId(text, databaseName, id) {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === `database_name = ${tomlString(databaseName)}`);
  if (at === -1) throw new Error(`no D1 database named ${databaseName}`);
  for (let i = at + 1; i < lines.length && !lines[i].startsWith('['); i++) {
    if (/^database_id\s*=/.test(lines[i])) {
      lines[i] = `database_id = ${tomlString(id)}`;
      return lines.join('\n');
    }
  }
  throw new Error(`D1 database ${databaseName} has no database_id line`);
}

/** `key = value` in the [env.<env>.vars] table: replaced where it is, else added at the table's end. */
export function setEnvVar(text, env, key, value) {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.trim() === `[env.${env}.vars]`);
  if (header === -1) throw new Error(`no [env.${env}.vars] table`);
  let last = header;
  for (let i = header + 1; i < lines.length && !lines[i].startsWith('['); i++) {
    if (lines[i].startsWith(`${key} =`) || lines[i].startsWith(`${key}=`)) {
      lines[i] = `${key} = ${tomlString(value)}`;
      return lines.join('\n');
    }
    if (/^[A-Za-z0-9_]+\s*=/.test(lines[i])) last = i;
  }
  lines.splice(last + 1, 0, `${key} = ${tomlString(value)}`);
  return lines.join('\n');
}

/**
 * Applies `edit` to the file's text and writes it only when it changed (and still parses).
 * @returns {boolean} whether the file changed
 */
export function editConfig(path, edit) {
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) return false;
  parse(after);
  writeFileSync(path, after);
  return true;
}
