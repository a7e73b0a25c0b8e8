import { z } from 'zod';
import { envConfig } from '../../shared/validation/env-config';
import type { UsersBindings } from './env';

/** A P-256 coordinate or private scalar: 32 bytes, base64url without padding. */
const coordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url');
const kid = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 of A-Z a-z 0-9 . _ : -');

/** A public EC P-256 key as published in the JWKS (RFC 7517/7518). */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/** JSON text parsed inside the schema, so a syntax error is an issue naming the variable. */
const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Never the text itself in the message: the variable may hold a private key.
    ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    return z.NEVER;
  }
});

const privateJwk = z.string({ error: 'is required (an EC P-256 private JWK, as JSON)' }).pipe(jsonText).pipe(
  // Other members WebCrypto exports (ext, key_ops, alg...) are allowed and ignored.
  z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: coordinate, y: coordinate, d: coordinate }),
);

/**
 * Earlier public keys, kept in the JWKS after a rotation until every token they signed has
 * expired (15 minutes). `.strict()`: a private member (`d`) in this list is refused outright.
 */
const previousPublicJwks = z
  .string()
  .optional()
  .transform((text) => (text?.trim() ? text : '[]'))
  .pipe(jsonText)
  .pipe(
    z.array(
      z
        .object({
          kty: z.literal('EC'),
          crv: z.literal('P-256'),
          x: coordinate,
          y: coordinate,
          kid,
          alg: z.literal('ES256').optional(),
          use: z.literal('sig').optional(),
          key_ops: z.array(z.string()).optional(),
          ext: z.boolean().optional(),
        })
        .strict(),
    ),
  );

const withDefault = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((value) => value?.trim() || fallback);

const configSchema = z
  .object({
    ACCESS_TOKEN_PRIVATE_JWK: privateJwk,
    ACCESS_TOKEN_KID: z.string({ error: 'is required' }).pipe(kid),
    ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS: previousPublicJwks,
    ACCESS_TOKEN_ISSUER: withDefault('stratus-users'),
    ACCESS_TOKEN_AUDIENCE: withDefault('stratus'),
  })
  .superRefine((config, ctx) => {
    const kids = [config.ACCESS_TOKEN_KID, ...config.ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS.map((key) => key.kid)];
    if (new Set(kids).size !== kids.length) {
      ctx.addIssue({ code: 'custom', path: ['ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS'], message: 'every kid must be unique, the current one included' });
    }
  });

export interface UsersConfig {
  /** The private key that signs access tokens, and its kid. */
  signing: { privateJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string }; kid: string };
  /** What GET /.well-known/jwks.json publishes: the current public key first, then earlier ones. */
  publicJwks: PublicJwk[];
  issuer: string;
  audience: string;
}

const toPublic = (key: { x: string; y: string; kid: string }): PublicJwk => ({
  kty: 'EC',
  crv: 'P-256',
  x: key.x,
  y: key.y,
  kid: key.kid,
  alg: 'ES256',
  use: 'sig',
});

/**
 * The users worker's token configuration, parsed once per environment object: a missing or bad
 * key is one clear error naming the variable (never its value), not an `undefined` mid-request.
 */
export const usersConfig: (env: UsersBindings) => UsersConfig = envConfig(configSchema, 'users', (parsed): UsersConfig => {
  const { ACCESS_TOKEN_PRIVATE_JWK: jwk, ACCESS_TOKEN_KID: currentKid, ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS: previous } = parsed;
  return {
    signing: { privateJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }, kid: currentKid },
    publicJwks: [toPublic({ ...jwk, kid: currentKid }), ...previous.map(toPublic)],
    issuer: parsed.ACCESS_TOKEN_ISSUER,
    audience: parsed.ACCESS_TOKEN_AUDIENCE,
  };
});
