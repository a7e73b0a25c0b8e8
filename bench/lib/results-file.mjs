// bench/RESULTS.md, one `## ` section per benchmark: a run replaces its own section and nothing else.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ROOT } from '../../scripts/workers.mjs';

/**
 * Writes `text` (a section: its first line is its `## ` heading) into `file`, replacing the
 * section of that heading (up to the next `## ` heading or the end), or appending it.
 */
export function writeSection(file, text) {
  const heading = text.split('\n', 1)[0];
  if (!heading.startsWith('## ')) throw new Error(`a results section starts with its "## " heading, not ${JSON.stringify(heading)}`);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped}\\n[\\s\\S]*?(?=^## |(?![\\s\\S]))`, 'm').exec(before);
  const after = match
    ? before.slice(0, match.index) + text + (match.index + match[0].length < before.length ? '\n' : '') + before.slice(match.index + match[0].length)
    : `${before.trimEnd()}\n\n${text}`;
  writeFileSync(file, after);
}

/**
 * Which code a run measured: suites bundle the working tree as it is when they start, so the
 * commit, and whether the code had uncommitted changes. A copy outside git (a `git archive` of a
 * commit, to bench it while others edit) may name itself in BENCH_CODE_NOTE.
 */
export function codeNote() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('status', '--porcelain', '--', 'workers', 'shared', 'scripts', 'migrations', 'wrangler.toml');
    return changed ? `commit ${commit} with uncommitted changes to the workers, shared/ or scripts/` : `commit ${commit}`;
  } catch {
    return process.env.BENCH_CODE_NOTE || 'not a git checkout';
  }
}
