/**
 * Tag invalidation for caches that cannot purge by tag (the Cache API cannot enumerate its keys;
 * an L1 copy lives in every data centre). Each tag has a version held by an authority shared by
 * all isolates; an answer is stored with the versions of its tags as they were read BEFORE its
 * upstream fetch, and a later read that finds a different version treats it as a MISS. Purging is
 * a bump: nothing has to be found or deleted, everywhere at once.
 *
 * Reading the authority on every request would put it on the hot path (docs/architecture.md, decision 2), so
 * each isolate keeps the versions it read for `refreshMs` (a second by default): a purge is seen
 * at once by the isolate that made it (its own copy is updated from the bump's answer) and within
 * `refreshMs` by every other.
 */
export interface TagAuthority {
  version(tag: string): Promise<number>;
  bump(tag: string): Promise<number>;
}

export interface TagVersionsOptions {
  refreshMs?: number;
  /** Tags remembered at most; the least recently read go first. Default 10,000. */
  maxTags?: number;
  now?: () => number;
}

export class TagVersions {
  private readonly known = new Map<string, { version: number; at: number }>();
  private readonly refreshMs: number;
  private readonly maxTags: number;
  private readonly now: () => number;

  constructor(
    private readonly authority: TagAuthority,
    options: TagVersionsOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 1_000;
    this.maxTags = options.maxTags ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The current version of each tag: this isolate's copy when younger than `refreshMs`, else read
   * from the authority (each request reads for itself: a read started by another request is never
   * awaited). If the authority cannot be read, the last version this isolate knew is used; with
   * none, null: the caller cannot tell a current answer from a purged one and must not use or
   * store any.
   */
  async current(tags: readonly string[]): Promise<Record<string, number> | null> {
    const now = this.now();
    const due = tags.filter((tag) => {
      const entry = this.known.get(tag);
      return !entry || now - entry.at >= this.refreshMs;
    });
    if (due.length) {
      const read = await Promise.allSettled(due.map((tag) => this.authority.version(tag)));
      read.forEach((result, i) => {
        const tag = due[i]!;
        if (result.status === 'fulfilled') this.remember(tag, result.value, now);
        else {
          // Keep the last version known, but wait refreshMs before asking again: an authority
          // that hangs must cost one slow read per second, not one per request.
          const known = this.known.get(tag);
          if (known) this.remember(tag, known.version, now);
        }
      });
      if (read.some((result) => result.status === 'rejected') && due.some((tag) => !this.known.has(tag))) return null;
    }
    const versions: Record<string, number> = {};
    for (const tag of tags) versions[tag] = this.known.get(tag)!.version;
    return versions;
  }

  /** Purges the tags for every isolate: bumps each at the authority and takes the new versions at once. */
  async purge(tags: readonly string[]): Promise<Record<string, number>> {
    const bumped = await Promise.all(tags.map((tag) => this.authority.bump(tag)));
    const now = this.now();
    const versions: Record<string, number> = {};
    tags.forEach((tag, i) => {
      versions[tag] = bumped[i]!;
      this.remember(tag, bumped[i]!, now);
    });
    return versions;
  }

  private remember(tag: string, version: number, at: number): void {
    // A read that raced a purge in this isolate must not take the purge back.
    const previous = this.known.get(tag);
    this.known.delete(tag);
    this.known.set(tag, { version: previous && previous.version > version && previous.at >= at ? previous.version : version, at });
    while (this.known.size > this.maxTags) {
      const oldest = this.known.keys().next().value;
      if (oldest === undefined) break;
      this.known.delete(oldest);
    }
  }
}
