// The ops dashboard: sign in with the admin token, then poll the /_ops JSON endpoints and draw
// each panel. Polling stops while the tab is hidden and resumes (at once) when it is shown.
import { ops, OpsError, token } from './api.js';
import { renderAlerts } from './alerts-panel.js';
import { renderBreakers, resetBreakers } from './breakers-panel.js';
import { canaryControls, chaosControls } from './controls-panel.js';
import { renderDlq } from './dlq-panel.js';
import { renderOutbox } from './outbox-panel.js';
import { renderOrigins } from './origins-panel.js';
import { renderRatios } from './ratios-panel.js';
import { renderFlags, renderRollouts } from './releases-panel.js';
import { renderSagas } from './sagas-panel.js';
import { renderStuckSagas } from './stuck-sagas-panel.js';
import { tracesPanel } from './traces-panel.js';
import { renderTraffic, resetTraffic, showLatencyOf } from './traffic-panel.js';
import { liveSocket } from './live-socket.js';

const POLL_MS = 2000;
/** Sagas, the DLQ and the weights change rarely: read them every this many polls. */
const SLOW_EVERY = 3;
/** Reads closer than this to the one before (a click's read just after a poll) add no chart point or strip cell. */
const MIN_WINDOW_MS = POLL_MS / 2;

const $ = (id) => document.getElementById(id);
const status = $('status');
const panels = $('panels');
const login = $('login');

let timer = null;
let ticks = 0;
let running = false;
/** A poll is being read: no second loop may start beside it. */
let polling = false;
/** GET /_ops/chaos answered 403 (ALLOW_CHAOS is off where the gateway runs): not asked again until the next sign-in. */
let chaosRefused = false;

const renderChaos = chaosControls($('chaos'), $('chaos-error'), () => refresh(true));
const renderCanary = canaryControls($('canary'), $('canary-error'), () => refresh(true));
const traces = tracesPanel(
  { table: $('traces'), view: $('trace-view'), notice: $('traces-notice'), errorLine: $('traces-error'), filters: $('trace-filters'), opener: $('trace-open') },
  () => signOut('The token was refused (401): sign in again.'),
);
const traffic = { rateChart: $('rate-chart'), latencyChart: $('latency-chart'), latencySelect: $('latency-route'), routesTable: $('routes'), minSeconds: MIN_WINDOW_MS / 1000 };
$('latency-route').addEventListener('change', (event) => showLatencyOf(traffic.latencyChart, event.target.value));

/**
 * The breakers and sagas panels over the dashboard's socket, and who else is watching; while it
 * is down they are polled like the rest (readPanels).
 */
const live = liveSocket({
  name: () => sessionStorage.getItem('stratus-ops-name') || 'operator',
  running: () => running,
  onMessage(message) {
    if (message.type === 'breakers') renderBreakers($('breakers'), message.breakers, { minMs: MIN_WINDOW_MS });
    else if (message.type === 'sagas') renderSagas($('sagas'), message.sagas);
    else if (message.type === 'presence') $('presence').textContent = `${message.count} watching: ${message.names.join(', ')}`;
  },
  onChange(isLive) {
    if (!isLive) $('presence').textContent = '';
  },
});

/** An operator's action from a panel: its answer (or error) shown in `output`, then every panel read again. */
async function act(output, path, init, done) {
  try {
    const answer = await ops(path, init);
    output.textContent = done(answer);
  } catch (error) {
    if (error instanceof OpsError && error.status === 401) return signOut('The token was refused (401): sign in again.');
    output.textContent = `${error.status ? `${error.status}: ` : ''}${error.message}`;
  }
  await refresh(true);
}

const dlqActions = {
  redrive: (dlqId) => act($('dlq-answer'), `/dlq/${encodeURIComponent(dlqId)}/redrive`, { method: 'POST' }, (a) => `Redriven: ${a.messageIds.join(', ')}`),
  remove: (dlqId) => act($('dlq-answer'), `/dlq/${encodeURIComponent(dlqId)}`, { method: 'DELETE' }, () => `Deleted ${dlqId}`),
  redriveTopic: (topic) => act($('dlq-answer'), '/dlq/redrive', { method: 'POST', body: topic ? { topic } : {} }, (a) => `Redriven ${a.redriven}${topic ? ` of ${topic}` : ''}${a.more ? ' (more left: redrive again)' : ''}`),
};
$('dlq-redrive-all').addEventListener('click', () => dlqActions.redriveTopic(undefined));

/** A flag or rollout change from the releases panel. */
const releaseAction = (path, init, done) => act($('releases-answer'), path, init, done);

const retryOutbox = (service, id) =>
  act($('outbox-answer'), `/outbox/${encodeURIComponent(service)}/retry`, { method: 'POST', body: id ? { id } : {} }, (a) => `${service}: ${a.retried} row${a.retried === 1 ? '' : 's'} sent again`);

/** A STUCK saga's action, its answer shown above the list (a 409 is a message, not a failure). */
async function sagaAction(orderId, action, note) {
  const output = $('stuck-answer');
  output.textContent = `${orderId}: ${action}…`;
  let shown;
  try {
    const order = await ops(`/sagas/${encodeURIComponent(orderId)}/${action}`, { method: 'POST', body: note ? { note } : {} });
    shown = `${action}: done, now ${order?.status ?? 'updated'}`;
  } catch (error) {
    if (error instanceof OpsError && error.status === 401) {
      signOut('The token was refused (401): sign in again.');
      return;
    }
    shown = `${action} refused${error.status ? ` (${error.status})` : ''}: ${error.message}`;
  }
  output.textContent = `${orderId}: ${shown}`;
  await refresh(true);
}

/** The read under way, and the one asked for meanwhile (the poll's, or a click's with `all`). */
let reading = null;
let queued = null;
let queuedAll = false;

/**
 * One read at a time: a click's refresh during a poll waits for it, and several clicks meanwhile
 * share one more read. Two reads side by side could be answered out of order, and the traffic
 * maths compares each read with the one before.
 */
function refresh(all = false) {
  if (!reading) {
    reading = readPanels(all).finally(() => { reading = null; });
    return reading;
  }
  queuedAll ||= all;
  queued ??= reading.then(() => {
    const nextAll = queuedAll;
    queued = null;
    queuedAll = false;
    return refresh(nextAll);
  });
  return queued;
}

/** Reads what this poll needs; each panel fails on its own, except a refused token, which signs out. */
async function readPanels(all) {
  if (!running) return;
  const slow = all || ticks % SLOW_EVERY === 0;
  // Over the socket while it is up (live-socket.js): not polled then.
  const pushed = live.isLive();
  const reads = [
    ...(pushed ? [] : [['breakers', () => ops('/breakers').then((b) => renderBreakers($('breakers'), b, { minMs: MIN_WINDOW_MS }))]]),
    ['alerts', () => ops('/alerts').then((a) => renderAlerts($('alerts'), a))],
    ['metrics', () => ops('/metrics').then((m) => { renderTraffic(traffic, m); renderRatios({ rateLimitsTable: $('rate-limits'), cacheTable: $('cache') }, m); })],
    // A running rollout moves every second or so: read with the fast panels.
    ['rollouts', () => ops('/rollouts').then((r) => renderRollouts($('rollouts'), r, releaseAction))],
    ...(chaosRefused ? [] : [['chaos', () => ops('/chaos').then(renderChaos, (error) => {
      // Fault injection is off here (ALLOW_CHAOS=false): say so in the panel, not as a failure, and stop asking.
      if (!(error instanceof OpsError && error.status === 403)) throw error;
      chaosRefused = true;
      $('chaos-error').textContent = error.message;
    })]]),
    ...(slow
      ? [
          ['routes', () => ops('/routes').then(renderCanary)],
          ['flags', () => ops('/flags').then((f) => renderFlags($('flags'), f, releaseAction))],
          ['origins', () => ops('/origins').then((o) => renderOrigins($('origins'), o))],
          ...(pushed ? [] : [['sagas', () => ops('/sagas?limit=10').then((s) => renderSagas($('sagas'), s))]]),
          ['stuck', () => ops('/sagas?status=STUCK&limit=50').then((s) => renderStuckSagas($('stuck'), s, sagaAction))],
          ['outbox', () => ops('/outbox').then((o) => renderOutbox($('outbox'), o, retryOutbox))],
          // Says itself in the panel when there is no trace store (503) or it is unreachable.
          ['traces', () => traces.read()],
          ['dlq', () => ops('/dlq').then((d) => { $('dlq-error').textContent = ''; renderDlq($('dlq'), d, dlqActions); }, (error) => {
            // QStash not configured (503) or unreachable: the rest of the page still works.
            if (error instanceof OpsError && error.status === 401) throw error;
            $('dlq-error').textContent = error.message;
          })],
        ]
      : []),
  ];
  const results = await Promise.allSettled(reads.map(([, read]) => read()));
  if (!running) return;
  if (results.some((r) => r.status === 'rejected' && r.reason instanceof OpsError && r.reason.status === 401)) {
    signOut('The token was refused (401): sign in again.');
    return;
  }
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${reads[i][0]}: ${r.reason.message}`] : []));
  status.textContent = `Live · updated ${new Date().toLocaleTimeString()} · every ${POLL_MS / 1000} s${pushed ? ' · breakers and sagas pushed' : ''}${failed.length ? ` · failed: ${failed.join('; ')}` : ''}`;
}

async function tick() {
  timer = null;
  if (!running || document.hidden || polling) return;
  polling = true;
  try {
    await refresh();
  } finally {
    polling = false;
  }
  ticks += 1;
  if (running && !document.hidden) timer = setTimeout(tick, POLL_MS);
}

function start() {
  resetTraffic();
  resetBreakers();
  traces.reset();
  chaosRefused = false;
  $('chaos-error').textContent = '';
  running = true;
  login.hidden = true;
  panels.hidden = false;
  $('sign-out').hidden = false;
  status.textContent = 'Loading…';
  if (!timer) void tick();
  live.start();
}

function signOut(message = '') {
  running = false;
  live.stop();
  clearTimeout(timer);
  timer = null;
  token.clear();
  // The next sign-in (perhaps against a restarted suite) starts from nothing.
  resetTraffic();
  resetBreakers();
  traces.reset();
  chaosRefused = false;
  ticks = 0;
  panels.hidden = true;
  $('sign-out').hidden = true;
  login.hidden = false;
  $('login-error').textContent = message;
  status.textContent = 'Signed out';
  $('token').focus();
}

login.addEventListener('submit', (event) => {
  event.preventDefault();
  token.set($('token').value);
  $('token').value = '';
  $('login-error').textContent = '';
  start();
});
$('sign-out').addEventListener('click', () => signOut());
document.addEventListener('visibilitychange', () => {
  if (!running) return;
  if (document.hidden) {
    clearTimeout(timer);
    timer = null;
    status.textContent = 'Paused while the tab is hidden';
  } else if (!timer) void tick();
});

if (token.get()) start();
