// Building the page's markup from data without innerHTML, so nothing an upstream answered (a DLQ
// body, an error message) is ever read as HTML.

/** `el('td', {className: 'x', dataset: {state: 'open'}}, 'text', child)`. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  for (const [key, value] of Object.entries(dataset ?? {})) node.dataset[key] = value;
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Replaces an element's children. */
export const fill = (parent, children) => parent.replaceChildren(...children);

export const percent = (ratio) => (ratio === null || ratio === undefined ? '–' : `${(ratio * 100).toFixed(1)}%`);
export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '–');
