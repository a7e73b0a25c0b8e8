// The top functions of a V8 CPU profile (the inspector's Profiler.stop answer), by self time and by
// inclusive time (a function counted once per sample however deep it recurs), in % of the time the
// isolate ran JavaScript (idle, "(program)" and GC samples left out of that base and shown apart).

const NOT_JS = new Set(['(idle)', '(program)', '(garbage collector)']);

const label = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url ? `${frame.url.split('/').pop()}:${frame.lineNumber + 1}` : '(native)'}`;

export function profileTops(profile, count = 30) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const timeOf = new Map();
  profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map();
  const inclusive = new Map();
  const other = new Map();
  let js = 0;
  for (const [id, us] of timeOf) {
    const node = byId.get(id);
    if (NOT_JS.has(node.callFrame.functionName)) {
      other.set(node.callFrame.functionName, (other.get(node.callFrame.functionName) ?? 0) + us);
      continue;
    }
    js += us;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + us);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const key = label(byId.get(at).callFrame);
      if (key.startsWith('(root)') || seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const top = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, us]) => `${((100 * us) / js).toFixed(1).padStart(6)} %  ${key}`)
      .join('\n');
  const apart = [...other].map(([key, us]) => `${key} ${(us / 1000).toFixed(0)} ms`).join(', ');
  return `JavaScript ${(js / 1000).toFixed(0)} ms; apart from it: ${apart}\n\nby self time:\n${top(self)}\n\nby inclusive time:\n${top(inclusive)}`;
}
