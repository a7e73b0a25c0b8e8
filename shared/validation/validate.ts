import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { ZodType } from 'zod';
import { validationFailed, type FieldError } from '../http/problem';

/** zod issues as docs/api.md's `errors: [{path, message}]`, paths dot-joined (`items.0.quantity`). */
export function toFieldErrors(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/**
 * Hono's zod validator with stratus's error shape: a failure throws a 400 problem with field
 * errors, which the app's `onError` renders, so every worker reports bad input the same way.
 */
export const validate = <Target extends keyof ValidationTargets, Schema extends ZodType>(target: Target, schema: Schema) =>
  zValidator(target, schema, (result) => {
    if (!result.success) throw validationFailed(toFieldErrors(result.error));
  });
