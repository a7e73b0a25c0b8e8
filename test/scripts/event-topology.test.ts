import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import topology from '../../shared/events/topology.json';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the event topology', () => {
  it('defines every topic a service publishes to, with at least one consumer (QStash has no empty topics)', () => {
    const published = new Set<string>();
    for (const file of sources(join(ROOT, 'workers'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/kind: 'topic', topic: '([^']+)'/g)) published.add(match[1]!);
    }
    expect(published.size).toBeGreaterThan(0);
    for (const topic of published) {
      const consumers = (topology.topics as Record<string, string[]>)[topic];
      expect({ topic, consumers: (consumers?.length ?? 0) > 0 }).toEqual({ topic, consumers: true });
      for (const consumer of consumers ?? []) expect(Object.keys(topology.consumers)).toContain(consumer);
    }
  });
});
