import type { TestProject } from 'vitest/node';
import { startLegacyMonolith } from '../../../scripts/legacy-monolith.mjs';
// @ts-expect-error: a plain .mjs test helper without types
import { startTestOrigin } from '../../support/test-origin.mjs';

declare module 'vitest' {
  interface ProvidedContext {
    /** Loopback HTTP origins started in Node for the gateway's origin-pool tests: a, b, c and the legacy monolith. */
    origins: { a: string; b: string; c: string; legacy: string };
  }
}

interface Started {
  url: string;
  close(): Promise<void>;
}

/**
 * Workers in workerd reach loopback HTTP servers with plain fetch, so the origin pools are tested
 * against real HTTP origins: three stand-ins (test/support/test-origin.mjs) and the legacy
 * monolith, started here in Node and handed to the tests by URL (`inject('origins')`).
 */
export default async function setup(project: TestProject) {
  const [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((name) => startTestOrigin(name)))) as Started[];
  const legacy = await startLegacyMonolith({ port: 0 });
  project.provide('origins', { a: a!.url, b: b!.url, c: c!.url, legacy: legacy.url });
  return async () => {
    await Promise.all([a!.close(), b!.close(), c!.close(), legacy.close()]);
  };
}
