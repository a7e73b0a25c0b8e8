import { Receiver } from '@upstash/qstash';

export interface QStashSigningKeys {
  /** QSTASH_CURRENT_SIGNING_KEY. */
  currentSigningKey: string;
  /** QSTASH_NEXT_SIGNING_KEY: accepted too, so a key rotation never refuses a delivery in flight. */
  nextSigningKey: string;
  /** Seconds of clock skew tolerated on `nbf` / `exp`; default 5. */
  clockToleranceSeconds?: number;
}

export interface SignedDelivery {
  /** The `Upstash-Signature` header; missing means unsigned. */
  signature: string | null | undefined;
  /** The raw body, exactly as received. */
  body: string;
  /** The URL QStash delivered to: the signature's `sub` must be exactly this. */
  url: string;
}

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

export interface SignatureVerifier {
  verify(delivery: SignedDelivery): Promise<SignatureCheck>;
}

const isSignatureError = (error: unknown) => error instanceof Error && error.name === 'SignatureError';

/**
 * Verifies a QStash delivery with the official `Receiver` only (as QStash signs it: the JWT, HS256 with
 * the current key and then the next one, `iss` Upstash, `sub` the URL, `body` the raw body's
 * SHA-256). Dev mode is off, so the keys given are the only keys: nothing from the environment.
 *
 * A bad signature (unsigned, tampered body, another URL, expired, unknown key) is `valid: false`
 * with the Receiver's reason; anything else the Receiver throws is a fault and is thrown.
 */
export function qstashReceiver(keys: QStashSigningKeys): SignatureVerifier {
  const receiver = new Receiver({ currentSigningKey: keys.currentSigningKey, nextSigningKey: keys.nextSigningKey, devMode: false });
  const clockTolerance = keys.clockToleranceSeconds ?? 5;
  return {
    async verify({ signature, body, url }) {
      if (!signature) return { valid: false, reason: 'no Upstash-Signature header' };
      try {
        await receiver.verify({ signature, body, url, clockTolerance });
        return { valid: true };
      } catch (error) {
        if (isSignatureError(error)) return { valid: false, reason: (error as Error).message };
        throw error;
      }
    },
  };
}
