import type { RespReply } from './resp.mjs';

/** One Redis reply as Upstash's JSON text; `top` (default true) is the reply itself, not an element of one. */
export function encodeReply(reply: RespReply, base64: boolean, top?: boolean): string;
