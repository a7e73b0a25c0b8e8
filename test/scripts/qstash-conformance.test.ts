import { describe, expect, it } from 'vitest';
import { parseBunResults, summarise } from '../../scripts/qstash-conformance.mjs';

// The conformance run's arithmetic: what counts as claimed, and a test run twice counts as failed
// if either run failed.

describe('qstash conformance summary', () => {
  it('counts claimed tests apart from unclaimed features, and a failure in either run of a test wins', () => {
    const output = [
      'src/client/dlq.test.ts:',
      '(pass) DLQ > should delete single dlq item [1.20ms]',
      '(fail) DLQ > should get flow control [25125.53ms]',
      '(pass) Schedules > should pause/resume [6.40ms]',
      '(pass) Schedules > should create schedule with flow control [2.00ms]',
      '(fail) logs > should use cursor [5.00ms]',
      '(pass) E2E Publish > should publish a message with multiple labels [40.04ms]',
      '(fail) E2E Publish > should publish a message with multiple labels [41.00ms]',
      '(pass) E2E Publish > should publish a message with multiple labels [39.00ms]',
      ' 3 pass',
    ].join('\n');
    const results = parseBunResults(output);
    expect(results.get('E2E Publish > should publish a message with multiple labels')).toBe('fail');
    const { claimed, unclaimed } = summarise(results);
    expect(claimed).toEqual({ pass: 2, total: 3, fail: ['E2E Publish > should publish a message with multiple labels'] });
    expect(unclaimed.get('flow control limits and their API (/v2/flowControl)')).toEqual({ pass: 1, total: 2 });
  });
});
