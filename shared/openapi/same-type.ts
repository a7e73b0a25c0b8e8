/**
 * Compile-time checks that a response schema of the OpenAPI document describes exactly the type
 * its handler returns: not a key more or less, no field wider or narrower. The conformance test
 * (test/workers/gateway/openapi-conformance.test.ts) checks real answers against the schemas at
 * run time, but only for the cases it calls; these hold for every answer the types allow.
 *
 * `Equal` is the strict form (identity as the compiler sees it, via deferred conditional types):
 * two-way assignability alone would let an optional key on one side go unnoticed.
 */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Flattens intersections and mapped types so that equal shapes compare as equal. */
type Plain<T> = T extends (infer E)[] ? Plain<E>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;

/** The schema's parsed type and the handler's type are the same shape, all the way down. */
export type SameShape<A, B> = Equal<Plain<A>, Plain<B>>;

/** Does not compile unless its type argument is `true`: `describesExactly<SameShape<z.output<typeof view>, View>>()`. */
export const describesExactly = <_Check extends true>(): void => undefined;
