export const LOCAL_QSTASH_PORT: number;
export const LOCAL_QSTASH_TOKEN: string;
export const LOCAL_QSTASH_CURRENT_SIGNING_KEY: string;
export const LOCAL_QSTASH_NEXT_SIGNING_KEY: string;
