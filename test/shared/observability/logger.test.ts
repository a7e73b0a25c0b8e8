import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel, type LoggerOptions } from '../../../shared/observability/logger';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function capture(options: Omit<LoggerOptions, 'write' | 'now'> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ service: 'svc' }, { ...options, write: (line) => lines.push(line), now: () => NOW });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger', () => {
  it('writes one JSON line per call with time, level, service and message', () => {
    const { logger, lines, records } = capture();
    logger.info('hello');
    logger.warn('careful', { attempt: 2 });
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
    expect(records()).toEqual([
      { ts: '2026-01-02T03:04:05.678Z', level: 'info', service: 'svc', msg: 'hello' },
      { ts: '2026-01-02T03:04:05.678Z', level: 'warn', service: 'svc', msg: 'careful', attempt: 2 },
    ]);
  });

  it('keeps a message with newlines on one line', () => {
    const { logger, lines, records } = capture();
    logger.info('two\nlines', { detail: 'a\nb' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(records()[0]).toMatchObject({ msg: 'two\nlines', detail: 'a\nb' });
  });

  it('defaults to info: debug is dropped, info and above are written', () => {
    const { logger, records } = capture();
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => r.level)).toEqual(['info', 'warn', 'error']);
  });

  it('drops everything below the configured level', () => {
    const { logger, records } = capture({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => r.msg)).toEqual(['w', 'e']);
  });

  it('writes debug lines at level debug', () => {
    const { logger, records } = capture({ level: 'debug' });
    logger.debug('d');
    expect(records()).toMatchObject([{ level: 'debug', msg: 'd' }]);
  });

  it('adds child fields to every line of the child, not of the parent', () => {
    const { logger, records } = capture();
    const child = logger.child({ requestId: 'r1' });
    const grandchild = child.child({ traceId: 't1' });
    child.info('from child');
    grandchild.info('from grandchild', { extra: true });
    logger.info('from parent');
    expect(records()).toEqual([
      expect.objectContaining({ msg: 'from child', service: 'svc', requestId: 'r1' }),
      expect.objectContaining({ msg: 'from grandchild', requestId: 'r1', traceId: 't1', extra: true }),
      expect.not.objectContaining({ requestId: expect.anything() }),
    ]);
  });

  it('lets a child override a field of its parent', () => {
    const { logger, records } = capture();
    logger.child({ requestId: 'outer' }).child({ requestId: 'inner' }).info('x');
    expect(records()[0]?.requestId).toBe('inner');
  });

  it('keeps the threshold in children', () => {
    const { logger, lines } = capture({ level: 'error' });
    logger.child({ a: 1 }).warn('dropped');
    expect(lines).toHaveLength(0);
  });

  it('spells out an Error with name, message and stack', () => {
    const { logger, records } = capture();
    const error = new TypeError('bad thing');
    logger.error('failed', { error });
    const logged = records()[0]?.error as Record<string, unknown>;
    expect(logged.name).toBe('TypeError');
    expect(logged.message).toBe('bad thing');
    expect(logged.stack).toBe(error.stack);
    expect(logged.stack).toContain('bad thing');
    expect(logged).not.toHaveProperty('cause');
  });

  it('spells out the cause chain of an Error', () => {
    const { logger, records } = capture();
    logger.error('failed', { error: new Error('outer', { cause: new RangeError('inner') }) });
    expect(records()[0]?.error).toMatchObject({ message: 'outer', cause: { name: 'RangeError', message: 'inner' } });
  });

  it('reads the clock on every line', () => {
    const lines: string[] = [];
    let t = 0;
    const logger = createLogger({ service: 's' }, { write: (line) => lines.push(line), now: () => (t += 1000) });
    logger.info('a');
    logger.info('b');
    expect(lines.map((line) => (JSON.parse(line) as { ts: string }).ts)).toEqual(['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:02.000Z']);
  });
});

describe('isLogLevel', () => {
  it('accepts the four levels and nothing else', () => {
    for (const level of ['debug', 'info', 'warn', 'error']) expect(isLogLevel(level)).toBe(true);
    for (const other of ['trace', 'INFO', '', undefined, 20, 'toString', 'constructor']) expect(isLogLevel(other)).toBe(false);
  });

  it('never lets fields overwrite ts, level, msg or service', () => {
    const { logger, records } = capture();
    logger.child({ service: 'impostor' }).warn('real', { ts: 'then', level: 'debug', msg: 'fake', service: 'other', kept: 1 });
    expect(records()).toEqual([{ ts: '2026-01-02T03:04:05.678Z', level: 'warn', service: 'svc', msg: 'real', kept: 1 }]);
  });

  it('still logs the line when a field cannot be serialised (a cycle), and writes BigInts as text', () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.error('cycle', { cyclic });
    logger.info('big', { n: 2n ** 70n });
    const [cycle, big] = records();
    expect(cycle).toMatchObject({ level: 'error', service: 'svc', msg: 'cycle' });
    expect(cycle?.logError).toMatch(/not serialisable/);
    expect(big?.n).toBe('1180591620717411303424');
  });

  it('stops following a cyclic error cause', () => {
    const { logger, records } = capture();
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    logger.error('loop', { error: a });
    expect(records()[0]?.msg).toBe('loop');
  });
});
