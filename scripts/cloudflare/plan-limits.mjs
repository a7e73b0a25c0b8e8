// The limits of the plans a deployment may run on, and what the suite's settings cost against
// them. Checked by the deploy's preflight so a setting that works locally (where nothing is capped)
// does not fail only once deployed.
//
// Workers: D1 calls per invocation, 50 on Workers Free and 1,000 on Workers Paid (Cloudflare's
// Workers limits page). QStash Free: about 1,000 messages a day and one URL group (Upstash's
// pricing page; check it before relying on it: docs/deploying.md, "Plans"). A paid
// QStash plan ("payg") lifts both far beyond what this suite uses.

export const WORKERS_PLANS = {
  free: { d1CallsPerInvocation: 50 },
  paid: { d1CallsPerInvocation: 1000 },
};
export const QSTASH_PLANS = {
  free: { urlGroups: 1, messagesPerDay: 1000 },
  payg: { urlGroups: Infinity, messagesPerDay: Infinity },
};

/** A rebuild slice: about two D1 calls per page of events, plus up to ten of its own (start, cursor, swap). */
export const rebuildSliceCalls = (pages) => pages * 2 + 10;
/** The most pages a slice may run within `calls` D1 calls. */
export const maxRebuildPages = (calls) => Math.floor((calls - 10) / 2);

/**
 * Messages one order costs QStash with this topology: every order publishes two order events
 * (order.placed, then order.completed or order.cancelled) and one payment event, each delivered
 * once per subscriber of its topic, and at most three mails (queued messages: the order and
 * payment receipts, the review request).
 */
export function messagesPerOrder(topology) {
  const fanOut = (topic) => (topology.topics[topic] ?? []).length;
  return 2 * fanOut('order-events') + fanOut('payment-events') + 3;
}
