import { DurableObject } from 'cloudflare:workers';
import { increase, judge, measure, windowMsOf, type Sample } from '../../../shared/alerts/alert-measure';
import { alertPayload, signedHeaders } from '../../../shared/alerts/alert-notification';
import type { AlertRule } from '../../../shared/alerts/alert-rules';
import { initialStatus, stepAlert, type AlertState, type AlertStatus } from '../../../shared/alerts/alert-state';
import { createLogger } from '../../../shared/observability/logger';
import type { GatewayBindings } from '../env';
import { collectTotals } from '../ops/suite-totals';
import { envSources } from './alert-sources';
import { monitoringConfig, type MonitoringConfig } from './monitoring-config';

/** One alert as `GET /_ops/alerts` lists it. */
export interface AlertItem {
  rule: string;
  kind: AlertRule['kind'];
  state: AlertState;
  since: string;
  value?: number;
}

/** A notification waiting to be delivered (or retried). */
interface PendingNotification {
  /** The Standard Webhooks message id: the same on every attempt, so a receiver drops duplicates. */
  id: string;
  rule: string;
  status: 'firing' | 'resolved';
  body: string;
  attempts: number;
  nextAt: number;
}

/** Retention: at most this many notifications wait; the oldest is dropped (and logged) past it. */
const MAX_PENDING_NOTIFICATIONS = 100;
/** A notification is given up on (and logged) after this many failed attempts: 1 s doubling, about 5 to 9 minutes in all. */
const MAX_ATTEMPTS = 10;
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 10 * 60_000;
const DELIVERY_TIMEOUT_MS = 5_000;
/** Retention: a windowed rule keeps its samples for its window plus this much, and never more than this many. */
const SAMPLE_SLACK_MS = 60_000;
const MAX_SAMPLES = 600;

const log = createLogger({ service: 'gateway', component: 'alerts' });

/**
 * The alert evaluator: one object (named "global") that, on its own alarm every
 * ALERT_EVAL_INTERVAL_MS, reads the suite's metric totals (the same as `/metrics`), judges every
 * rule and moves each alert through inactive → pending → firing → resolved (shared/alerts). A
 * transition to firing or resolved queues a signed webhook notification, delivered from the
 * same alarm with retries and backoff: nothing on a request's path waits on an alert.
 *
 * Why a Durable Object: the `for` durations and rate windows need the previous evaluations
 * (states, samples) and exactly one evaluator, whichever isolate asked; an alarm keeps it running
 * without traffic. It is started by the gateway's cron (every minute) and by `/_ops/alerts`.
 *
 * Retention: one status per configured rule (a removed rule's is dropped), samples only for the
 * rule's window, at most MAX_PENDING_NOTIFICATIONS queued and MAX_ATTEMPTS tries each.
 */
export class AlertEvaluator extends DurableObject<GatewayBindings> {
  private statuses: Record<string, AlertStatus> = {};
  private samples: Record<string, Sample[]> = {};
  private pending: PendingNotification[] = [];
  private evaluating: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: GatewayBindings) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.statuses = (await ctx.storage.get<Record<string, AlertStatus>>('statuses')) ?? {};
      this.samples = (await ctx.storage.get<Record<string, Sample[]>>('samples')) ?? {};
      this.pending = (await ctx.storage.get<PendingNotification[]>('pending')) ?? [];
    });
  }

  /** Arms the alarm if none is set: the evaluations run from then on by themselves. */
  async ensureRunning(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Every configured rule's alert, in the configured order. */
  async list(): Promise<AlertItem[]> {
    await this.ensureRunning();
    const { ALERT_RULES: rules } = monitoringConfig(this.env);
    const now = Date.now();
    return rules.map((rule) => {
      const status = this.statuses[rule.name] ?? initialStatus(now);
      return { rule: rule.name, kind: rule.kind, state: status.state, since: new Date(status.since).toISOString(), ...(status.value === undefined ? {} : { value: status.value }) };
    });
  }

  override async alarm(): Promise<void> {
    let config: MonitoringConfig | null = null;
    try {
      config = monitoringConfig(this.env);
      await this.evaluate(config);
      await this.deliver(config);
    } catch (error) {
      log.error('alert evaluation failed; next on schedule', { error });
    } finally {
      const interval = config?.ALERT_EVAL_INTERVAL_MS ?? 30_000;
      const nextNotification = Math.min(...this.pending.map((n) => n.nextAt));
      await this.ctx.storage.setAlarm(Math.max(Date.now(), Math.min(Date.now() + interval, nextNotification)));
    }
  }

  /** One evaluation of every rule (never two at once: an alarm and a test's call could overlap). */
  async evaluate(config: MonitoringConfig = monitoringConfig(this.env)): Promise<void> {
    if (this.evaluating) return this.evaluating;
    this.evaluating = this.evaluateOnce(config).finally(() => (this.evaluating = null));
    return this.evaluating;
  }

  private async evaluateOnce(config: MonitoringConfig): Promise<void> {
    const totals = await collectTotals(envSources(this.env, `alerts-${Date.now().toString(36)}`));
    const now = Date.now();
    const statuses: Record<string, AlertStatus> = {};
    const samples: Record<string, Sample[]> = {};
    for (const rule of config.ALERT_RULES) {
      const reading = measure(rule, totals);
      let windowIncrease: number[] | null = null;
      if ('totals' in reading) {
        const current: Sample = { at: now, totals: reading.totals };
        const kept = this.samples[rule.name] ?? [];
        windowIncrease = increase(kept, current, windowMsOf(rule));
        const oldest = now - windowMsOf(rule) - SAMPLE_SLACK_MS;
        samples[rule.name] = [...kept.filter((sample) => sample.at >= oldest), current].slice(-MAX_SAMPLES);
      }
      const step = stepAlert(this.statuses[rule.name] ?? initialStatus(now), judge(rule, reading, windowIncrease), now, rule.for * 1000);
      statuses[rule.name] = step.status;
      if (step.notify) this.queue(config, rule, step.status, step.notify, now);
    }
    // Rules no longer configured are forgotten with their samples (the replacement objects above).
    this.statuses = statuses;
    this.samples = samples;
    await this.ctx.storage.put({ statuses, samples, pending: this.pending });
  }

  private queue(config: MonitoringConfig, rule: AlertRule, status: AlertStatus, kind: 'firing' | 'resolved', now: number): void {
    log[kind === 'firing' ? 'error' : 'info'](`alert ${kind}`, { rule: rule.name, kind: rule.kind, value: status.value });
    if (!config.ALERT_WEBHOOK_URL) return;
    const body = alertPayload(rule, status, kind, { externalUrl: config.ALERT_EXTERNAL_URL ?? '' });
    this.pending.push({ id: `alert_${crypto.randomUUID()}`, rule: rule.name, status: kind, body, attempts: 0, nextAt: now });
    while (this.pending.length > MAX_PENDING_NOTIFICATIONS) {
      const dropped = this.pending.shift();
      log.error('alert notification dropped: too many waiting', { rule: dropped?.rule, status: dropped?.status });
    }
  }

  /** Sends every due notification once; a failure waits (doubling) and is tried again from a later alarm. */
  private async deliver(config: MonitoringConfig): Promise<void> {
    const { ALERT_WEBHOOK_URL: url, ALERT_WEBHOOK_SECRET: secret } = config;
    if (!url || !secret || this.pending.length === 0) return;
    const now = Date.now();
    const due = this.pending.filter((notification) => notification.nextAt <= now);
    // In order: a receiver hears a rule's firing before its resolved.
    for (const notification of due) {
      let failure: string | null = null;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: signedHeaders(secret, notification.id, notification.body, new Date()),
          body: notification.body,
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (!response.ok) failure = `HTTP ${response.status}`;
      } catch (error) {
        failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (failure === null) {
        this.pending = this.pending.filter((n) => n !== notification);
        continue;
      }
      notification.attempts += 1;
      if (notification.attempts >= MAX_ATTEMPTS) {
        log.error('alert notification given up after its last attempt', { rule: notification.rule, status: notification.status, failure });
        this.pending = this.pending.filter((n) => n !== notification);
      } else {
        const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (notification.attempts - 1));
        notification.nextAt = Date.now() + backoff * (0.5 + Math.random() / 2);
        log.warn('alert notification failed; retried later', { rule: notification.rule, status: notification.status, attempts: notification.attempts, failure });
      }
    }
    await this.ctx.storage.put('pending', this.pending);
  }
}
