export function signAccessToken(key: CryptoKey, kid: string, userId: string, roles?: string[]): Promise<string>;
