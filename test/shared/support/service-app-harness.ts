import type { Context } from 'hono';
import { createServiceApp, type ServiceAppOptions } from '../../../shared/middleware/service-app';
import type { CompletedRequest } from '../../../shared/middleware/request-context';

export interface TestBindings {
  BODY_LIMIT_BYTES?: string;
  LOG_LEVEL?: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId?: string;
  errors?: { path: string; message: string }[];
}

export type LogRecord = Record<string, unknown> & { level: string; msg: string };

/**
 * A service app as every worker builds it, with its log lines captured, a clock the test moves
 * (`advance`) and every completed request recorded.
 */
export function harness(options: Partial<ServiceAppOptions> = {}) {
  const lines: string[] = [];
  const completed: CompletedRequest[] = [];
  let clock = 1_700_000_000_000;
  const app = createServiceApp<TestBindings>({
    service: 'test-svc',
    write: (line) => lines.push(line),
    now: () => clock,
    onComplete: (_: Context, request: CompletedRequest) => completed.push(request),
    ...options,
  });
  return {
    app,
    lines,
    completed,
    advance: (ms: number) => {
      clock += ms;
    },
    logs: () => lines.map((line) => JSON.parse(line) as LogRecord),
    requestLogs: () => lines.map((line) => JSON.parse(line) as LogRecord).filter((record) => record.msg === 'request'),
  };
}

export async function problemOf(response: Response): Promise<ProblemBody> {
  const contentType = response.headers.get('content-type');
  if (contentType !== 'application/problem+json') throw new Error(`expected a problem+json response, got ${contentType}`);
  return (await response.json()) as ProblemBody;
}

/** A JSON request with the content-length a real client sends (Node's Request does not add one). */
export function jsonRequest(body: string, headers: Record<string, string> = {}, method = 'POST'): RequestInit {
  return {
    method,
    body,
    headers: { 'content-type': 'application/json', 'content-length': String(new TextEncoder().encode(body).length), ...headers },
  };
}
