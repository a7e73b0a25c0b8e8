import { describe, expect, it } from 'vitest';
import { TagVersions, type TagAuthority } from '../../../shared/cache/tag-versions';

/** An authority in memory that counts its reads, and can be made to fail. */
function authority() {
  const versions = new Map<string, number>();
  const state = { reads: 0, down: false };
  const a: TagAuthority = {
    version: async (tag) => {
      state.reads++;
      if (state.down) throw new Error('unreachable');
      return versions.get(tag) ?? 0;
    },
    bump: async (tag) => {
      if (state.down) throw new Error('unreachable');
      const next = (versions.get(tag) ?? 0) + 1;
      versions.set(tag, next);
      return next;
    },
  };
  return { a, state, versions };
}

describe('TagVersions', () => {
  it('reads each tag at most once per refreshMs', async () => {
    let now = 0;
    const { a, state } = authority();
    const tags = new TagVersions(a, { refreshMs: 1_000, now: () => now });
    expect(await tags.current(['x', 'y'])).toEqual({ x: 0, y: 0 });
    expect(state.reads).toBe(2);
    now = 999;
    await tags.current(['x', 'y']);
    expect(state.reads).toBe(2);
    now = 1_000;
    await tags.current(['x']);
    expect(state.reads).toBe(3);
  });

  it('a purge is seen at once where it was made, and after refreshMs by another isolate', async () => {
    let now = 0;
    const { a } = authority();
    const here = new TagVersions(a, { refreshMs: 1_000, now: () => now });
    const there = new TagVersions(a, { refreshMs: 1_000, now: () => now });
    await here.current(['x']);
    await there.current(['x']);
    expect(await here.purge(['x'])).toEqual({ x: 1 });
    expect(await here.current(['x'])).toEqual({ x: 1 });
    expect(await there.current(['x'])).toEqual({ x: 0 });
    now = 1_000;
    expect(await there.current(['x'])).toEqual({ x: 1 });
  });

  it('asks a failing authority again only after refreshMs, not on every request', async () => {
    let now = 0;
    const { a, state } = authority();
    const tags = new TagVersions(a, { refreshMs: 1_000, now: () => now });
    await tags.current(['x']);
    state.down = true;
    now = 5_000;
    const before = state.reads;
    for (let i = 0; i < 10; i++) expect(await tags.current(['x'])).toEqual({ x: 0 });
    expect(state.reads - before).toBe(1);
    now = 6_000;
    await tags.current(['x']);
    expect(state.reads - before).toBe(2);
  });

  it('keeps the last known version when the authority is down; null when it knows none', async () => {
    let now = 0;
    const { a, state } = authority();
    const tags = new TagVersions(a, { refreshMs: 1_000, now: () => now });
    await tags.current(['x']);
    state.down = true;
    now = 5_000;
    expect(await tags.current(['x'])).toEqual({ x: 0 });
    expect(await tags.current(['x', 'never-read'])).toBeNull();
  });

  it('a read that started before a purge in this isolate does not take the purge back', async () => {
    const now = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let version = 1;
    const slow: TagAuthority = {
      version: async () => {
        const seen = version;
        await held;
        return seen;
      },
      bump: async () => ++version,
    };
    const tags = new TagVersions(slow, { refreshMs: 1_000, now: () => now });
    const reading = tags.current(['x']);
    await tags.purge(['x']);
    release();
    expect(await reading).toEqual({ x: 2 });
  });
});
