import { serviceUnavailable } from '../../shared/http/problem';
import type { PaymentsBindings } from './env';

/** One imported key per secret, per isolate (importing is the costly part). */
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    keys.set(secret, key);
  }
  return key;
}

/**
 * A card's fingerprint, as processors give merchants one: the same card always has the same
 * fingerprint, and the number cannot be recovered from it. HMAC-SHA256 under the
 * CARD_FINGERPRINT_KEY secret (a plain SHA-256 would not do: a card number has so few unknown
 * digits that its hash is reversed by trying them all). Without the secret nothing is tokenized:
 * 503, and the error log says what is missing.
 */
export async function cardFingerprint(env: Pick<PaymentsBindings, 'CARD_FINGERPRINT_KEY'>, card: string): Promise<string> {
  const secret = env.CARD_FINGERPRINT_KEY;
  if (!secret) throw serviceUnavailable('Card tokenization is not configured (CARD_FINGERPRINT_KEY); nothing was stored.');
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await keyOf(secret), new TextEncoder().encode(card)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}
