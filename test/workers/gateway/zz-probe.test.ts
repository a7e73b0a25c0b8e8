import { it, expect } from 'vitest';
it('fetches loopback', async () => {
  const r = await fetch('http://127.0.0.1:8854/');
  expect(r.status).toBe(200);
});
