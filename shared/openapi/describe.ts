import type { RouteConfig } from '@hono/zod-openapi';
import { z, type ZodType } from 'zod';
import { PROBLEM_CONTENT_TYPE, problemType, statusSlug, statusTitle } from '../http/problem';

/**
 * Building blocks for describing routes with @hono/zod-openapi (`createRoute`): a body or answer
 * is always a zod schema with an example beside it. The schemas are the ones the handlers
 * validate with (imported from the services' schema files), so the description cannot say one
 * thing while the validator does another; the examples are checked against those very schemas
 * by a test (test/workers/gateway/openapi.test.ts), so they cannot drift either. Answers' objects
 * are `z.strictObject`: the conformance test parses real answers with them, and a key a handler
 * sends that the document does not name (or the other way round) then fails it instead of being
 * stripped in silence; where a handler has a type, same-type.ts checks the schema against it.
 */

/** A response described in place (never a `$ref`: every response here is built by these helpers). */
export type ResponseConfig = Exclude<RouteConfig['responses'][string], { $ref: string }>;
export type Responses = Record<string, ResponseConfig>;
export type HeadersObject = NonNullable<Extract<ResponseConfig['headers'], Record<string, unknown>>>;

/** JSON content: the schema and an example that must parse with it (as the schema's input). */
export const jsonContent = <Schema extends ZodType>(schema: Schema, example: z.input<Schema>, mediaType = 'application/json') => ({
  [mediaType]: { schema, example },
});

/** A JSON request body, required. */
export const jsonBody = <Schema extends ZodType>(schema: Schema, example: z.input<Schema>, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: jsonContent(schema, example),
});

/** A JSON answer with its example, and the headers that matter on it. */
export const jsonResponse = <Schema extends ZodType>(description: string, schema: Schema, example: z.input<Schema>, headers?: HeadersObject): ResponseConfig => ({
  description,
  content: jsonContent(schema, example),
  ...(headers ? { headers } : {}),
});

/** An answer without a body (204, or a 2xx that says everything in its status). */
export const emptyResponse = (description: string, headers?: HeadersObject): ResponseConfig => ({ description, ...(headers ? { headers } : {}) });

/** RFC 9457 problem details, as shared/http/problem.ts renders every error (docs/api.md "Every response"). */
export const problemSchema = z
  .strictObject({
  type: z.string().describe('A relative URI reference naming the kind of problem, e.g. `/problems/not-found`.'),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  instance: z.string().describe('The path that was asked for.'),
  requestId: z.string().describe('The `x-request-id` of the request: find its log lines by it.').optional(),
  errors: z
    .array(z.strictObject({ path: z.string().describe('Dot-separated, e.g. `items.0.quantity`.'), message: z.string() }))
    .describe('Validation failures (400) only: one per bad field.')
    .optional(),
  })
  // One named component (`#/components/schemas/Problem`), not a copy in every error answer.
  .meta({ id: 'Problem' });

export type ProblemExample = z.input<typeof problemSchema>;

/** A problem answer's example, its type and title as problem.ts derives them from the status. */
export const problemExample = (status: number, detail: string, extra: Partial<ProblemExample> = {}): ProblemExample => ({
  type: problemType(statusSlug(status)),
  title: statusTitle(status),
  status,
  detail,
  // The gateway's document sets each example's instance to the path it answers.
  instance: '/',
  requestId: '0f8e4b0c-3c1e-4a52-9a3a-52b1d3c2a001',
  ...extra,
});

/** A 400 for input the schema refused, with its field errors. */
export const validationProblem = (errors: { path: string; message: string }[]): ProblemExample =>
  problemExample(400, 'The request is not valid; see errors.', { type: problemType('validation-failed'), errors });

/** A problem+json answer for `status`, with `detail` as its example (or a full example). */
export const problemResponse = (status: number, description: string, example: string | ProblemExample = description, headers?: HeadersObject): ResponseConfig => ({
  description,
  content: jsonContent(problemSchema, typeof example === 'string' ? problemExample(status, example) : example, PROBLEM_CONTENT_TYPE),
  ...(headers ? { headers } : {}),
});

/** Headers by name, described once (docs/api.md "Every response" and the headers its routes use). */
export const header = {
  etag: { description: 'The resource version this answer shows (a strong ETag): send it back in `If-Match` to write only if nothing changed since.', schema: { type: 'string' }, example: '"3"' },
  location: { description: 'Where the created resource is read.', schema: { type: 'string' } },
  retryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 }, example: 5 },
  idempotentReplayed: { description: '`true` when this is the answer to an earlier request with the same Idempotency-Key, replayed.', schema: { type: 'string', enum: ['true'] } },
  wwwAuthenticate: { description: 'The scheme to authenticate with.', schema: { type: 'string' }, example: 'Bearer realm="stratus"' },
  cacheControl: { description: 'How caches may keep this answer.', schema: { type: 'string' } },
} satisfies HeadersObject;
