// Types of breaker-history.js for the tests (test/browser/breaker-history.test.ts); not served (.assetsignore).
export interface Cell {
  state: string;
  at: number;
  transitions: number;
  flipped: boolean;
}
export function withRead(cells: Cell[], breaker: { state: string; transitions?: Record<string, number> }, at: number, minMs: number): Cell[];
