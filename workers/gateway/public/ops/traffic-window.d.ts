// Types of traffic-window.js for the tests (test/browser/traffic-window.test.ts); not served (.assetsignore).
import type { Histogram } from './histogram.js';

export interface RouteTotals {
  service: string;
  route: string;
  requests: number;
  durationSeconds: Histogram;
}
export interface MetricsRead {
  at: string;
  routes: RouteTotals[];
}
export interface RouteWindow {
  rate: number;
  p50: number | null;
  p99: number | null;
  p50Beyond: boolean;
  p99Beyond: boolean;
}
export function routeKey(route: { service: string; route: string }): string;
export function readOrder(before: MetricsRead | null, after: MetricsRead, minSeconds: number): 'first' | 'stale' | 'short' | 'window';
export function counterIncrease(after: number, before: number | undefined): number;
export function routeWindows(before: MetricsRead, after: MetricsRead): Map<string, RouteWindow>;
