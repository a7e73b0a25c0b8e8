/**
 * RFC 9457 problem details: the one error shape every stratus worker answers with.
 *
 * Errors are thrown where they arise as `HttpError`s and turned into a response by one
 * `onError` per app (shared/middleware/problem-handlers.ts); no worker hand-builds an error body.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One failed field of a validation error: `path` is dot-separated (`items.0.quantity`). */
export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

/**
 * Problem types are relative URI references (`/problems/not-found`), resolved against the
 * gateway that answered; RFC 9457 allows that, and it keeps the suite free of any fixed host.
 */
export const problemType = (slug: string): string => `/problems/${slug}`;

export interface HttpErrorOptions {
  /** Short slug for the problem type; defaults to one derived from the status. */
  type?: string;
  detail?: string;
  errors?: FieldError[];
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  426: 'Upgrade Required',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const statusTitle = (status: number): string => STATUS_TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');

/** The problem type's slug for a status without a more specific one: `404` → `not-found`. */
export const statusSlug = (status: number): string => statusTitle(status).toLowerCase().replace(/[^a-z]+/g, '-');

export class HttpError extends Error {
  /**
   * Marker property instead of `instanceof`: it survives bundling (two copies of this module)
   * and structured cloning over RPC, where class identity does not.
   */
  readonly isHttpError = true as const;
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, options: HttpErrorOptions = {}) {
    super(options.detail ?? statusTitle(status), { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.title = statusTitle(status);
    this.type = problemType(options.type ?? statusSlug(status));
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export const isHttpError = (error: unknown): error is HttpError =>
  typeof error === 'object' && error !== null && (error as { isHttpError?: unknown }).isHttpError === true;

// Constructors for the errors every worker raises, so call sites read as what went wrong.
export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpError(400, { type: errors ? 'validation-failed' : 'bad-request', detail, errors });
export const validationFailed = (errors: FieldError[]) =>
  new HttpError(400, { type: 'validation-failed', detail: 'The request is not valid; see errors.', errors });
export const unauthorized = (detail: string, headers?: Record<string, string>) =>
  new HttpError(401, { detail, headers });
export const forbidden = (detail: string) => new HttpError(403, { detail });
export const notFound = (detail: string) => new HttpError(404, { detail });
export const conflict = (detail: string) => new HttpError(409, { detail });
export const contentTooLarge = (limitBytes: number) =>
  new HttpError(413, { detail: `The request body is larger than ${limitBytes} bytes.` });
export const unsupportedMediaType = (detail: string) => new HttpError(415, { detail });
export const badGateway = (detail: string, cause?: unknown) => new HttpError(502, { detail, cause });
export const gatewayTimeout = (detail: string) => new HttpError(504, { detail });
export const serviceUnavailable = (detail: string, headers?: Record<string, string>) =>
  new HttpError(503, { detail, headers });

/**
 * The well-formed `errors` of a problem body another service answered, or undefined: a caller
 * that passes a participant's refusal on (its `detail` may say "see errors") passes these with it.
 */
export function fieldErrorsOf(body: unknown): FieldError[] | undefined {
  const errors = body && typeof body === 'object' ? (body as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors)) return undefined;
  const wellFormed = errors.filter(
    (e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).path === 'string' && typeof (e as FieldError).message === 'string',
  );
  return wellFormed.length > 0 ? wellFormed.map(({ path, message }) => ({ path, message })) : undefined;
}

/** The body of a problem response, with the request's identity filled in. */
export function toProblem(error: HttpError, context: { instance: string; requestId?: string }): ProblemDetails {
  const problem: ProblemDetails = {
    type: error.type,
    title: error.title,
    status: error.status,
    detail: error.detail ?? error.title,
    instance: context.instance,
  };
  if (context.requestId) problem.requestId = context.requestId;
  if (error.errors) problem.errors = error.errors;
  return problem;
}

export function problemResponse(problem: ProblemDetails, headers: Record<string, string> = {}): Response {
  // Through Headers, so a `Content-Type` in any letter case is replaced, not doubled.
  const responseHeaders = new Headers(headers);
  responseHeaders.set('content-type', PROBLEM_CONTENT_TYPE);
  return new Response(JSON.stringify(problem), { status: problem.status, headers: responseHeaders });
}
