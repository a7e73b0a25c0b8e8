// The gateway's own totals live in the same aggregating object every service uses.
export { MetricsStore } from '../../../shared/adapters/cloudflare/metrics-store';
