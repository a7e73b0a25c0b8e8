import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secretsEqual } from '../../../shared/security/constant-time';

describe('secretsEqual', () => {
  it('is true for identical secrets', async () => {
    expect(await secretsEqual('test-admin-token', 'test-admin-token')).toBe(true);
    expect(await secretsEqual('', '')).toBe(true);
  });

  it('is false when only the last character differs', async () => {
    expect(await secretsEqual('test-admin-token', 'test-admin-tokeN')).toBe(false);
  });

  it('is false for a prefix, an extension and an empty guess', async () => {
    expect(await secretsEqual('secret', 'secre')).toBe(false);
    expect(await secretsEqual('secret', 'secret ')).toBe(false);
    expect(await secretsEqual('secret', '')).toBe(false);
  });

  it('is false for guesses whose SHA-256 agrees with the secret on the first byte, the last byte, or both', async () => {
    // Found offline: sha256('guess-145')[0], sha256('guess-108')[31] and both ends of
    // sha256('guess-123425') equal those of sha256('test-admin-token'). Every byte must count.
    for (const guess of ['guess-145', 'guess-108', 'guess-123425']) expect(await secretsEqual('test-admin-token', guess)).toBe(false);
  });

  it('compares non-ASCII text by its characters', async () => {
    expect(await secretsEqual('pässwörd🔑', 'pässwörd🔑')).toBe(true);
    expect(await secretsEqual('pässwörd🔑', 'passwörd🔑')).toBe(false);
  });

  it('agrees with === for any pair of strings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (a, b) => {
        expect(await secretsEqual(a, b)).toBe(a === b);
        expect(await secretsEqual(a, a)).toBe(true);
      }),
    );
  });
});
