export interface SigningKeyPair {
  privateJwk: JsonWebKey & { kid: string; alg: string };
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
}
export function generateSigningKeyPair(kid: string): Promise<SigningKeyPair>;
export function publicPart(privateJwk: JsonWebKey & { kid?: string; alg?: string }): JsonWebKey & { kid: string; alg: string; use: string };
export function readDevVar(file: string, name: string): string | undefined;
export function writeDevVar(file: string, name: string, value: string): void;
export function ensureServiceTokenKeys(options?: { log?: (line: string) => void }): Promise<void>;
