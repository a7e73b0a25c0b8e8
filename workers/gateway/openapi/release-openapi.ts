import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { emptyResponse, header, jsonBody, jsonResponse, problemExample, problemResponse, validationProblem } from '../../../shared/openapi/describe';
import { rolloutBodySchema } from '../../../shared/routing/canary-rollout';
import { flagBodySchema } from '../ops/flag-routes';

/**
 * The operator's release endpoints (docs/api.md "Operations"): feature flags changed at run time
 * (ops/flag-routes.ts) and automated canary rollouts (ops/rollout-routes.ts), described with the
 * schemas those handlers validate with. Spread into the gateway's document (gateway-openapi.ts).
 */

const ops: Pick<RouteConfig, 'tags' | 'security'> = { tags: ['ops'], security: [{ adminToken: [] }] };
const opsUnauthorized = problemResponse(401, 'No operator token, or the wrong one.', 'The operations endpoints need Authorization: Bearer <ADMIN_TOKEN>.', {
  'WWW-Authenticate': { ...header.wwwAuthenticate, example: 'Bearer realm="stratus-ops"' },
});
const noRoute = problemResponse(404, 'No route with versions by that name.', 'No route with versions named "nope"; routes with versions are catalog.');

const flagView = z.strictObject({
  enabled: z.boolean(),
  rolloutPercent: z.number().min(0).max(100),
  allow: z.array(z.string()).optional(),
  deny: z.array(z.string()).optional(),
  source: z.enum(['default', 'operator']).describe('`default`: the FEATURE_FLAGS var; `operator`: set at run time (it replaces the default of the same key).'),
  updatedAt: z.iso.datetime().optional().describe('When an operator last set it.'),
});
const flags = z.record(z.string(), flagView);
const flagExample = { enabled: true, rolloutPercent: 10, allow: ['usr_staff_1'], source: 'operator' as const, updatedAt: '2026-12-07T12:00:00.000Z' };

const canaryWindow = z.strictObject({ requests: z.number().int().min(0), errors: z.number().int().min(0), p99Ms: z.number().nullable() });
const transition = z.strictObject({
  at: z.iso.datetime(),
  event: z.enum(['started', 'promoted', 'held', 'completed', 'rolled-back', 'aborted']),
  from: z.number().int().min(0).max(100).describe("The canary's share before, percent."),
  to: z.number().int().min(0).max(100),
  reason: z.string(),
  window: canaryWindow.optional().describe("The canary's requests over the step, as judged."),
});
const rollout = z.strictObject({
  route: z.string(),
  canary: z.string(),
  stable: z.string(),
  status: z.enum(['running', 'completed', 'rolled-back', 'aborted']),
  steps: z.array(z.number().int()),
  holdSeconds: z.number(),
  maxErrorRate: z.number(),
  maxP99Ms: z.number().int(),
  minRequests: z.number().int(),
  step: z.number().int().min(1).describe('The step in force (1 is the first).'),
  canaryPercent: z.number().int().min(0).max(100),
  startedAt: z.iso.datetime(),
  stepStartedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().optional(),
  transitions: z.array(transition),
});
const rolloutExample: z.input<typeof rollout> = {
  route: 'catalog',
  canary: 'v2',
  stable: 'v1',
  status: 'rolled-back',
  steps: [10, 50, 100],
  holdSeconds: 300,
  maxErrorRate: 0.01,
  maxP99Ms: 800,
  minRequests: 1,
  step: 2,
  canaryPercent: 0,
  startedAt: '2026-12-07T12:00:00.000Z',
  stepStartedAt: '2026-12-07T12:05:00.000Z',
  endedAt: '2026-12-07T12:06:10.000Z',
  transitions: [
    { at: '2026-12-07T12:00:00.000Z', event: 'started', from: 0, to: 10, reason: 'step 1 of 3' },
    { at: '2026-12-07T12:05:00.000Z', event: 'promoted', from: 10, to: 50, reason: 'step 2 of 3', window: { requests: 812, errors: 2, p99Ms: 240 } },
    { at: '2026-12-07T12:06:10.000Z', event: 'rolled-back', from: 50, to: 0, reason: 'error rate 0.031 over 1650 requests is above 0.01', window: { requests: 1650, errors: 51, p99Ms: 310 } },
  ],
};

export const releaseOperations: RouteConfig[] = [
  createRoute({
    method: 'get',
    path: '/_ops/flags',
    ...ops,
    summary: 'Feature flags in force',
    description: 'The FEATURE_FLAGS defaults with the operators\' run-time changes over them.',
    responses: { 200: jsonResponse('Every flag.', flags, { 'new-checkout': flagExample }), 401: opsUnauthorized },
  }),
  createRoute({
    method: 'put',
    path: '/_ops/flags/{key}',
    ...ops,
    summary: 'Set a feature flag at run time',
    description: 'Replaces the flag (a list left out is emptied; `rolloutPercent` left out is 100). Used through this isolate at once, by every other within `FLAGS_REFRESH_MS` (1 s), no deploy.',
    request: { params: z.object({ key: z.string() }), body: jsonBody(flagBodySchema, { enabled: true, rolloutPercent: 10, allow: ['usr_staff_1'] }) },
    responses: {
      200: jsonResponse('The flag now.', flags, { 'new-checkout': flagExample }),
      400: problemResponse(400, 'A body or key that is not a flag.', validationProblem([{ path: 'rolloutPercent', message: 'Too big: expected number to be <=100' }])),
      401: opsUnauthorized,
      409: problemResponse(409, 'A new key past the limit of flags.', problemExample(409, 'At most 100 flags (defaults included); change or remove one (DELETE /_ops/flags/:key) first.', { type: '/problems/too-many-flags' })),
    },
  }),
  createRoute({
    method: 'delete',
    path: '/_ops/flags/{key}',
    ...ops,
    summary: "Forget an operator's flag",
    description: 'Its FEATURE_FLAGS default applies again (or the flag is gone, if it has none).',
    request: { params: z.object({ key: z.string() }) },
    responses: { 204: emptyResponse('Back to the default.'), 401: opsUnauthorized, 404: problemResponse(404, 'No flag by that key was set by an operator.', 'No flag "nope" was set by an operator.') },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/rollouts',
    ...ops,
    summary: 'Canary rollouts of every versioned route',
    responses: { 200: jsonResponse('Each versioned route\'s rollout, running or the last ended; null when it never had one.', z.record(z.string(), rollout.nullable()), { catalog: rolloutExample }), 401: opsUnauthorized },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/rollouts/{route}',
    ...ops,
    summary: 'Start an automated canary rollout',
    description:
      "The canary gets each step's share of traffic in turn, held `holdSeconds` (fractional allowed) while its error rate (5xx) and p99 over the step are watched; crossing `maxErrorRate` or `maxP99Ms` rolls it back to 0 on its own. A step with fewer than `minRequests` canary requests is held on. One rollout per route at a time.",
    request: { params: z.object({ route: z.string() }), body: jsonBody(rolloutBodySchema, { steps: [10, 50, 100], holdSeconds: 300, maxErrorRate: 0.01, maxP99Ms: 800 }) },
    responses: {
      201: jsonResponse('Started.', rollout, { ...rolloutExample, status: 'running', step: 1, canaryPercent: 10, endedAt: undefined, transitions: rolloutExample.transitions.slice(0, 1) }, { Location: header.location }),
      400: problemResponse(400, 'A plan that cannot run.', validationProblem([{ path: 'steps.1', message: 'the last step is 100 (the canary takes all traffic)' }])),
      401: opsUnauthorized,
      404: noRoute,
      409: problemResponse(409, 'A rollout of this route is running.', problemExample(409, 'A rollout of catalog is running (step 1, 10% on v2); abort it first (DELETE /_ops/rollouts/catalog).', { type: '/problems/rollout-active' })),
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/rollouts/{route}',
    ...ops,
    summary: "A route's canary rollout",
    request: { params: z.object({ route: z.string() }) },
    responses: { 200: jsonResponse('Running, or the last one ended, with every transition.', rollout, rolloutExample), 401: opsUnauthorized, 404: noRoute },
  }),
  createRoute({
    method: 'delete',
    path: '/_ops/rollouts/{route}',
    ...ops,
    summary: 'Abort a running rollout',
    description: "The canary's share goes back to 0 at once. An optional body `{note}` is recorded.",
    request: { params: z.object({ route: z.string() }) },
    responses: {
      200: jsonResponse('Aborted.', rollout, { ...rolloutExample, status: 'aborted', transitions: [rolloutExample.transitions[0]!, { at: '2026-12-07T12:01:00.000Z', event: 'aborted', from: 10, to: 0, reason: 'aborted by an operator' }] }),
      401: opsUnauthorized,
      404: noRoute,
      409: problemResponse(409, 'No rollout of this route is running.', problemExample(409, 'No rollout of catalog is running.', { type: '/problems/no-rollout-running' })),
    },
  }),
];
