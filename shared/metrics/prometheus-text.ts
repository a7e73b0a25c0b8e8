import { splitSeriesKey, type MetricBatch } from './metric-batch';

/** What a metric is, for its `# HELP` and `# TYPE` lines. */
export interface MetricDefinition {
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const formatNumber = (value: number) => (Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN');
const withLabels = (name: string, labelText: string, extra?: string) => {
  const all = [labelText, extra].filter(Boolean).join(',');
  return all ? `${name}{${all}}` : name;
};

/**
 * Renders totals in the Prometheus text exposition format (version 0.0.4). Series are grouped
 * under their metric's HELP/TYPE header and sorted, so the output is stable between scrapes.
 * Metrics with a definition but no series yet still get their header, so dashboards see them.
 */
export function renderPrometheus(totals: MetricBatch, definitions: Record<string, MetricDefinition>): string {
  const byName = new Map<string, string[]>();
  const add = (name: string, line: string) => {
    const lines = byName.get(name) ?? [];
    lines.push(line);
    byName.set(name, lines);
  };

  for (const [key, value] of Object.entries(totals.counters)) {
    const { name, labelText } = splitSeriesKey(key);
    add(name, `${withLabels(name, labelText)} ${formatNumber(value)}`);
  }
  for (const [key, value] of Object.entries(totals.gauges)) {
    const { name, labelText } = splitSeriesKey(key);
    add(name, `${withLabels(name, labelText)} ${formatNumber(value)}`);
  }
  for (const [key, histogram] of Object.entries(totals.histograms)) {
    const { name, labelText } = splitSeriesKey(key);
    // Buckets are stored non-cumulative (cheap to merge); the format wants them cumulative.
    let cumulative = 0;
    const lines: string[] = [];
    histogram.bounds.forEach((bound, i) => {
      cumulative += histogram.counts[i] ?? 0;
      lines.push(`${withLabels(`${name}_bucket`, labelText, `le="${formatNumber(bound)}"`)} ${cumulative}`);
    });
    lines.push(`${withLabels(`${name}_bucket`, labelText, 'le="+Inf"')} ${histogram.count}`);
    lines.push(`${withLabels(`${name}_sum`, labelText)} ${formatNumber(histogram.sum)}`);
    lines.push(`${withLabels(`${name}_count`, labelText)} ${histogram.count}`);
    add(name, lines.join('\n'));
  }

  const names = new Set([...Object.keys(definitions), ...byName.keys()]);
  const blocks: string[] = [];
  for (const name of [...names].sort()) {
    const definition = definitions[name];
    const header = definition ? [`# HELP ${name} ${definition.help}`, `# TYPE ${name} ${definition.type}`] : [];
    blocks.push([...header, ...(byName.get(name) ?? []).sort()].join('\n'));
  }
  return blocks.join('\n') + '\n';
}
