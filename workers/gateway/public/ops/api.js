// Calls to the /_ops JSON endpoints with the admin token as a Bearer header. The token lives in
// sessionStorage (this tab only, gone when it closes), never in a URL.
const TOKEN_KEY = 'stratus-ops-token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer that was not 2xx: its status and the problem+json detail, for the page to show. */
export class OpsError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** `fetch` of an /_ops endpoint: the parsed JSON (null for 204), or an OpsError. */
export async function ops(path, { method = 'GET', body } = {}) {
  // JSON asked for by name: an endpoint that also has an HTML view (/_ops/traces/:id) answers JSON.
  const headers = { authorization: `Bearer ${token.get() ?? ''}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/_ops${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const fields = (answer?.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
    throw new OpsError(response.status, [answer?.detail ?? answer?.title ?? `HTTP ${response.status}`, fields].filter(Boolean).join(' — '));
  }
  return answer;
}
