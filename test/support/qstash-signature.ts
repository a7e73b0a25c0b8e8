import { base64url, SignJWT } from 'jose';

/**
 * An `Upstash-Signature` made exactly as QStash makes it, so a consumer's
 * verification with the official `Receiver` can be tested without a QStash server: a JWT, HS256,
 * whose HMAC key is the signing key string's UTF-8 bytes, with `iss: "Upstash"`, `sub` the
 * destination URL, `body` = base64url(SHA-256(raw body)), and 5 minutes of validity.
 * Web-standard (jose + crypto.subtle), so it runs in workerd and in Node alike.
 */
export async function qstashSignature(
  signingKey: string,
  {
    url,
    body,
    now = Date.now(),
    ttlSeconds = 300,
    issuer = 'Upstash',
    padded = false,
  }: {
    url: string;
    body: string;
    now?: number;
    ttlSeconds?: number;
    /** Another issuer than QStash's, to see it refused. */
    issuer?: string;
    /** Keep base64url's `=` padding on the body hash (the Receiver ignores it). */
    padded?: boolean;
  },
): Promise<string> {
  const hash = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))));
  const iat = Math.floor(now / 1000);
  return new SignJWT({ body: padded ? `${hash}=` : hash })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(url)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(`jwt_${crypto.randomUUID().replace(/-/g, '')}`)
    .sign(new TextEncoder().encode(signingKey));
}

export interface DeliveryOptions {
  /** `Upstash-Message-Id`; a new one unless given (give the same one to simulate a redelivery). */
  messageId?: string;
  /** `Upstash-Retried`: 0 on the first try. */
  retried?: number;
  /** Sign with this key instead (e.g. the next key, or a wrong one). */
  signingKey?: string;
  /** Sign for this URL instead of the delivery's (a wrong `sub`). */
  signedUrl?: string;
  /** Sign this body instead of the one sent (a tampered body). */
  signedBody?: string;
  /** Send no signature at all. */
  unsigned?: boolean;
  headers?: Record<string, string>;
}

/**
 * A QStash delivery to `url` as a RequestInit: the raw body, `Upstash-Signature`,
 * `Upstash-Message-Id`, `Upstash-Retried`, the user agent QStash sends, and a CloudEvents
 * content type.
 */
export async function qstashDelivery(signingKey: string, url: string, body: string, options: DeliveryOptions = {}): Promise<RequestInit> {
  const headers: Record<string, string> = {
    'content-type': 'application/cloudevents+json',
    'user-agent': 'Upstash-QStash',
    'upstash-message-id': options.messageId ?? `msg_${crypto.randomUUID().replace(/-/g, '')}`,
    'upstash-retried': String(options.retried ?? 0),
    ...options.headers,
  };
  if (!options.unsigned) {
    headers['upstash-signature'] = await qstashSignature(options.signingKey ?? signingKey, {
      url: options.signedUrl ?? url,
      body: options.signedBody ?? body,
    });
  }
  return { method: 'POST', headers, body };
}
