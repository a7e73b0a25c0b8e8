export interface DeployTarget {
  /** The folder name (`orders`), or `gateway`. */
  name: string;
  configPath: string;
  /** The worker's `name` in its wrangler.toml. */
  worker: string;
  /** The workers its service bindings name. */
  bindsTo: string[];
}
export function deployOrder<W extends { name: string; worker: string; bindsTo: string[] }>(workers: W[]): W[];
export function deployTargets(): DeployTarget[];
