import { describe, expect, it } from 'vitest';
import { encodeCommand, RedisReplyError, RespParser, type RespReply } from '../../scripts/resp.mjs';

// Every reply type RESP2 has, back to back, as redis-server sends them.
const wire = Buffer.concat([
  Buffer.from('+OK\r\n'),
  Buffer.from('-NOSCRIPT No matching script. Please use EVAL.\r\n'),
  Buffer.from(':-42\r\n:9007199254740993\r\n'),
  Buffer.from('$5\r\nhé\r\n\r\n'), // "hé\r\n": bulk strings carry CRLF and multi-byte text as bytes
  Buffer.from([0x24, 0x33, 0x0d, 0x0a, 0xff, 0x00, 0x68, 0x0d, 0x0a]), // $3 ff 00 68: not UTF-8
  Buffer.from('$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n'),
  Buffer.from('*3\r\n:1\r\n*2\r\n$1\r\nx\r\n*1\r\n$-1\r\n-ERR inside\r\n'),
]);

function expectWireReplies(replies: RespReply[]) {
  expect(replies).toHaveLength(10);
  const [ok, noscript, negative, big, text, binary, empty, nil, nilArray, emptyArray] = replies;
  expect(ok).toBe('OK');
  expect(noscript).toBeInstanceOf(RedisReplyError);
  expect((noscript as Error).message).toBe('NOSCRIPT No matching script. Please use EVAL.');
  expect(negative).toBe(-42n);
  expect(big).toBe(9007199254740993n);
  expect(Buffer.isBuffer(text) && text.toString('utf8')).toBe('hé\r\n');
  expect(Buffer.isBuffer(binary) && [...binary]).toEqual([0xff, 0x00, 0x68]);
  expect(Buffer.isBuffer(empty) && empty.length).toBe(0);
  expect(nil).toBeNull();
  expect(nilArray).toBeNull();
  expect(emptyArray).toEqual([]);
}

describe('RESP2 parser (the bridge keeps every reply as Redis sent it)', () => {
  it('parses every reply type from one chunk', () => {
    const replies = new RespParser().push(wire);
    expectWireReplies(replies.slice(0, 10));
    const nested = replies[10] as RespReply[];
    expect(nested[0]).toBe(1n);
    expect((nested[1] as RespReply[]).map((v) => (Buffer.isBuffer(v) ? v.toString() : v))).toEqual(['x', [null]]);
    expect(nested[2]).toBeInstanceOf(RedisReplyError);
    expect(replies).toHaveLength(11);
  });

  it('gives the same replies wherever the stream is cut, and one byte at a time', () => {
    const whole = new RespParser().push(wire);
    for (let cut = 1; cut < wire.length; cut++) {
      const parser = new RespParser();
      const replies = [...parser.push(wire.subarray(0, cut)), ...parser.push(wire.subarray(cut))];
      expect(replies, `cut at byte ${cut}`).toEqual(whole);
    }
    const parser = new RespParser();
    const replies = [...wire].flatMap((byte) => parser.push(Buffer.from([byte])));
    expect(replies).toEqual(whole);
  });

  it('waits for a large bulk reply instead of returning part of it', () => {
    const value = Buffer.alloc(300_000, 'a');
    const bytes = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
    const parser = new RespParser();
    const replies: RespReply[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) replies.push(...parser.push(bytes.subarray(at, at + 65_536)));
    expect(replies).toHaveLength(1);
    expect((replies[0] as Buffer).equals(value)).toBe(true);
  });

  it('encodes a command as an array of bulk strings, bytes as they are', () => {
    expect(encodeCommand(['SET', 'k', Buffer.from([0xff, 0x0d, 0x0a])]).toString('latin1')).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\xff\r\n\r\n',
    );
    expect(encodeCommand(['SET', 'ü', '1']).toString('utf8')).toBe('*3\r\n$3\r\nSET\r\n$2\r\nü\r\n$1\r\n1\r\n');
  });
});
