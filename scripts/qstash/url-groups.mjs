// URL groups (QStash's older name for them: topics): a name and its endpoints. Publishing to a
// group sends one message per endpoint.
import { checkDestinationUrl, checkName, QStashError } from './messages.mjs';

export class UrlGroups {
  #groups = new Map();
  #onChange;

  /** @param {{ onChange?: (name: string, group: object | undefined) => void }} [options] told of every change (to persist it) */
  constructor({ onChange = () => {} } = {}) {
    this.#onChange = onChange;
  }

  /** Takes up groups kept by an earlier run. */
  restore(groups) {
    for (const group of groups) this.#groups.set(group.name, view(group));
  }

  /** Creates the group if needed. One endpoint per URL and per name: adding again replaces in place. */
  add(name, endpoints) {
    checkName(name, 'url group');
    const added = checkEndpoints(endpoints, { urlRequired: true });
    const now = Date.now();
    let group = this.#groups.get(name);
    if (!group) {
      group = { name, createdAt: now, updatedAt: now, endpoints: [] };
      this.#groups.set(name, group);
    }
    for (const endpoint of added) {
      const same = (e) => e.url === endpoint.url || (endpoint.name !== undefined && e.name === endpoint.name);
      const at = group.endpoints.findIndex(same);
      group.endpoints = group.endpoints.filter((e) => !same(e));
      group.endpoints.splice(at === -1 ? group.endpoints.length : at, 0, endpoint);
    }
    group.updatedAt = now;
    this.#onChange(name, view(group));
  }

  /** Removes the endpoints matching every field given (name, url or both). */
  remove(name, endpoints) {
    const group = this.#group(name);
    const removed = checkEndpoints(endpoints, { urlRequired: false });
    group.endpoints = group.endpoints.filter((e) => !removed.some((r) => (r.name === undefined || r.name === e.name) && (r.url === undefined || r.url === e.url)));
    group.updatedAt = Date.now();
    this.#onChange(name, view(group));
  }

  /** Where a publish to the group goes; 404 for an unknown group, 400 for an empty one. */
  endpointsOf(name) {
    const group = this.#group(name);
    if (group.endpoints.length === 0) throw new QStashError(400, `url group ${name} has no endpoints`);
    return group.endpoints;
  }

  get(name) {
    return view(this.#group(name));
  }

  list() {
    return [...this.#groups.values()].map(view);
  }

  delete(name) {
    if (!this.#groups.delete(name)) throw new QStashError(404, `url group ${name} not found`);
    this.#onChange(name, undefined);
  }

  #group(name) {
    const group = this.#groups.get(name);
    if (!group) throw new QStashError(404, `url group ${name} not found`);
    return group;
  }
}

const view = (group) => ({ createdAt: group.createdAt, updatedAt: group.updatedAt, name: group.name, endpoints: group.endpoints.map((e) => ({ ...e })) });

function checkEndpoints(endpoints, { urlRequired }) {
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw new QStashError(400, 'endpoints must be a non-empty array of {name?, url}');
  return endpoints.map((endpoint) => {
    const name = endpoint?.name || undefined;
    const url = endpoint?.url || undefined;
    if (url !== undefined) checkDestinationUrl(url);
    if (urlRequired && url === undefined) throw new QStashError(400, 'every endpoint needs a url');
    if (name === undefined && url === undefined) throw new QStashError(400, 'an endpoint to remove needs a name or a url');
    return { ...(name !== undefined && { name }), ...(url !== undefined && { url }) };
  });
}
