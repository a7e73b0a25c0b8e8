/** A RESP2 reply as the parser keeps it: status string, bulk bytes, exact integer, nil, array or error. */
export type RespReply = string | Buffer | bigint | null | RedisReplyError | RespReply[];

export class RedisReplyError extends Error {}
export class RedisConnectionError extends Error {}
export function encodeCommand(args: (string | Buffer)[]): Buffer;
export class RespParser {
  push(chunk: Buffer): RespReply[];
}
export class RedisConnection {
  constructor(redisUrl: string, options?: { connectTimeoutMs?: number });
  readonly url: string;
  exec(commands: (string | Buffer)[][]): Promise<RespReply[]>;
  close(): void;
}
