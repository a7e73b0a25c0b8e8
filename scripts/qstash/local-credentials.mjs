// Credentials for the LOCAL QStash server only (scripts/qstash-server.mjs). They are constants on
// purpose: every worker's .dev.vars gets the same values, so a restarted server still signs what
// the consumers verify and still accepts the publishers' token. They protect nothing and must
// never be used against a real QStash (whose token and signing keys come from its console).
export const LOCAL_QSTASH_PORT = 8080;
export const LOCAL_QSTASH_TOKEN = 'stratus-local-qstash-token-not-a-secret';
export const LOCAL_QSTASH_CURRENT_SIGNING_KEY = 'sig_stratus_local_current_not_a_secret';
export const LOCAL_QSTASH_NEXT_SIGNING_KEY = 'sig_stratus_local_next_not_a_secret';
