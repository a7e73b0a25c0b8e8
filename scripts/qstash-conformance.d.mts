export const SERVER_TEST_FILES: string[];
export const UNCLAIMED: { feature: string; test: RegExp }[];
export function parseBunResults(output: string): Map<string, 'pass' | 'fail'>;
export function summarise(results: Map<string, 'pass' | 'fail'>): {
  claimed: { pass: number; fail: string[]; total: number };
  unclaimed: Map<string, { pass: number; total: number }>;
};
