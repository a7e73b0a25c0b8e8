import type { IncomingMessage } from 'node:http';
export function readBody(req: IncomingMessage, options: { maxBytes: number; error: (status: number, message: string) => Error }): Promise<Buffer>;
