import { request } from 'node:http';

/** An answer as read by `getFrom`: status, headers (lower-case names), and the body as text. */
export interface PlainAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * GET `url` from the local address `localAddress` (any of 127.0.0.0/8 on Linux is this machine):
 * a second caller, as the gateway's socket sees it. `fetch` cannot choose its source address.
 */
export function getFrom(url: string, localAddress: string, headers: Record<string, string> = {}): Promise<PlainAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { localAddress, headers, agent: false, signal: AbortSignal.timeout(10_000) }, (incoming) => {
      let body = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (body += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
