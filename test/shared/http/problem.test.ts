import { describe, expect, it } from 'vitest';
import {
  badRequest,
  contentTooLarge,
  fieldErrorsOf,
  HttpError,
  isHttpError,
  notFound,
  PROBLEM_CONTENT_TYPE,
  problemResponse,
  problemType,
  serviceUnavailable,
  statusTitle,
  toProblem,
  unauthorized,
  validationFailed,
} from '../../../shared/http/problem';

describe('HttpError', () => {
  it('derives title and type from the status when none is given', () => {
    const error = new HttpError(404);
    expect(error.status).toBe(404);
    expect(error.title).toBe('Not Found');
    expect(error.type).toBe('/problems/not-found');
    expect(error.detail).toBeUndefined();
    expect(error.message).toBe('Not Found');
    expect(error.headers).toEqual({});
  });

  it('uses the detail as the message and keeps an explicit type slug, errors, headers and cause', () => {
    const cause = new Error('root');
    const error = new HttpError(429, {
      type: 'rate-limited',
      detail: 'Slow down.',
      errors: [{ path: 'a', message: 'b' }],
      headers: { 'retry-after': '3' },
      cause,
    });
    expect(error.message).toBe('Slow down.');
    expect(error.type).toBe('/problems/rate-limited');
    expect(error.title).toBe('Too Many Requests');
    expect(error.errors).toEqual([{ path: 'a', message: 'b' }]);
    expect(error.headers).toEqual({ 'retry-after': '3' });
    expect(error.cause).toBe(cause);
  });

  it('falls back to a generic title for statuses it has no name for', () => {
    expect(statusTitle(418)).toBe('Client Error');
    expect(statusTitle(599)).toBe('Server Error');
    expect(new HttpError(599).type).toBe('/problems/server-error');
  });

  it('turns multi-word titles into hyphenated slugs', () => {
    expect(new HttpError(415).type).toBe('/problems/unsupported-media-type');
    expect(new HttpError(413).type).toBe('/problems/content-too-large');
  });
});

describe('isHttpError', () => {
  it('recognises an HttpError', () => {
    expect(isHttpError(notFound('gone'))).toBe(true);
  });

  it('recognises a plain object copy of an HttpError (class identity lost, marker kept)', () => {
    const copy = { ...new HttpError(409, { detail: 'taken' }) };
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(isHttpError(copy)).toBe(true);
    expect(toProblem(copy as HttpError, { instance: '/x' })).toMatchObject({ status: 409, detail: 'taken', title: 'Conflict' });
  });

  it('recognises a structured clone of an HttpError', () => {
    const clone: unknown = JSON.parse(JSON.stringify(new HttpError(400)));
    expect(isHttpError(clone)).toBe(true);
  });

  it('rejects ordinary errors, nulls, primitives and a truthy but non-true marker', () => {
    expect(isHttpError(new Error('boom'))).toBe(false);
    expect(isHttpError(null)).toBe(false);
    expect(isHttpError(undefined)).toBe(false);
    expect(isHttpError('HttpError')).toBe(false);
    expect(isHttpError({ isHttpError: 'yes' })).toBe(false);
  });
});

describe('error constructors', () => {
  it('badRequest is a validation failure only when it carries field errors', () => {
    expect(badRequest('nope').type).toBe('/problems/bad-request');
    expect(badRequest('nope', [{ path: 'x', message: 'y' }]).type).toBe('/problems/validation-failed');
    expect(validationFailed([{ path: 'x', message: 'y' }])).toMatchObject({ status: 400, type: '/problems/validation-failed' });
  });

  it('carries response headers for 401 and 503', () => {
    expect(unauthorized('who?', { 'www-authenticate': 'Bearer' }).headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(serviceUnavailable('later', { 'retry-after': '10' }).headers).toEqual({ 'retry-after': '10' });
  });

  it('contentTooLarge names the limit', () => {
    expect(contentTooLarge(1024)).toMatchObject({ status: 413, detail: 'The request body is larger than 1024 bytes.' });
  });
});

describe('toProblem', () => {
  it('fills in instance and requestId and defaults detail to the title', () => {
    expect(toProblem(new HttpError(404), { instance: '/items/1', requestId: 'req-1' })).toEqual({
      type: problemType('not-found'),
      title: 'Not Found',
      status: 404,
      detail: 'Not Found',
      instance: '/items/1',
      requestId: 'req-1',
    });
  });

  it('leaves requestId and errors out when there are none', () => {
    const problem = toProblem(notFound('No item.'), { instance: '/items/1' });
    expect(problem).not.toHaveProperty('requestId');
    expect(problem).not.toHaveProperty('errors');
    expect(problem.detail).toBe('No item.');
  });

  it('includes field errors', () => {
    const errors = [{ path: 'items.0.quantity', message: 'Too small' }];
    expect(toProblem(validationFailed(errors), { instance: '/' }).errors).toEqual(errors);
  });
});

describe('problemResponse', () => {
  it('answers with the problem status, problem+json content type and the problem as body', async () => {
    const problem = toProblem(notFound('No item.'), { instance: '/items/1', requestId: 'r' });
    const response = problemResponse(problem);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(await response.json()).toEqual(problem);
  });

  it('adds the extra headers but never lets them override the content type', () => {
    const response = problemResponse(toProblem(new HttpError(503), { instance: '/' }), {
      'retry-after': '5',
      'content-type': 'text/html',
    });
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('replaces a Content-Type given in another letter case instead of doubling it', () => {
    const response = problemResponse(toProblem(new HttpError(500), { instance: '/' }), { 'Content-Type': 'text/html' });
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  });
});

describe('fieldErrorsOf', () => {
  it('keeps the well-formed errors of a problem body another service answered', () => {
    const body = { detail: 'The request is not valid; see errors.', errors: [{ path: 'items', message: 'too many', extra: 1 }, { path: 3 }, 'x'] };
    expect(fieldErrorsOf(body)).toEqual([{ path: 'items', message: 'too many' }]);
  });

  it('is undefined when there are none', () => {
    for (const body of [null, 'text', {}, { errors: [] }, { errors: 'no' }, { errors: [{ path: 1, message: 2 }] }]) expect(fieldErrorsOf(body)).toBeUndefined();
  });
});
