import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextCronTime, parseCron } from '../../scripts/qstash/cron.mjs';
import { Schedules, type ScheduleRecord } from '../../scripts/qstash/schedules.mjs';
import { setup } from './qstash-test-kit';

// Schedules: cron expressions in UTC, the schedules API as the official client calls it, and a
// tick per cron minute, each a publish of its own.

const at = (iso: string) => Date.parse(iso);

describe('cron', () => {
  it('finds the next minute each expression fires at, in UTC', () => {
    const next = (expression: string, after: string) => new Date(nextCronTime(parseCron(expression), at(after))!).toISOString();
    expect(next('* * * * *', '2026-03-01T10:15:30Z')).toBe('2026-03-01T10:16:00.000Z');
    expect(next('*/10 * * * *', '2026-03-01T10:15:00Z')).toBe('2026-03-01T10:20:00.000Z');
    expect(next('0 9 * * 1-5', '2026-03-07T12:00:00Z')).toBe('2026-03-09T09:00:00.000Z'); // Saturday -> Monday
    expect(next('30 2 1 * *', '2026-03-01T03:00:00Z')).toBe('2026-04-01T02:30:00.000Z');
    expect(next('0 0 * * 7', '2026-03-01T00:00:00Z')).toBe('2026-03-08T00:00:00.000Z'); // 7 is Sunday
    // Day of month and day of week both given: either one fires (standard cron).
    expect(next('0 0 13 * 5', '2026-03-01T00:00:00Z')).toBe('2026-03-06T00:00:00.000Z');
    expect(next('15,45 * * * *', '2026-03-01T10:20:00Z')).toBe('2026-03-01T10:45:00.000Z');
  });

  it('refuses what it does not read rather than guess', () => {
    expect(() => parseCron('* * * *')).toThrow(/five fields/);
    expect(() => parseCron('60 * * * *')).toThrow(/minute "60"/);
    expect(() => parseCron('0 0 * * MON')).toThrow(/day of week "MON"/);
    expect(() => parseCron('CRON_TZ=Europe/Paris 0 9 * * *')).toThrow(/CRON_TZ/);
    expect(nextCronTime(parseCron('0 0 31 2 *'), Date.now())).toBeUndefined();
  });
});

describe('schedule ticks', () => {
  afterEach(() => vi.useRealTimers());

  it('publishes once per tick while running, not while paused, and keeps the last tick time', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: at('2026-03-01T10:00:30Z') });
    const fired: ScheduleRecord[] = [];
    const saved = new Map<string, unknown>();
    const schedules = new Schedules({
      store: { put: (_kind, id, record) => saved.set(id, record), delete: (_kind, id) => saved.delete(id) },
      fire: (schedule) => fired.push(schedule),
      defaults: { maxRetries: 3, retryDelayScale: 1, delayScale: 1, deliveryTimeoutMs: 30_000 },
    });
    const { scheduleId } = schedules.create({ destination: 'http://127.0.0.1:1/hook', headers: new Headers({ 'upstash-cron': '*/5 * * * *' }), body: Buffer.from('tick') });
    expect(schedules.get(scheduleId)).toMatchObject({ nextScheduleTime: at('2026-03-01T10:05:00Z'), isPaused: false, retries: 3, body: 'tick' });
    vi.advanceTimersByTime(10 * 60_000);
    expect(fired).toHaveLength(2);
    expect(schedules.get(scheduleId)).toMatchObject({ lastScheduleTime: at('2026-03-01T10:10:00Z') });
    schedules.setPaused(scheduleId, true);
    vi.advanceTimersByTime(10 * 60_000);
    expect(fired).toHaveLength(2);
    expect(saved.get(scheduleId)).toMatchObject({ isPaused: true });
    schedules.setPaused(scheduleId, false);
    vi.advanceTimersByTime(5 * 60_000);
    expect(fired).toHaveLength(3);
    schedules.delete(scheduleId);
    vi.advanceTimersByTime(10 * 60_000);
    expect(fired).toHaveLength(3);
    expect(saved.size).toBe(0);
  });
});

describe('schedules API with the official client', () => {
  it('create, get, list, pause, resume, replace by id, delete; a bad cron or delay is a 400', async () => {
    const { client, endpoint } = await setup();
    const url = endpoint.url('/hooks/scheduled');
    const { scheduleId } = await client.schedules.create({ destination: url, cron: '*/10 * * * * ', body: '{"a":1}', delay: 10, retries: 5, label: ['x', 'y'], headers: { 'content-type': 'application/json' } });
    expect(await client.schedules.get(scheduleId)).toMatchObject({
      scheduleId,
      cron: '*/10 * * * *',
      destination: url,
      method: 'POST',
      body: '{"a":1}',
      retries: 5,
      delay: 10,
      labels: ['x', 'y'],
      isPaused: false,
      header: { 'Content-Type': ['application/json'] },
      nextScheduleTime: expect.any(Number),
    });
    await client.schedules.pause({ schedule: scheduleId });
    expect((await client.schedules.get(scheduleId)).isPaused).toBe(true);
    await client.schedules.resume({ schedule: scheduleId });
    expect((await client.schedules.get(scheduleId)).isPaused).toBe(false);

    await client.schedules.create({ destination: endpoint.url('/other'), cron: '0 * * * *', scheduleId });
    const [only, ...rest] = await client.schedules.list();
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ scheduleId, destination: endpoint.url('/other'), cron: '0 * * * *' });
    expect(only!.body).toBeUndefined();

    await expect(client.schedules.create({ destination: url, cron: 'every minute' })).rejects.toMatchObject({ status: 400 });
    await expect(client.schedules.create({ destination: url, cron: '* * * * *', delay: '500ms' as `${bigint}s` })).rejects.toMatchObject({ status: 400 });
    await client.schedules.delete(scheduleId);
    await expect(client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 });
  });
});
