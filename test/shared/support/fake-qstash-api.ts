import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Decoded, as the client joins an unencoded destination URL into it. */
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type FakeAnswer = (request: ReceivedRequest) => { status: number; body: unknown };

/**
 * A stand-in for QStash's REST API on 127.0.0.1: records what the official client sends and
 * answers with `answer` (changeable per test). It delivers nothing; the local QStash server
 * (scripts/) is the full one.
 */
export async function fakeQStashApi(initial: FakeAnswer = () => ({ status: 200, body: { messageId: `msg_${crypto.randomUUID()}` } })) {
  const received: ReceivedRequest[] = [];
  let answer = initial;
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? '', path: decodeURI(request.url ?? ''), headers: request.headers, body };
      received.push(entry);
      const { status, body: json } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answerWith: (next: FakeAnswer) => {
      answer = next;
    },
    reset: () => {
      received.length = 0;
      answer = initial;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
