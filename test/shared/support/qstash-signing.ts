import { qstashSignature } from '../../support/qstash-signature';

export const CURRENT_KEY = 'sig_current_0123456789abcdef';
export const NEXT_KEY = 'sig_next_fedcba9876543210';

export interface SignOptions {
  url: string;
  body: string;
  key?: string;
  /** Epoch seconds the token was made; default now. */
  iat?: number;
  ttlSeconds?: number;
  issuer?: string;
  /** Keep base64url's `=` padding on the body hash (the Receiver ignores it). */
  padded?: boolean;
}

/**
 * An `Upstash-Signature` as QStash makes it, for the shared library's Node tests: the one signer
 * in test/support/qstash-signature.ts (also used by the workerd tests), with this suite's keys.
 */
export const signAsQStash = ({ url, body, key = CURRENT_KEY, iat, ttlSeconds, issuer, padded }: SignOptions): Promise<string> =>
  qstashSignature(key, { url, body, now: iat === undefined ? undefined : iat * 1000, ttlSeconds, issuer, padded });
